package migrate

import (
	"fmt"
	"net/netip"
	"path"
	"strings"
	"time"
)

// kind is what a node-side script does.
type kind int

const (
	// toVipd installs vipd and moves the node from keepalived to vipd:
	// the BACKUP's step, which moves no VIP.
	toVipd kind = iota
	// handover is toVipd on the MASTER: keepalived's stop sends
	// priority 0 and the peer takes the VIP after Skew_Time; vipd starts
	// once the VIP has left and joins as BACKUP.
	handover
	// toKeepalived is a rollback: vipd stops, keepalived starts again.
	toKeepalived
)

// script is one step's node-side script. It is the only thing that
// changes the node, and it runs detached (setsid, nohup) and ends by
// itself: whatever becomes of vipctl or the SSH link, it leaves the node
// with a daemon running: vipd if it came up, else keepalived again.
type script struct {
	Node, Title string
	Kind        kind
	Stage       string // the node's staging directory
	Name        string // file base in Stage: NAME.sh, NAME.status, NAME.log
	// Install are the lines that put vipd in place, run before
	// keepalived stops: nothing runs vipd yet, and a failure leaves
	// keepalived untouched.
	Install []string
	Vipd    string // vipd's installed path: status, -t
	Conf    string // vipd's file
	VIPs    []netip.Prefix
	// Settle is how long after the VIP left the MASTER vipd waits to
	// start there (handover): the peer's Skew_Time and a margin, so the
	// peer is MASTER before the old one rejoins.
	Settle   time.Duration
	Deadline time.Duration // for a daemon to come up
	Commands Commands
}

func (s *script) path(ext string) string { return path.Join(s.Stage, s.Name+"."+ext) }

// Launch is the command that starts the script on the node, detached:
// it returns at once, and the script outlives the SSH session.
func (s *script) Launch() string {
	return fmt.Sprintf("setsid nohup sh %s </dev/null >>%s 2>&1 &", shq(s.path("sh")), shq(s.path("log")))
}

// Poll is the command that reads the script's progress.
func (s *script) Poll() string { return "cat " + shq(s.path("status")) }

