package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
)

// debVipd is where the Debian package installs vipd (fixtures/release's
// VipdPath).
const debVipd = "/usr/sbin/vipd"

// Target is one node of the pair to migrate.
type Target struct {
	Name   string
	Node   Node
	Layout Layout // zero fields: DefaultLayout's
}

// nodePlan is what migrate found on a node and will do there.
type nodePlan struct {
	Target
	Arch    string // Go's name
	OS      string // /etc/os-release PRETTY_NAME, or ID
	Debian  bool
	Systemd bool
	Art     artifact
	Conf    *VipdConfig
	Stage   string // staging directory on the node
	Vipd    string // vipd's installed path
	check   string // the vipd that checks the file before it is installed
	files   []stagedFile
	scripts map[kind]*script
	pre     []string // the pre-flight's commands on the node
}

// stagedFile is a file put in the staging directory.
type stagedFile struct {
	Path string
	Data []byte
	Mode fs.FileMode
	From string // where it came from, for a binary ("" for text shown in full)
}

// nodeState is what a node runs, read over SSH.
type nodeState struct {
	Keepalived bool            // KeepalivedActive said so
	Vipd       *control.Status // nil: vipd does not answer
	Holds      bool            // a VIP is on one of its interfaces
	Err        error           // could not be read
}

// Daemon is what runs: "keepalived", "vipd", "both", "none" or
// "unknown".
func (s nodeState) Daemon() string {
	switch {
	case s.Err != nil:
		return "unknown"
	case s.Keepalived && s.Vipd != nil:
		return "both"
	case s.Keepalived:
		return "keepalived"
	case s.Vipd != nil:
		return "vipd"
	}
	return "none"
}

// vipdStates are vipd's instances' states: "BACKUP", "MASTER/BACKUP".
func (s nodeState) vipdStates() string {
	if s.Vipd == nil {
		return ""
	}
	var st []string
	for _, in := range s.Vipd.Instances {
		st = append(st, string(in.State))
	}
	return strings.Join(st, "/")
}

func (s nodeState) allVipd(want control.State) bool {
	if s.Vipd == nil || len(s.Vipd.Instances) == 0 {
		return false
	}
	for _, in := range s.Vipd.Instances {
		if in.State != want {
			return false
		}
	}
	return true
}

func (s nodeState) String() string {
	if s.Err != nil {
		return "unreadable: " + s.Err.Error()
	}
	d := s.Daemon()
	if v := s.vipdStates(); v != "" {
		d += " " + v
	}
	if s.Holds {
		d += ", holds the VIP"
	}
	return d
}

// sh makes a line of sh one command, so that sudo runs all of it.
func sh(line string) string { return "sh -c " + shq(line) }

const factsCmd = `printf 'machine=%s\n' "$(uname -m)"; [ -r /etc/os-release ] && . /etc/os-release; printf 'id=%s\nlike=%s\nname=%s\n' "${ID-}" "${ID_LIKE-}" "${PRETTY_NAME-}"; [ -d /run/systemd/system ] && echo systemd=yes; true`

// gather reads a node and plans its part. It changes nothing.
func (r *run) gather(ctx context.Context, t Target) (*nodePlan, error) {
	t.Layout = t.Layout.withDefaults()
	np := &nodePlan{Target: t, scripts: map[kind]*script{}}
	out, err := t.Node.Exec(ctx, sh(factsCmd))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s's system: %w", t.Name, err)
	}
	facts := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			facts[k] = v
		}
	}
	if np.Arch, err = goArch(facts["machine"]); err != nil {
		return nil, fmt.Errorf("%s: %w", t.Name, err)
	}
	np.OS = cmpOr(facts["name"], facts["id"], "unknown")
	np.Debian = facts["id"] == "debian" || facts["id"] == "ubuntu" || strings.Contains(facts["like"], "debian")
	np.Systemd = facts["systemd"] == "yes"
	if t.Layout.Unit != "" && !np.Systemd {
		return nil, fmt.Errorf("%s runs no systemd (no /run/systemd/system): vipctl migrate starts vipd and keepalived with systemctl", t.Name)
	}
	if np.Art, err = r.opts.Artifacts.find(np.Arch, np.Debian && np.Systemd); err != nil {
		return nil, fmt.Errorf("%s (%s, %s): %w", t.Name, facts["machine"], np.OS, err)
	}
	if np.Conf, err = BuildConfig(t.Name, t.Node.FS(), t.Layout.KeepalivedConf, t.Layout.Guard); err != nil {
		return nil, err
	}
	np.Stage = t.Layout.Stage
	if np.Stage == "" {
		home, err := t.Node.Home(ctx)
		if err != nil {
			return nil, fmt.Errorf("failed to find the login's home on %s: %w", t.Name, err)
		}
		np.Stage = path.Join(home, ".vipd-migrate")
	}
	if err := np.stageFiles(r.opts.Unit); err != nil {
		return nil, err
	}
	return np, nil
}

