package feed

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// kaScript is the one shell loop that the keepalived feed runs on a node
// over SSH (agentless: POSIX sh, /proc, and the coreutils and iproute2 every
// Debian has). Each line it prints starts with a word the feed reads
// (kaLine):
//
//	@vipd SOCKET          vipd's control socket is there: watch vipd instead (the script ends)
//	@none VIPD            no keepalived in this network namespace; VIPD "vipd" when vipd (VIPDCMD) is installed
//	@keepalived PID       found it (the parent: a keepalived whose parent is no keepalived)
//	@tmp DIR              its TMPDIR, from /proc/PID/environ (default /tmp)
//	@conf FILE            its configuration, from its command line (-f, --use-file; default /etc/keepalived/keepalived.conf)
//	@version TEXT         `keepalived --version` of the running binary (/proc/PID/exe)
//	@hostname NAME
//	@nojson TEXT          `keepalived --signum=JSON` failed: built without JSON
//	@ready                the header is complete: dumps follow
//	@json NS              a JSON dump, signalled at node time NS (Unix ns): the next line is the file, then @end
//	@nodump FILE          the dump did not appear
//	@data                 the lines of a DATA dump that matter, then @end
//	@nginx N PID          N (0 or 1) live nginx master processes in this network namespace (by the
//	                      title nginx gives itself, whatever its binary is called), and its PID
//	@gone PID             keepalived exited
//	@error TEXT
//
// The lab's nodes share one process table: keepalived is the node's when
// /proc/PID/ns/net is the SSH session's own. It polls the JSON dump every
// EVERY (deleting the old file first, so that a file is always the answer to
// this signal), DATA and nginx less often, and rescans only when the
// process it knows is gone. A zombie is no process.
func kaScript(socket, vipd string, every time.Duration) string {
	if vipd == "" {
		vipd = "vipd"
	}
	sleep := strconv.FormatFloat(every.Seconds(), 'f', 3, 64)
	return fmt.Sprintf(`sock=%s
every=%s
vipdcmd=%s
me=$(readlink /proc/self/ns/net)
mine() { ls -l /proc/[0-9]*/ns/net 2>/dev/null | awk -v me="$me" '$NF == me { split($(NF-2), a, "/"); print a[3] }'; }
stat_of() { st=; read -r st 2>/dev/null </proc/$1/stat || return 1; st=${st##*) }; }
alive() { stat_of "$1" || return 1; case $st in Z*|X*) return 1;; esac; }
comm_of() { c=; read -r c 2>/dev/null </proc/$1/comm; }
find_ka() {
	pid=
	for p in $(mine); do
		comm_of $p; [ "$c" = keepalived ] || continue
		alive $p || continue
		set -- $st; comm_of $2
		[ "$c" = keepalived ] && continue
		pid=$p; return 0
	done
	return 1
}
nginx_check() {
	if [ -n "$npid" ] && alive $npid; then echo "@nginx 1 $npid"; return; fi
	npid=
	for p in $(mine); do
		l=; read -r l 2>/dev/null </proc/$p/cmdline
		case $l in "nginx: master process"*) alive $p && { npid=$p; break; } ;; esac
	done
	echo "@nginx ${npid:+1 }${npid:-0}"
}
header() {
	echo "@keepalived $pid"
	if ! tr '\0' '\n' </proc/$pid/environ >/dev/null 2>&1; then
		echo "@error cannot read /proc/$pid/environ (keepalived's TMPDIR): run the console as root or with sudo"; return 1
	fi
	tmp=$(tr '\0' '\n' </proc/$pid/environ | sed -n 's/^TMPDIR=//p' | head -n 1)
	[ -n "$tmp" ] || tmp=/tmp
	echo "@tmp $tmp"
	conf=/etc/keepalived/keepalived.conf; prev=
	for a in $(tr '\0' ' ' </proc/$pid/cmdline); do
		case $prev in -f|--use-file) conf=$a ;; esac
		case $a in --use-file=*) conf=${a#--use-file=} ;; -f?*) conf=${a#-f} ;; esac
		prev=$a
	done
	echo "@conf $conf"
	echo "@version $(/proc/$pid/exe --version 2>&1 | head -n 1)"
	h=; read -r h </proc/sys/kernel/hostname; echo "@hostname $h"
	sig=$(/proc/$pid/exe --signum=JSON 2>&1)
	case $sig in ''|*[!0-9]*) echo "@nojson $sig"; return 1 ;; esac
	dsig=$(/proc/$pid/exe --signum=DATA 2>/dev/null)
	case $dsig in ''|*[!0-9]*) dsig= ;; esac
	echo "@ready"
}
dump() { # FILE SIGNAL: signal keepalived and wait for FILE, new
	rm -f "$1"
	kill -$2 $pid 2>/dev/null || return 2
	j=0
	while [ ! -s "$1" ]; do
		j=$((j + 1)); [ $j -le 100 ] || return 1
		sleep 0.005
	done
}
vipd=none; command -v "$vipdcmd" >/dev/null 2>&1 && vipd=vipd
pid=; i=0; bad=; npid=
while :; do
	if [ -S "$sock" ]; then echo "@vipd $sock"; exit 0; fi
	if [ -z "$pid" ] || ! alive $pid; then
		[ -n "$pid" ] && echo "@gone $pid"
		pid=
		if ! find_ka; then echo "@none $vipd"; sleep 0.2; continue; fi
		if ! header; then bad=$pid; fi
		i=0
	fi
	if [ "$pid" = "$bad" ]; then sleep 1; continue; fi
	t=$(date +%%s%%N)
	if dump "$tmp/keepalived.json" $sig; then
		echo "@json $t"; cat "$tmp/keepalived.json"; echo; echo "@end"
	elif [ $? = 1 ]; then
		echo "@nodump $tmp/keepalived.json"
	fi
	if [ $((i %% 3)) = 0 ]; then nginx_check; fi
	if [ $((i %% 10)) = 0 ] && [ -n "$dsig" ] && dump "$tmp/keepalived.data" $dsig; then
		sleep 0.02
		echo "@data"
		grep -E '^ Router ID = |^ VRRP Instance = |^   Number of interface and track script faults = |^ VRRP Script = |^   Command = |^   Status = ' "$tmp/keepalived.data"
		echo "@end"
	fi
	i=$((i + 1))
	sleep $every
done
`, Quote(socket), sleep, Quote(vipd))
}

// kaMonitor is the feed's second stream on a keepalived node: the
// addresses now, then every change as it happens (iproute2 6.1 has no JSON
// for monitor: plain lines, parseAddrLine).
const kaMonitor = "ip -o addr show; echo @monitor; exec ip -o monitor address"

// kaCommand wraps a script for the SSH command line.
func kaCommand(script string) string { return "sh -c " + Quote(script) }

// kaLine is one line of kaScript's output: its word and the rest.
func kaLine(s string) (word, rest string) {
	if !strings.HasPrefix(s, "@") {
		return "", s
	}
	word, rest, _ = strings.Cut(s[1:], " ")
	return word, rest
}