// Text is the script.
func (s *script) Text() string {
	var b strings.Builder
	c := s.Commands
	fn := func(name, cmd string) {
		if strings.TrimSpace(cmd) == "" {
			cmd = ":"
		}
		fmt.Fprintf(&b, "%s() {\n\t%s\n}\n", name, cmd)
	}
	fmt.Fprintf(&b, `#!/bin/sh
# vipctl migrate: %s on node %s.
# It runs detached from the SSH session that started it and ends by itself:
# it leaves the node running vipd if vipd comes up, and keepalived again if
# not, whatever becomes of vipctl or the link. Progress: %s.
set -u
status=%s
vipd=%s
conf=%s
deadline=%d # tenths of a second for a daemon to come up
trap '' HUP INT PIPE
: >"$status"
note() { printf '%%s %%s\n' "$(date +%%s%%3N)" "$*" >>"$status"; echo "$*"; }
finish() { note "end $*"; exit 0; }
`, s.Title, s.Node, s.path("status"), shq(s.path("status")), shq(s.Vipd), shq(s.Conf), int(s.Deadline/(100*time.Millisecond)))
	fn("keepalived_stop", c.KeepalivedStop)
	fn("keepalived_start", c.KeepalivedStart)
	fn("keepalived_up", c.KeepalivedActive)
	fn("vipd_start", c.VipdStart)
	fn("vipd_stop", c.VipdStop)
	fn("vipd_persist", c.VipdPersist)
	fn("keepalived_persist", c.KeepalivedPersist)
	var holds []string
	for _, p := range s.VIPs {
		fam := "inet"
		if p.Addr().Is6() {
			fam = "inet6"
		}
		holds = append(holds, fmt.Sprintf("ip -o addr show | grep -q %s", shq(" "+fam+" "+p.Addr().String()+"/")))
	}
	fn("holds_vip", strings.Join(holds, " || "))
	b.WriteString(`# vipd_up: vipd answers on its control socket and no instance is in INIT
# or FAULT.
vipd_up() {
	out=$("$vipd" status --json 2>/dev/null) || return 1
	case $out in
	*'"state":"INIT"'* | *'"state":"FAULT"'*) return 1 ;;
	*'"state":'*) return 0 ;;
	esac
	return 1
}
# wait_for CHECK TENTHS: until CHECK succeeds, or give up.
wait_for() {
	i=0
	until "$1"; do
		i=$((i + 1))
		[ $i -le "$2" ] || return 1
		sleep 0.1
	done
}
not_holding() { ! holds_vip; }
# back_to_keepalived WHY: vipd did not come up; the node runs keepalived
# again (or vipd, if keepalived will not start either).
back_to_keepalived() {
	note "vipd did not come up: $1; starting keepalived again"
	vipd_stop || note "vipd did not stop"
	for try in 1 2 3; do
		if keepalived_start && wait_for keepalived_up "$deadline"; then
			note "keepalived runs again"
			keepalived_persist || note "could not make keepalived the daemon at boot"
			finish rolled-back "$1"
		fi
		note "keepalived did not start (attempt $try)"
	done
	note "keepalived will not start: starting vipd again so the node is not left without a daemon"
	vipd_start && wait_for vipd_up "$deadline" && finish failed "$1; keepalived would not start, vipd runs"
	finish failed "$1; neither keepalived nor vipd would start: run one by hand"
}
`)
	switch s.Kind {
	case toVipd, handover:
		b.WriteString("note \"start: keepalived -> vipd\"\n")
		for _, l := range s.Install {
			fmt.Fprintf(&b, "%s || finish failed %s\n", l, shq("could not install vipd ("+l+"); keepalived untouched"))
		}
		b.WriteString(`"$vipd" -t -f "$conf" >/dev/null || finish failed "vipd -t rejects $conf; keepalived untouched"
note "vipd installed; vipd -t accepts $conf"
keepalived_up || note "keepalived was not running"
keepalived_stop || back_to_keepalived "keepalived did not stop"
note "keepalived stopped"
`)
		if s.Kind == handover {
			fmt.Fprintf(&b, `if wait_for not_holding "$deadline"; then
	note "the VIP has left this node"
else
	note "the VIP is still here after keepalived stopped"
fi
sleep %s
note "waited %s for the peer to take the VIP"
`, seconds(s.Settle), seconds(s.Settle))
		}
		b.WriteString(`vipd_start || back_to_keepalived "vipd did not start"
wait_for vipd_up "$deadline" || back_to_keepalived "vipd not up within $((deadline / 10))s"
note "vipd up"
vipd_persist || note "could not make vipd the daemon at boot"
finish ok
`)
	case toKeepalived:
		b.WriteString(`note "start: vipd -> keepalived"
vipd_stop || note "vipd did not stop"
note "vipd stopped"
for try in 1 2 3; do
	if keepalived_start && wait_for keepalived_up "$deadline"; then
		note "keepalived runs again"
		keepalived_persist || note "could not make keepalived the daemon at boot"
		finish ok
	fi
	note "keepalived did not start (attempt $try)"
done
note "keepalived will not start: starting vipd again so the node is not left without a daemon"
vipd_start && wait_for vipd_up "$deadline" && finish failed "keepalived would not start; vipd runs again"
finish failed "neither keepalived nor vipd would start: run one by hand"
`)
	}
	return b.String()
}

// progress is a script's status file read back.
type progress struct {
	Lines []noted
	Ended bool
	// Result is "ok", "rolled-back" or "failed" once Ended, and Why the
	// rest of its last line.
	Result, Why string
}

// noted is one line of a status file: what the script did, by the node's
// clock.
type noted struct {
	Time time.Time
	Text string
}

func parseProgress(b []byte) progress {
	var p progress
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		ms, text, ok := strings.Cut(l, " ")
		var n int64
		if _, err := fmt.Sscan(ms, &n); !ok || err != nil {
			continue
		}
		p.Lines = append(p.Lines, noted{Time: time.UnixMilli(n), Text: text})
		if r, ok := strings.CutPrefix(text, "end "); ok {
			p.Ended = true
			p.Result, p.Why, _ = strings.Cut(r, " ")
		}
	}
	return p
}

func seconds(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", d.Seconds()), "0"), ".")
}

// shq makes s one word for sh.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