func cmpOr(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (np *nodePlan) staged(name string) string { return path.Join(np.Stage, name) }

// stageFiles lays out what goes to the node and how it is installed.
func (np *nodePlan) stageFiles(unit []byte) error {
	l := np.Layout
	bin, err := os.ReadFile(np.Art.Path)
	if err != nil {
		return fmt.Errorf("failed to read %s for %s: %w", np.Art, np.Name, err)
	}
	conf := np.staged("keepalived.conf")
	np.files = append(np.files, stagedFile{Path: conf, Data: np.Conf.Text, Mode: 0o644})
	install := []string{
		"install -d -m 0755 " + shq(path.Dir(l.Conf)),
		"install -m 0644 " + shq(conf) + " " + shq(l.Conf),
	}
	if np.Art.Deb {
		deb := np.staged(filepath.Base(np.Art.Path))
		np.files = append(np.files, stagedFile{Path: deb, Data: bin, Mode: 0o644, From: np.Art.Path})
		np.Vipd, np.check = debVipd, np.staged("root"+debVipd)
		np.pre = append(np.pre, sh("rm -rf "+shq(np.staged("root"))+" && dpkg-deb -x "+shq(deb)+" "+shq(np.staged("root"))))
		// The package's scripts start nothing (fixtures/release): it is
		// installed while keepalived still runs, and a failure leaves
		// keepalived untouched. The drop-in points its unit at l.Conf.
		install = append(install, "dpkg -i "+shq(deb))
		if l.DropIn != "" {
			drop := np.staged("vipctl-migrate.conf")
			np.files = append(np.files, stagedFile{Path: drop, Mode: 0o644, Data: fmt.Appendf(nil,
				"# vipctl migrate: vipd runs its own file; keepalived's stays as it was.\n[Service]\nExecStart=\nExecStart=%s -f %s\n", np.Vipd, l.Conf)})
			install = append(install, "install -d -m 0755 "+shq(path.Dir(l.DropIn)), "install -m 0644 "+shq(drop)+" "+shq(l.DropIn))
		}
	} else {
		staged := np.staged("vipd")
		np.files = append(np.files, stagedFile{Path: staged, Data: bin, Mode: 0o755, From: np.Art.Path})
		np.Vipd, np.check = l.Binary, staged
		install = append(install, "install -d -m 0755 "+shq(path.Dir(l.Binary)), "install -m 0755 "+shq(staged)+" "+shq(l.Binary))
		if l.Unit != "" {
			if len(unit) == 0 {
				return fmt.Errorf("no systemd unit for vipd to install on %s", np.Name)
			}
			u := np.staged("vipd.service")
			np.files = append(np.files, stagedFile{Path: u, Mode: 0o644, Data: unitFor(unit, l.Binary, l.Conf)})
			install = append(install, "install -m 0644 "+shq(u)+" "+shq(l.Unit))
		}
	}
	if l.Commands.Reload != "" {
		install = append(install, l.Commands.Reload)
	}
	np.pre = append(np.pre, np.check+" -t -f "+shq(conf))
	for _, k := range []kind{toVipd, handover, toKeepalived} {
		s := &script{Node: np.Name, Kind: k, Stage: np.Stage, Vipd: np.Vipd, Conf: l.Conf, VIPs: np.Conf.VIPs,
			Deadline: l.Deadline, Commands: l.Commands}
		switch k {
		case toVipd:
			s.Title, s.Name = "join as BACKUP on vipd", "to-vipd"
		case handover:
			s.Title, s.Name = "hand the VIP over and join on vipd", "handover"
		case toKeepalived:
			s.Title, s.Name = "roll back to keepalived", "to-keepalived"
		}
		if k != toKeepalived {
			s.Install = install
		}
		np.scripts[k] = s
	}
	return nil
}

// setSettle gives the handover script the wait for the peer: its
// Skew_Time and half a second.
func (np *nodePlan) setSettle(peerHandover time.Duration) {
	np.scripts[handover].Settle = peerHandover + 500*time.Millisecond
	for _, s := range np.scripts {
		np.files = slices.DeleteFunc(np.files, func(f stagedFile) bool { return f.Path == s.path("sh") })
	}
	for _, k := range []kind{toVipd, handover, toKeepalived} {
		s := np.scripts[k]
		np.files = append(np.files, stagedFile{Path: s.path("sh"), Data: []byte(s.Text()), Mode: 0o755})
	}
}

// unitFor is the unit with vipd at bin reading conf.
func unitFor(unit []byte, bin, conf string) []byte {
	lines := strings.Split(string(unit), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "ExecStart=") {
			lines[i] = fmt.Sprintf("ExecStart=%s -f %s", bin, conf)
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// state reads what the node runs now.
func (r *run) state(ctx context.Context, np *nodePlan) nodeState {
	var st nodeState
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if c := np.Layout.Commands.KeepalivedActive; c != "" {
		_, err := np.Node.Exec(ctx, sh(c))
		switch {
		case err == nil:
			st.Keepalived = true
		case isExit(err):
		default:
			st.Err = err
			return st
		}
	}
	if out, err := np.Node.Exec(ctx, sh(np.Vipd+" status --json")); err == nil {
		var s control.Status
		if json.Unmarshal(out, &s) == nil {
			st.Vipd = &s
		}
	} else if !isExit(err) {
		st.Err = err
		return st
	}
	out, err := np.Node.Exec(ctx, sh("ip -o addr show"))
	if err != nil {
		st.Err = err
		return st
	}
	st.Holds = holds(string(out), np.Conf.VIPs)
	return st
}

// isExit says err is a command's exit status, not a failure to run it.
func isExit(err error) bool {
	var se *ssh.ExitError
	var ee *exec.ExitError
	return errors.As(err, &se) && se.Status > 0 || errors.As(err, &ee)
}

// holds says whether `ip -o addr show` lists one of vips.
func holds(addrs string, vips []netip.Prefix) bool {
	for _, p := range vips {
		fam := " inet "
		if p.Addr().Is6() {
			fam = " inet6 "
		}
		if strings.Contains(addrs, fam+p.Addr().String()+"/") {
			return true
		}
	}
	return false
}
