package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keepalived", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Dumps as keepalived 2.2.7 wrote them in the lab (testdata/keepalived),
// and what breaks a decoder.
func TestDecodeKeepalivedJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		state   []int
		wantErr string
	}{
		{name: "MASTER, from the lab", in: string(readTestdata(t, "master.json")), state: []int{2}},
		{name: "FAULT, link down", in: string(readTestdata(t, "fault.json")), state: []int{3}},
		{name: "no instance", in: "[]", state: []int{}},
		{name: "two instances", in: `[{"data":{"iname":"A","state":1}},{"data":{"iname":"B","state":0}}]`, state: []int{1, 0}},
		{name: "not JSON", in: "Keepalived v2.2.7", wantErr: "failed to read"},
		{name: "cut short while written", in: `[{"data":{"iname":"VI_1","st`, wantErr: "failed to read"},
		{name: "an object, not an array", in: `{"data":{}}`, wantErr: "failed to read"},
		{name: "no iname", in: `[{"data":{"state":1}}]`, wantErr: "no iname"},
		{name: "unknown state", in: `[{"data":{"iname":"VI_1","state":7}}]`, wantErr: "state 7"},
		{name: "priority out of range", in: `[{"data":{"iname":"VI_1","base_priority":300}}]`, wantErr: "base_priority 300"},
		{name: "negative advert interval", in: `[{"data":{"iname":"VI_1","adver_int":-1}}]`, wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := decodeKeepalivedJSON([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, in := range ins {
				got = append(got, in.Data.State)
			}
			if got == nil {
				got = []int{}
			}
			if !reflect.DeepEqual(got, tt.state) {
				t.Errorf("states = %v, want %v", got, tt.state)
			}
		})
	}
}

