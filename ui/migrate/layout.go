package migrate

import "time"

// Layout is where vipd goes on a node and how the node's daemons are
// started and stopped there. DefaultLayout is a systemd host's; the lab
// has its own.
type Layout struct {
	// KeepalivedConf is the node's keepalived.conf: read, never written.
	KeepalivedConf string
	// Conf is vipd's own file, which migrate writes.
	Conf string
	// Binary is where a bare vipd binary is installed; a Debian package
	// puts vipd where it says.
	Binary string
	// Unit is the systemd unit written for a bare binary, and DropIn the
	// drop-in that points either kind at Conf; "" on a node without
	// systemd (Commands then start vipd).
	Unit, DropIn string
	// Stage is the directory files are put into before a script run as
	// root moves them in place: the login user's, so that SFTP needs no
	// privileges. "" is ~/.vipd-migrate.
	Stage string
	// Guard is the nginx guard vipd's file gets.
	Guard    Guard
	Commands Commands
	// Deadline bounds each daemon's coming up once started, in the
	// node-side script (default 15 s).
	Deadline time.Duration
}

// Commands are the shell commands the node-side scripts run. Each is a
// line of sh.
type Commands struct {
	KeepalivedStop, KeepalivedStart string
	// KeepalivedActive exits 0 while keepalived runs.
	KeepalivedActive    string
	VipdStart, VipdStop string
	// VipdPersist makes vipd the daemon that starts at boot, and
	// KeepalivedPersist keepalived again (a rollback).
	VipdPersist, KeepalivedPersist string
	// Reload makes the init system read the unit files again.
	Reload string
}

// DefaultLayout is a systemd host's (README: /usr/local/sbin/vipd and
// fixtures/configs/vipd.service; vipd's file where the Debian package's
// unit reads it).
var DefaultLayout = Layout{
	KeepalivedConf: "/etc/keepalived/keepalived.conf",
	Conf:           "/etc/vipd/keepalived.conf", // the Debian package's unit reads it (fixtures/release)
	Binary:         "/usr/local/sbin/vipd",
	Unit:           "/etc/systemd/system/vipd.service",
	DropIn:         "/etc/systemd/system/vipd.service.d/vipctl-migrate.conf",
	Guard:          DefaultGuard,
	Commands: Commands{
		KeepalivedStop:    "systemctl stop keepalived",
		KeepalivedStart:   "systemctl start keepalived",
		KeepalivedActive:  "systemctl is-active --quiet keepalived",
		VipdStart:         "systemctl start vipd",
		VipdStop:          "systemctl stop vipd",
		VipdPersist:       "systemctl enable --quiet vipd && systemctl disable --quiet keepalived",
		KeepalivedPersist: "systemctl disable --quiet vipd; systemctl enable --quiet keepalived",
		Reload:            "systemctl daemon-reload",
	},
	Deadline: 15 * time.Second,
}

// withDefaults fills what l leaves empty from DefaultLayout, except Unit,
// DropIn and the commands, which a node without systemd leaves empty on
// purpose.
func (l Layout) withDefaults() Layout {
	d := DefaultLayout
	if l.KeepalivedConf == "" {
		l.KeepalivedConf = d.KeepalivedConf
	}
	if l.Conf == "" {
		l.Conf = d.Conf
	}
	if l.Binary == "" {
		l.Binary = d.Binary
	}
	if l.Guard.URL == "" && l.Guard.PIDFile == "" {
		l.Guard = d.Guard
	}
	if l.Deadline <= 0 {
		l.Deadline = d.Deadline
	}
	return l
}
