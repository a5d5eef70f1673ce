//go:build linux

package demo

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/vipkit/vip/ui"
)

// labCtlDir is where each lab node sees its own labctl script, through a
// bind mount in its sshd's (and vipd's) mount namespace.
const labCtlDir = "/run/vipctl-lab"

// labCtl is the script's path on every node.
var labCtl = filepath.Join(labCtlDir, "labctl")

// LabCommands are the console gate's commands on the lab: each node's
// labctl does what systemctl does with the real units (the lab has no
// systemd): `labctl nginx stop|start|break|unmask|status`, `labctl vipd
// stop|start|status` and `labctl keepalived stop|start|status`, status
// exiting 3 when stopped as `systemctl is-active` does.
func LabCommands() ui.Commands {
	c := func(args ...string) []string { return []string{labCtl + " " + strings.Join(args, " ")} }
	return ui.Commands{
		NginxStop:   c("nginx", "stop"),
		NginxBreak:  c("nginx", "break"),
		NginxRepair: append(c("nginx", "unmask"), c("nginx", "start")...),
		NginxCheck:  c("nginx", "status"),
		VipdStop:    c("vipd", "stop"),
		VipdStart:   c("vipd", "start"),

		KeepalivedStop:  c("keepalived", "stop"),
		KeepalivedStart: c("keepalived", "start"),
	}
}

// labCtlScript is node ln's labctl. nginx held down ("break", as a
// runtime mask) makes "start", which is also vipd's start_command, fail
// until "unmask". vipd started again runs in the session's namespaces
// (the node's network, its /run/vipd), in a session of its own, logging
// to a file; so does keepalived, with its own TMPDIR and pid files, on
// its default configuration file (the node's own /etc/keepalived in the
// keepalived lab). `labctl nginx pids` prints nginx's pid when it runs
// (from its pid file, a zombie not counted): the keepalived lab's
// check_nginx.sh counts it for `ps -C nginx`.
func labCtlScript(ln *labNode, vipd string) string {
	q := shellQuote
	return fmt.Sprintf(`#!/bin/sh
# labctl of lab node %[1]s (vipctl demo --lab): systemctl's part for nginx and vipd.
node=%[1]s
nginx_pidfile=%[2]s
nginx_start=%[3]s
held=%[4]s
vipd=%[5]s
vipd_conf=%[6]s
vipd_pidfile=%[7]s
vipd_log=%[8]s
ka_tmp=%[9]s
ka_pidfile=%[10]s
ka_dir=%[11]s
ka_log=%[12]s

# alive PID: the process exists and is no zombie.
alive() {
	[ -n "$1" ] || return 1
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}
# gone PID: wait up to 10 s for it to end.
gone() {
	i=0
	while alive "$1"; do
		i=$((i + 1))
		[ $i -le 200 ] || return 1
		sleep 0.05
	done
}
nginx_pid() { cat "$nginx_pidfile" 2>/dev/null; }
vipd_up() { "$vipd" status >/dev/null 2>&1; }
ka_pid() { cat "$ka_pidfile" 2>/dev/null; }

case "$1 $2" in
"nginx stop" | "nginx break")
	[ "$2" = break ] && : >"$held"
	p=$(nginx_pid)
	if alive "$p"; then
		kill -QUIT "$p" && gone "$p" || { echo "$node: nginx did not stop" >&2; exit 1; }
	fi
	if [ "$2" = break ]; then
		echo "$node: nginx stopped and held down: it will not start until unmasked"
	else
		echo "$node: nginx stopped"
	fi
	;;
"nginx unmask")
	rm -f "$held"
	echo "$node: nginx unmasked"
	;;
"nginx start")
	if [ -e "$held" ]; then
		echo "$node: nginx is held down (labctl nginx unmask)" >&2
		exit 1
	fi
	alive "$(nginx_pid)" && exit 0
	$nginx_start || exit 1
	echo "$node: nginx started"
	;;
"nginx status")
	if alive "$(nginx_pid)"; then echo active; else echo inactive; exit 3; fi
	;;
"nginx pids")
	p=$(nginx_pid)
	if alive "$p"; then echo "$p"; fi
	;;
"vipd stop")
	p=$(cat "$vipd_pidfile" 2>/dev/null)
	if alive "$p"; then
		kill -TERM "$p" && gone "$p" || { echo "$node: vipd did not stop" >&2; exit 1; }
	fi
	echo "$node: vipd stopped"
	;;
"vipd start")
	vipd_up && exit 0
	setsid "$vipd" -f "$vipd_conf" </dev/null >>"$vipd_log" 2>&1 &
	echo $! >"$vipd_pidfile"
	i=0
	until vipd_up; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! alive "$!"; then
			echo "$node: vipd did not start; see $vipd_log" >&2
			exit 1
		fi
		sleep 0.05
	done
	echo "$node: vipd started"
	;;
"vipd status")
	if vipd_up; then echo active; else echo inactive; exit 3; fi
	;;
"keepalived stop")
	p=$(ka_pid)
	if alive "$p"; then
		kill -TERM "$p" && gone "$p" || { echo "$node: keepalived did not stop" >&2; exit 1; }
	fi
	echo "$node: keepalived stopped"
	;;
"keepalived start")
	alive "$(ka_pid)" && exit 0
	TMPDIR="$ka_tmp" setsid keepalived -n -l -D -p "$ka_pidfile" -r "$ka_dir/vrrp.pid" -c "$ka_dir/checkers.pid" -b "$ka_dir/bfd.pid" </dev/null >>"$ka_log" 2>&1 &
	i=0
	until alive "$(ka_pid)"; do
		i=$((i + 1))
		if [ $i -gt 200 ] || ! alive "$!"; then
			echo "$node: keepalived did not start; see $ka_log" >&2
			exit 1
		fi
		sleep 0.05
	done
	echo "$node: keepalived started"
	;;
"keepalived status")
	if alive "$(ka_pid)"; then echo active; else echo inactive; exit 3; fi
	;;
*)
	echo "usage: labctl nginx stop|start|break|unmask|status|pids | labctl vipd|keepalived stop|start|status" >&2
	exit 2
	;;
esac
`, ln.net.Name, q(ln.nginx.PIDFile), q(strings.Join(ln.nginx.Argv(), " ")), q(filepath.Join(ln.ctl, "nginx.held")),
		q(vipd), q(ln.conf), q(ln.vipdPID()), q(filepath.Join(ln.dir, "vipd.log")),
		q(ln.keepalivedTmp()), q(ln.keepalivedPID()), q(ln.ctl), q(ln.keepalivedLog()))
}

// shellQuote makes s one word for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