func TestParseKeepalivedVIP(t *testing.T) {
	tests := []struct {
		in   string
		want kaVIP
		err  bool
	}{
		{in: "198.51.100.100 dev eth0 scope global set", want: kaVIP{Prefix: netip.MustParsePrefix("198.51.100.100/32"), Dev: "eth0", Set: true}},
		{in: "198.51.100.100 dev eth0 scope global", want: kaVIP{Prefix: netip.MustParsePrefix("198.51.100.100/32"), Dev: "eth0"}},
		{in: "198.51.100.100/24 dev eth1", want: kaVIP{Prefix: netip.MustParsePrefix("198.51.100.100/24"), Dev: "eth1"}},
		{in: "2001:db8::100 dev eth0 scope global set", want: kaVIP{Prefix: netip.MustParsePrefix("2001:db8::100/128"), Dev: "eth0", Set: true}},
		{in: "198.51.100.100 dev", want: kaVIP{Prefix: netip.MustParsePrefix("198.51.100.100/32")}},
		{in: "", err: true},
		{in: "eth0 198.51.100.100", err: true},
	}
	for _, tt := range tests {
		got, err := parseKeepalivedVIP(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseKeepalivedVIP(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseKeepalivedData(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want kaData
		err  bool
	}{
		{name: "the lab's, grepped", in: string(readTestdata(t, "data.txt")), want: kaData{
			RouterID: "nginx-01", Faults: map[string]int{"VI_1": 1},
			Scripts: []kaVRRPScript{{Name: "chk_nginx", Command: "/usr/bin/true", Status: "GOOD"}},
		}},
		{name: "a failing script", in: " VRRP Script = chk\n   Status = BAD\n", want: kaData{
			Faults: map[string]int{}, Scripts: []kaVRRPScript{{Name: "chk", Status: "BAD"}},
		}},
		{name: "nothing", in: "", want: kaData{Faults: map[string]int{}}},
		{name: "Status outside a script is not a script's", in: "   Status = BAD\n", want: kaData{Faults: map[string]int{}}},
		{name: "faults not a number", in: " VRRP Instance = VI_1\n   Number of interface and track script faults = x\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseKeepalivedData(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Lines as iproute2 6.1 prints them (`ip -o addr show`, `ip -o monitor
// address`).
func TestParseAddrLine(t *testing.T) {
	tests := []struct {
		in   string
		want addrLine
		ok   bool
		err  bool
	}{
		{in: `3: eth0    inet 198.51.100.100/32 scope global eth0\       valid_lft forever preferred_lft forever`,
			want: addrLine{Dev: "eth0", Prefix: netip.MustParsePrefix("198.51.100.100/32")}, ok: true},
		{in: `Deleted 3: eth0    inet 198.51.100.100/32 scope global eth0\       valid_lft forever preferred_lft forever`,
			want: addrLine{Deleted: true, Dev: "eth0", Prefix: netip.MustParsePrefix("198.51.100.100/32")}, ok: true},
		{in: `3: eth0    inet6 2001:db8::5/64 scope global nodad \       valid_lft forever preferred_lft forever`,
			want: addrLine{Dev: "eth0", Prefix: netip.MustParsePrefix("2001:db8::5/64")}, ok: true},
		{in: `1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever`,
			want: addrLine{Dev: "lo", Prefix: netip.MustParsePrefix("127.0.0.1/8")}, ok: true},
		{in: "@monitor"},
		{in: "3: eth0: <BROADCAST,MULTICAST,UP> mtu 1500"}, // a link line
		{in: ""},
		{in: "x: eth0 inet 1.2.3.4/5"},
		{in: "3: eth0    inet 198.51.100.300/32 scope global", err: true},
	}
	for _, tt := range tests {
		got, ok, err := parseAddrLine(tt.in)
		if (err != nil) != tt.err || ok != tt.ok || got != tt.want {
			t.Errorf("parseAddrLine(%q) = %+v, %v, %v; want %+v, %v, error %v", tt.in, got, ok, err, tt.want, tt.ok, tt.err)
		}
	}
}

// A keepalived's dumps become vipd's documents: transitions between
// dumps, the VIP as the kernel has it once the monitor has listed the
// addresses (keepalived's own "set" before), adverts heard, the FAULT
// reason from the DATA dump, and nginx from the process count.
func TestKeepalivedStatus(t *testing.T) {
	master, err := decodeKeepalivedJSON(readTestdata(t, "master.json"))
	if err != nil {
		t.Fatal(err)
	}
	fault, err := decodeKeepalivedJSON(readTestdata(t, "fault.json"))
	if err != nil {
		t.Fatal(err)
	}
	backup := append([]kaInstance(nil), master...)
	backup[0].Data.State, backup[0].Stats.AdvertRcvd = 1, 5
	t0 := time.Unix(1796175920, 0)
	table := &addrTable{}
	k := newKaState(42, table)
	k.version, k.hostname = "Keepalived v2.2.7 (01/16,2022)", "lb1"
	if evs := k.applyDump(backup, t0); len(evs) != 0 {
		t.Fatalf("first dump: %v, want no transition", evs)
	}
	backup2 := append([]kaInstance(nil), backup...)
	backup2[0].Stats.AdvertRcvd = 6
	k.applyDump(backup2, t0.Add(100*time.Millisecond))
	st := k.status()
	in := st.Instances[0]
	if in.State != control.StateBackup || !in.VIPPresent || in.LastAdvert != t0.Add(100*time.Millisecond) || st.PID != 42 || st.Nginx != nil {
		t.Errorf("BACKUP status = %+v (VIPPresent from keepalived's 'set' before the monitor)", st)
	}
	table.known = true // the monitor listed no VIP
	if k.status().Instances[0].VIPPresent {
		t.Error("VIPPresent with the monitor's table empty")
	}
	table.apply(addrLine{Dev: "eth0", Prefix: netip.MustParsePrefix("198.51.100.100/32")})
	evs := k.applyDump(master, t0.Add(200*time.Millisecond))
	if len(evs) != 1 || evs[0].From != control.StateBackup || evs[0].To != control.StateMaster || evs[0].Instance != "VI_1" {
		t.Fatalf("transition = %+v", evs)
	}
	k.nginx = 2
	st = k.status()
	in = st.Instances[0]
	if in.State != control.StateMaster || !in.VIPPresent || in.Transitions != 1 || in.VIPs[0] != "198.51.100.100/32 dev eth0" ||
		in.BasePriority != 100 || !in.NoPreempt || in.AdverInt.Duration() != time.Second || st.Nginx == nil || !st.Nginx.Healthy {
		t.Errorf("MASTER status = %+v, nginx %+v", in, st.Nginx)
	}
	// An excluded address is held with the VIP: present only when it is.
	withEx := append([]kaInstance(nil), master...)
	withEx[0].Data.EVIPs = []string{"198.51.100.101"}
	k.applyDump(withEx, t0.Add(250*time.Millisecond))
	if in := k.status().Instances[0]; in.VIPPresent || !slices.Contains(in.VIPs, "198.51.100.101/32 dev eth0") {
		t.Errorf("excluded address absent: VIPPresent %v, VIPs %v; want false, listed", in.VIPPresent, in.VIPs)
	}
	table.apply(addrLine{Dev: "eth0", Prefix: netip.MustParsePrefix("198.51.100.101/32")})
	if in := k.status().Instances[0]; !in.VIPPresent {
		t.Errorf("excluded address present: VIPPresent false")
	}
	k.data, k.dataKnown = kaData{Faults: map[string]int{"VI_1": 1}, Scripts: []kaVRRPScript{{Name: "chk_nginx", Status: "BAD"}}}, true
	k.nginx = 0
	evs = k.applyDump(fault, t0.Add(300*time.Millisecond))
	st = k.status()
	if len(evs) != 1 || evs[0].To != control.StateFault || !strings.Contains(evs[0].Reason, "chk_nginx BAD") ||
		!strings.Contains(st.Instances[0].FaultReason, "chk_nginx BAD") || st.Nginx.Healthy || st.Scripts[0].Healthy {
		t.Errorf("FAULT: %+v; %+v", evs, st)
	}
	table.apply(addrLine{Deleted: true, Dev: "eth0", Prefix: netip.MustParsePrefix("198.51.100.100/32")})
	if k.status().Instances[0].VIPPresent {
		t.Error("VIPPresent after the monitor saw it deleted")
	}
}

// TestNginxEvents: nginx's master gone, back, or replaced between two
// looks (a restart quicker than the feed's nginx poll) is a failure and a
// restart; the same master, or nothing known yet, is no event.
func TestNginxEvents(t *testing.T) {
	at := time.Unix(100, 0)
	tests := []struct {
		name                    string
		prev, prevPID, now, pid int
		want                    []string // verdicts, with a restart check as "restart"
	}{
		{name: "unknown first", prev: -1, now: 1, pid: 10},
		{name: "same master", prev: 1, prevPID: 10, now: 1, pid: 10},
		{name: "gone", prev: 1, prevPID: 10, now: 0, want: []string{"check", "failed"}},
		{name: "back", prev: 0, now: 1, pid: 11, want: []string{"restart", "healthy"}},
		{name: "replaced between looks", prev: 1, prevPID: 10, now: 1, pid: 11, want: []string{"check", "failed", "restart", "healthy"}},
		{name: "pid not said", prev: 1, prevPID: 10, now: 1},
		{name: "still none", prev: 0, now: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, ev := range nginxEvents(tt.prev, tt.prevPID, tt.now, tt.pid, at) {
				switch {
				case ev.Type == control.EventCheck && ev.Check.Phase == control.PhaseRestart && ev.Check.OK:
					got = append(got, "restart")
				case ev.Type == control.EventCheck && !ev.Check.OK:
					got = append(got, "check")
				case ev.Type == control.EventVerdict:
					got = append(got, string(ev.Verdict))
				default:
					t.Fatalf("unexpected event %+v", ev)
				}
				if !ev.Time.Equal(at) {
					t.Errorf("event at %v, want the dump's time %v", ev.Time, at)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("events %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKaLine(t *testing.T) {
	for _, tt := range []struct{ in, word, rest string }{
		{"@json 123", "json", "123"}, {"@ready", "ready", ""}, {"@version Keepalived v2.2.7 (01/16,2022)", "version", "Keepalived v2.2.7 (01/16,2022)"},
		{"[{...}]", "", "[{...}]"}, {"", "", ""},
	} {
		if w, r := kaLine(tt.in); w != tt.word || r != tt.rest {
			t.Errorf("kaLine(%q) = %q, %q", tt.in, w, r)
		}
	}
}

// kaNode is a fake keepalived node: the script's lines as the real one
// prints them, and the monitor's.
type kaNode struct {
	script  func(stdout io.Writer)
	monitor string
}

func (k kaNode) handler(t *testing.T) func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
	return func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		switch {
		case strings.HasPrefix(cmd, "sh -c ") && strings.Contains(cmd, "ip -o monitor address"):
			io.WriteString(stdout, k.monitor)
			<-ctx.Done()
			return 0
		case strings.HasPrefix(cmd, "sh -c ") && strings.Contains(cmd, "keepalived.json"):
			k.script(stdout)
			<-ctx.Done()
			return 0
		}
		fmt.Fprintf(stderr, "unexpected %q\n", cmd)
		return 2
	}
}

const kaHeader = "@keepalived 42\n@tmp /tmp/n1\n@conf /etc/keepalived/keepalived.conf\n@version Keepalived v2.2.7 (01/16,2022)\n@hostname lb1\n@ready\n"

// The keepalived feed end to end over SSH, with the node's side faked:
// found, its dumps read into a snapshot and statuses, a transition, the
// VIP from the monitor; and each bad input explained, nothing guessed.
func TestKeepalivedFeed(t *testing.T) {
	master := strings.TrimSpace(string(readTestdata(t, "master.json")))
	backup := strings.Replace(master, `"state":2`, `"state":1`, 1)
	ns := func(d time.Duration) string { return fmt.Sprint(time.Now().Add(d).UnixNano()) }
	const addrs = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
		"3: eth0    inet 198.51.100.11/24 scope global eth0\\       valid_lft forever preferred_lft forever\n@monitor\n"

	t.Run("found", func(t *testing.T) {
		_, cfg := server(t, kaNode{
			script: func(w io.Writer) {
				io.WriteString(w, kaHeader+"@json "+ns(0)+"\n"+backup+"\n@end\n@nginx 2 100\n@json "+ns(100*time.Millisecond)+"\n"+master+"\n@end\n")
			},
			monitor: addrs + "3: eth0    inet 198.51.100.100/32 scope global eth0\\       valid_lft forever preferred_lft forever\n",
		}.handler(t))
		c := runNode(t, cfg, NodeConfig{Keepalived: true})
		u := c.next("snapshot", func(u ui.Update) bool { return u.Event != nil || u.Err != nil })
		if u.Event == nil || u.Event.Type != control.EventSnapshot || u.Event.Snapshot.Instances[0].State != control.StateBackup ||
			u.StatusEvery != DefaultStatusEvery || u.Event.Snapshot.VipdVersion != "Keepalived v2.2.7 (01/16,2022)" {
			t.Fatalf("first = %+v", u)
		}
		u = c.next("transition", func(u ui.Update) bool { return u.Event != nil || u.Err != nil })
		if u.Event == nil || u.Event.Type != control.EventTransition || u.Event.To != control.StateMaster {
			t.Fatalf("then = %+v", u)
		}
		c.next("the VIP held, from the monitor", func(u ui.Update) bool {
			return u.Status != nil && u.Status.Instances[0].State == control.StateMaster && u.Status.Instances[0].VIPPresent && u.Status.Nginx != nil
		})
	})

	for _, tt := range []struct {
		name, out string
		is        error
		says      string
	}{
		{"neither daemon", "@none none\n@none none\n", ui.ErrNoDaemon, "neither vipd nor keepalived runs"},
		{"no JSON support", "@keepalived 42\n@tmp /tmp\n@conf /etc/keepalived/keepalived.conf\n@version Keepalived v2.2.7\n@hostname lb1\n@nojson keepalived: unrecognized option '--signum=JSON'\n",
			ui.ErrKeepalivedUnreadable, "no JSON dump"},
		{"unreadable dump", kaHeader + strings.Repeat("@json "+ns(0)+"\n[{\"data\":{\"iname\n@end\n", kaBadDumps), ui.ErrKeepalivedUnreadable, "unreadable"},
		{"no dump", kaHeader + strings.Repeat("@nodump /tmp/n1/keepalived.json\n", kaBadDumps), ui.ErrKeepalivedUnreadable, "wrote no JSON dump"},
		{"proc unreadable", "@keepalived 42\n@error cannot read /proc/42/environ (keepalived's TMPDIR): run the console as root or with sudo\n", ui.ErrKeepalivedUnreadable, "/proc/42/environ"},
		{"stopped", kaHeader + "@json " + ns(0) + "\n" + master + "\n@end\n@gone 42\n@none vipd\n", ui.ErrKeepalivedStopped, "keepalived (pid 42) exited"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.out
			_, cfg := server(t, kaNode{script: func(w io.Writer) { io.WriteString(w, out) }, monitor: addrs}.handler(t))
			c := runNode(t, cfg, NodeConfig{Keepalived: true})
			u := c.next("the error", func(u ui.Update) bool { return u.Err != nil })
			if !errors.Is(u.Err, tt.is) || !strings.Contains(u.Err.Error(), tt.says) {
				t.Errorf("err = %v, want %v saying %q", u.Err, tt.is, tt.says)
			}
		})
	}

	// A shell that cannot run the script (the in-process demo's): vipd's
	// watch, as before.
	t.Run("fallback to vipd", func(t *testing.T) {
		t0 := time.Now()
		snap := control.Event{Time: t0, Type: control.EventSnapshot, Snapshot: ptr(status(control.StateBackup, false, t0))}
		_, cfg := server(t, func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
			if strings.HasPrefix(cmd, "vipd watch") {
				b, _ := json.Marshal(snap)
				stdout.Write(append(b, '\n'))
				<-ctx.Done()
				return 0
			}
			fmt.Fprintln(stderr, "demo: unknown command")
			return 127
		})
		c := runNode(t, cfg, NodeConfig{Keepalived: true})
		u := c.next("vipd's snapshot", func(u ui.Update) bool { return u.Event != nil || u.Err != nil })
		if u.Event == nil || u.Event.Snapshot.VipdVersion != "test" {
			t.Fatalf("got %+v", u)
		}
	})
}

// The script runs under dash, as /bin/sh on Debian: it parses.
func TestKaScriptParses(t *testing.T) {
	for _, sh := range []string{"/bin/sh", "/bin/dash", "/bin/bash"} {
		if _, err := os.Stat(sh); err != nil {
			continue
		}
		f := filepath.Join(t.TempDir(), "s")
		if err := os.WriteFile(f, []byte(kaScript("/run/vipd/control.sock", "", 100*time.Millisecond)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := execCommand(sh, "-n", f); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, out)
		}
	}
}

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
