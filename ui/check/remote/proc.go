package remote

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"
)

// probeScript lists the vipd and keepalived processes of the session's own
// network namespace (lab nodes share one process table), each with its
// parent, start time, working directory and command line, and the node's
// addresses. One round trip. Output, one record a line:
//
//	boot SECONDS-SINCE-EPOCH CLK_TCK NOW
//	proc PID PPID COMM STARTTICKS
//	cwd PATH
//	arg WORD            (one per argument)
//	addr IFNAME ADDR/PREFIX
const probeScript = `self=$(readlink /proc/self/ns/net) || exit 3
echo "boot $(awk '/^btime/{print $2}' /proc/stat) $(getconf CLK_TCK 2>/dev/null || echo 100) $(date +%s)"
for d in /proc/[0-9]*; do
  [ "$(readlink $d/ns/net 2>/dev/null)" = "$self" ] || continue
  c=$(cat $d/comm 2>/dev/null) || continue
  case "$c" in keepalived|vipd) ;; *) continue ;; esac
  s=$(cat $d/stat 2>/dev/null) || continue
  set -- ${s##*) }
  echo "proc ${d#/proc/} $2 $c $(echo "$s" | awk '{sub(/.*\) /, ""); print $20}')"
  echo "cwd $(readlink $d/cwd 2>/dev/null)"
  tr '\0' '\n' < $d/cmdline | sed 's/^/arg /'
done
ip -o addr show 2>/dev/null | awk '{print "addr", $2, $4}'
exit 0`

// proc is one daemon process.
type proc struct {
	PID, PPID int
	Comm      string
	Start     time.Time // zero when unknown
	Cwd       string
	Args      []string
}

// probe is what probeScript found.
type probe struct {
	procs []proc
	addrs map[string][]netip.Addr
	now   time.Time // the node's clock
}

func parseProbe(out []byte) (probe, error) {
	p := probe{addrs: map[string][]netip.Addr{}}
	var btime, tck int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		f := strings.Fields(rest)
		switch kind {
		case "boot":
			if len(f) == 3 {
				btime, _ = strconv.ParseInt(f[0], 10, 64)
				tck, _ = strconv.ParseInt(f[1], 10, 64)
				if now, err := strconv.ParseInt(f[2], 10, 64); err == nil {
					p.now = time.Unix(now, 0)
				}
			}
		case "proc":
			if len(f) != 4 {
				return probe{}, fmt.Errorf("unexpected process line %q", sc.Text())
			}
			pid, err1 := strconv.Atoi(f[0])
			ppid, err2 := strconv.Atoi(f[1])
			if err1 != nil || err2 != nil {
				return probe{}, fmt.Errorf("unexpected process line %q", sc.Text())
			}
			pr := proc{PID: pid, PPID: ppid, Comm: f[2]}
			if ticks, err := strconv.ParseInt(f[3], 10, 64); err == nil && btime > 0 && tck > 0 {
				pr.Start = time.Unix(btime, 0).Add(time.Duration(ticks) * time.Second / time.Duration(tck))
			}
			p.procs = append(p.procs, pr)
		case "cwd":
			if n := len(p.procs); n > 0 {
				p.procs[n-1].Cwd = rest
			}
		case "arg":
			if n := len(p.procs); n > 0 {
				p.procs[n-1].Args = append(p.procs[n-1].Args, rest)
			}
		case "addr":
			if len(f) != 2 {
				continue
			}
			ifname, _, _ := strings.Cut(f[0], "@") // veth0@if12
			if pf, err := netip.ParsePrefix(f[1]); err == nil {
				p.addrs[ifname] = append(p.addrs[ifname], pf.Addr())
			}
		}
	}
	return p, sc.Err()
}

// daemons returns the top process of each daemon: keepalived forks its
// VRRP and checker children, whose parent is keepalived too.
func (p probe) daemons() (vipd, keepalived []proc) {
	byPID := map[int]proc{}
	for _, pr := range p.procs {
		byPID[pr.PID] = pr
	}
	for _, pr := range p.procs {
		if parent, ok := byPID[pr.PPID]; ok && parent.Comm == pr.Comm || !pr.daemon() {
			continue
		}
		switch pr.Comm {
		case "vipd":
			vipd = append(vipd, pr)
		case "keepalived":
			keepalived = append(keepalived, pr)
		}
	}
	return vipd, keepalived
}

// daemon reports whether pr is the daemon rather than a command of the
// same program: the console's own `vipd watch` and `vipd status` run on
// the node as vipd too, and `keepalived --signum=JSON` or `-t` as keepalived.
func (pr proc) daemon() bool {
	if pr.Comm == "vipd" && len(pr.Args) > 1 {
		switch pr.Args[1] {
		case "status", "watch", "ctl": // node/cli's commands
			return false
		}
	}
	for _, a := range pr.Args[min(1, len(pr.Args)):] {
		switch {
		case a == "-t", a == "--config-test", strings.HasPrefix(a, "--config-test="), strings.HasPrefix(a, "--signum"),
			a == "-v", a == "--version", a == "-h", a == "--help":
			return false
		}
	}
	return true
}

// DefaultKeepalivedConf is keepalived's file without -f (and vipd's).
const DefaultKeepalivedConf = "/etc/keepalived/keepalived.conf"

// configFlag is the file a daemon was started with: keepalived's
// -f FILE, -fFILE, --use-file FILE, --use-file=FILE; vipd's -f/--f FILE or
// -f=FILE. Relative paths are the process's working directory's.
func (pr proc) configFlag() string {
	file := ""
	args := pr.Args
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-f" || a == "--f" || a == "--use-file":
			if i+1 < len(args) {
				file = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--use-file="), strings.HasPrefix(a, "-f="), strings.HasPrefix(a, "--f="):
			_, file, _ = strings.Cut(a, "=")
		case pr.Comm == "keepalived" && strings.HasPrefix(a, "-f") && !strings.HasPrefix(a, "--"):
			file = a[2:]
		}
	}
	if file == "" {
		return DefaultKeepalivedConf
	}
	if !path.IsAbs(file) && pr.Cwd != "" {
		file = path.Join(pr.Cwd, file)
	}
	return file
}
