package check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/vipkit/vip/node/config"
)

// base is both nodes' file; a case changes a line on one side. Line numbers
// are in the margin of the cases below; the slot at line 25 takes lines of
// a case's own without moving any other.
const base = `global_defs {
    router_id nginx
}
vrrp_script chk_nginx {
    script "/etc/keepalived/check_nginx.sh"
    interval 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    priority 254
    nopreempt
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass qwert123
    }
    virtual_ipaddress {
        198.51.100.100/24
    }
    track_script {
        chk_nginx
    }
    ! slot
}
`

// edit replaces old (which must be there) with new in base.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("base has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func node(t *testing.T, name, file, text string) Node {
	t.Helper()
	c, err := config.Parse(file, strings.NewReader(text))
	var list config.ErrorList
	if err != nil && !errors.As(err, &list) {
		t.Fatalf("parse %s: %v", file, err)
	}
	return Node{Name: name, Daemon: "keepalived", Path: file, Config: c, Problems: list}
}

// want is a finding by kind, topic and line on each side (0: nothing on
// that side; negative: the instance block, as a default).
type want struct {
	kind   Kind
	topic  string
	la, lb int
}

func (w want) String() string { return fmt.Sprintf("%v %s a:%d b:%d", w.kind, w.topic, w.la, w.lb) }

func lineOf(p Place, file string, t *testing.T) int {
	switch {
	case p.IsZero():
		return 0
	case p.Pos.File != file:
		t.Errorf("place %v not in %s", p, file)
	case p.Default:
		return -p.Pos.Line
	}
	return p.Pos.Line
}

func TestCompare(t *testing.T) {
	const slot = "    ! slot\n"
	vipdNginx := "vipd_nginx_check chk_nginx {\n    url http://127.0.0.1/\n    pidfile /run/nginx.pid\n}\n"
	tests := []struct {
		name         string
		a, b         string
		addrA, addrB map[string][]netip.Addr
		want         []want // mismatches and warnings, in report order (problems left out)
		msg          string // in the first finding's message
	}{
		{name: "same", a: base, b: base},
		{name: "VRID", a: base, b: edit(t, "virtual_router_id 60", "virtual_router_id 61"),
			want: []want{{Mismatch, "virtual_router_id", 11, 11}}, msg: "virtual_router_id 60 on nginx-01, 61 on nginx-02"},
		{name: "VRRP version", a: base, b: edit(t, "advert_int 1", "version 3"),
			want: []want{{Mismatch, "version", -8, 14}}, msg: "VRRP version 2 on nginx-01, 3 on nginx-02"},
		{name: "global VRRP version", a: base, b: edit(t, "router_id nginx", "vrrp_version 3"),
			want: []want{{Mismatch, "version", -8, 2}}},
		{name: "advert_int", a: edit(t, "advert_int 1", "advert_int 2"), b: base,
			want: []want{{Mismatch, "advert_int", 14, 14}}, msg: "advert_int 2s on nginx-01, 1s on nginx-02"},
		{name: "password", a: base, b: edit(t, "auth_pass qwert123", "auth_pass qwert124"),
			want: []want{{Mismatch, "authentication", 15, 15}}, msg: "first 8 characters"},
		{name: "password beyond 8 characters counts not", a: base, b: edit(t, "auth_pass qwert123", "auth_pass qwert123!x"), want: nil},
		{name: "auth type", a: edit(t, "auth_type PASS", "auth_type AH"), b: base,
			want: []want{{Mismatch, "authentication", 15, 15}}, msg: "auth_type AH on nginx-01, PASS on nginx-02"},
		{name: "authentication one side",
			a: base, b: edit(t, "    authentication {\n        auth_type PASS\n        auth_pass qwert123\n    }\n", "    !\n    !\n    !\n    !\n"),
			want: []want{{Mismatch, "authentication", 15, -8}}, msg: "authentication on nginx-01 only"},
		{name: "VIP one side", a: edit(t, "        198.51.100.100/24\n", "        198.51.100.100/24\n        198.51.100.101/24\n"), b: base,
			want: []want{{Mismatch, "virtual_ipaddress", 21, 19}}, msg: "VIP 198.51.100.101/24 only on nginx-01"},
		{name: "VIP other side", a: base, b: edit(t, "198.51.100.100/24", "198.51.100.102/24"),
			want: []want{{Mismatch, "virtual_ipaddress", 20, 19}, {Mismatch, "virtual_ipaddress", 19, 20}}},
		{name: "VIP prefix", a: base, b: edit(t, "198.51.100.100/24", "198.51.100.100/25"),
			want: []want{{Mismatch, "virtual_ipaddress", 20, 20}}},
		{name: "VIP interface", a: base, b: edit(t, "198.51.100.100/24", "198.51.100.100/24 dev eth1"),
			want: []want{{Mismatch, "virtual_ipaddress", 20, 20}}, msg: "goes on eth0 on nginx-01, on eth1 on nginx-02"},
		{name: "excluded VIP one side", a: edit(t, slot, "    virtual_ipaddress_excluded {\n        2001:db8::100/64\n    }\n"), b: base,
			want: []want{{Mismatch, "virtual_ipaddress_excluded", 26, -8}}, msg: "excluded VIP 2001:db8::100/64 only on nginx-01"},
		{name: "excluded VIP other side", a: base, b: edit(t, slot, "    virtual_ipaddress_excluded {\n        2001:db8::100/64\n    }\n"),
			want: []want{{Mismatch, "virtual_ipaddress_excluded", -8, 26}}, msg: "excluded VIP 2001:db8::100/64 only on nginx-02"},
		{name: "excluded VIPs alike", a: edit(t, slot, "    virtual_ipaddress_excluded {\n        2001:db8::100/64\n    }\n"),
			b: edit(t, slot, "    virtual_ipaddress_excluded {\n        2001:db8::100/64\n    }\n")},
		{name: "VIP dev naming the instance's interface", a: base, b: edit(t, "198.51.100.100/24", "198.51.100.100/24 dev eth0")},
		{name: "unicast one side", a: edit(t, slot, "    unicast_peer { 198.51.100.12 }\n"), b: base,
			want: []want{{Mismatch, "unicast_peer", 25, -8}}, msg: "unicast on nginx-01, multicast on nginx-02"},
		{name: "unicast peers not pointing at each other",
			a:    edit(t, slot, "    unicast_src_ip 198.51.100.11\n    unicast_peer { 198.51.100.12 }\n"),
			b:    edit(t, slot, "    unicast_src_ip 198.51.100.12\n    unicast_peer { 198.51.100.13 }\n"),
			want: []want{{Mismatch, "unicast_peer", 25, 26}}, msg: "nginx-02's unicast_peer 198.51.100.13 does not name nginx-01 (198.51.100.11)"},
		{name: "unicast peers by interface address",
			a: edit(t, slot, "    unicast_peer { 198.51.100.12 }\n"), b: edit(t, slot, "    unicast_peer { 198.51.100.11 }\n"),
			addrA: map[string][]netip.Addr{"eth0": {netip.MustParseAddr("198.51.100.11")}},
			addrB: map[string][]netip.Addr{"eth0": {netip.MustParseAddr("198.51.100.12")}}},
		{name: "unicast peer naming another address",
			a: edit(t, slot, "    unicast_peer { 198.51.100.12 }\n"), b: edit(t, slot, "    unicast_peer { 198.51.100.11 }\n"),
			addrA: map[string][]netip.Addr{"eth0": {netip.MustParseAddr("198.51.100.21")}},
			addrB: map[string][]netip.Addr{"eth0": {netip.MustParseAddr("198.51.100.12")}},
			want:  []want{{Mismatch, "unicast_peer", -8, 25}}, msg: "does not name nginx-01 (198.51.100.21)"},
		{name: "unicast peers, addresses unknown",
			a: edit(t, slot, "    unicast_peer { 198.51.100.12 }\n"), b: edit(t, slot, "    unicast_peer { 198.51.100.11 }\n"),
			want: []want{{Warning, "unicast_peer", 25, -8}, {Warning, "unicast_peer", -8, 25}}, msg: "cannot tell"},
		{name: "nopreempt with state MASTER", a: base, b: edit(t, "state BACKUP", "state MASTER"),
			want: []want{{Mismatch, "nopreempt", 0, 13}}, msg: "nopreempt with state MASTER (/etc/keepalived/b.conf:9) on nginx-02"},
		{name: "nopreempt with priority 255", a: edit(t, "priority 254", "priority 255"), b: base,
			want: []want{{Mismatch, "nopreempt", 13, 0}}, msg: "nopreempt with priority 255 (/etc/keepalived/a.conf:12) on nginx-01"},
		{name: "nopreempt one side", a: base, b: edit(t, "    nopreempt\n", "    !\n"),
			want: []want{{Warning, "nopreempt", 13, -8}}, msg: "nopreempt on nginx-01 only"},
		{name: "check one side", a: base, b: edit(t, "        chk_nginx\n", "        !\n"),
			want: []want{{Mismatch, "track_script", 23, 22}}, msg: "nginx check (chk_nginx) on nginx-01 only"},
		{name: "track_interface one side", a: edit(t, slot, "    track_interface { eth1 }\n"), b: base,
			want: []want{{Mismatch, "track_script", 25, 22}}, msg: "track_interface eth1 on nginx-01 only"},
		{name: "vipd's nginx guard is check_nginx.sh's equal",
			a: base, b: edit(t, "vrrp_script chk_nginx {\n    script \"/etc/keepalived/check_nginx.sh\"\n    interval 2\n}\n", vipdNginx)},
		{name: "another script is not", a: edit(t, "check_nginx.sh", "check_disk.sh"), b: base,
			want: []want{{Mismatch, "track_script", 23, 22}, {Mismatch, "track_script", 22, 23}}, msg: "track_script chk_nginx on nginx-01 only"},
		{name: "instance one side", a: base, b: base + "vrrp_instance VI_2 {\n    interface eth1\n    virtual_router_id 61\n    priority 254\n    virtual_ipaddress {\n        198.51.100.200\n    }\n}\n",
			want: []want{{Mismatch, "vrrp_instance", 0, 27}}, msg: "only on nginx-02"},
		{name: "interface names differ", a: base, b: edit(t, "interface eth0", "interface ens3"),
			want: []want{{Warning, "interface", 10, 10}}},
		{name: "priority 100: Skew_Time", a: edit(t, "priority 254", "priority 100"), b: edit(t, "    priority 254\n", "    !\n"),
			want: []want{{Warning, "priority", 12, -8}}, msg: "a handover to nginx-01 waits Skew_Time 609ms, to nginx-02 609ms; priority 254 on both (with nopreempt) would wait 8ms"},
		{name: "priority 200 with VRRPv3 at 0.1 s is fast enough",
			a: edit(t, "priority 254", "priority 200", "advert_int 1", "advert_int 0.1", "router_id nginx", "vrrp_version 3", "    authentication {\n        auth_type PASS\n        auth_pass qwert123\n    }\n", "    !\n    !\n    !\n    !\n"),
			b: edit(t, "priority 254", "priority 200", "advert_int 1", "advert_int 0.1", "router_id nginx", "vrrp_version 3", "    authentication {\n        auth_type PASS\n        auth_pass qwert123\n    }\n", "    !\n    !\n    !\n    !\n")},
		{name: "several at once", a: edit(t, "advert_int 1", "advert_int 3", "auth_pass qwert123", "auth_pass other"), b: edit(t, "priority 254", "priority 100"),
			want: []want{{Mismatch, "advert_int", 14, 14}, {Mismatch, "authentication", 15, 15}, {Warning, "priority", 12, 12}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := node(t, "nginx-01", "/etc/keepalived/a.conf", tt.a)
			b := node(t, "nginx-02", "/etc/keepalived/b.conf", tt.b)
			a.Addrs, b.Addrs = tt.addrA, tt.addrB
			r := Compare(a, b)
			var got []want
			for _, f := range r.Findings {
				if f.Topic == "config" {
					continue
				}
				got = append(got, want{f.Kind, f.Topic, lineOf(f.A, a.Path, t), lineOf(f.B, b.Path, t)})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings\n got %v\nwant %v\n%s", got, tt.want, strings.Join(r.Lines(), "\n"))
			}
			if tt.msg != "" && (len(r.Findings) == 0 || !strings.Contains(r.Findings[0].Msg, tt.msg)) {
				t.Errorf("first finding %v, want it to say %q", r.Findings, tt.msg)
			}
			wantExit := ExitConsistent
			if slices.ContainsFunc(tt.want, func(w want) bool { return w.kind == Mismatch }) {
				wantExit = ExitMismatch
			}
			if got := r.ExitCode(); got != wantExit {
				t.Errorf("exit code %d, want %d", got, wantExit)
			}
			if strings.Contains(strings.Join(r.Lines(), "\n"), "qwert") {
				t.Errorf("the report shows a password:\n%s", strings.Join(r.Lines(), "\n"))
			}
		})
	}
}

// node/config's errors are warnings on their own side, unless a finding
// already points at that line.
func TestProblems(t *testing.T) {
	a := node(t, "nginx-01", "a.conf", base)
	b := node(t, "nginx-02", "b.conf", edit(t, "state BACKUP", "state MASTER"))
	// node/config's own error is at the nopreempt line, as the finding.
	b.Problems = append(b.Problems, config.Diagnostic{File: "b.conf", Line: 5, Msg: "a line of its own"})
	r := Compare(a, b)
	var cfg []Finding
	for _, f := range r.Findings {
		if f.Topic == "config" {
			cfg = append(cfg, f)
		}
	}
	if len(cfg) != 1 || cfg[0].Kind != Warning || cfg[0].B.Pos != (config.Pos{File: "b.conf", Line: 5}) || !cfg[0].A.IsZero() ||
		cfg[0].Msg != "nginx-02: a line of its own" {
		t.Errorf("config findings %+v", cfg)
	}
}

func TestDrift(t *testing.T) {
	a := node(t, "nginx-01", "a.conf", base)
	b := node(t, "nginx-02", "b.conf", base)
	b.Drift = []Drift{{File: "b.conf", Msg: "changed on disk since vipd loaded it"}}
	r := Compare(a, b)
	if len(r.Findings) != 1 || r.Findings[0].Kind != Warning || r.Findings[0].B.Pos.File != "b.conf" || r.ExitCode() != ExitConsistent {
		t.Errorf("findings %+v", r.Findings)
	}
}

func TestPairExitCodes(t *testing.T) {
	good := func(name, text string) Source {
		return SourceFunc(func(context.Context) (Node, error) { return node(t, name, name+".conf", text), nil })
	}
	bad := SourceFunc(func(context.Context) (Node, error) {
		return Node{Name: "nginx-02"}, errors.New("no keepalived or vipd running")
	})
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		a, b Source
		exit int
		sum  string
	}{
		{"consistent", good("nginx-01", base), good("nginx-02", base), ExitConsistent, "configs consistent"},
		{"warnings only", good("nginx-01", edit(t, "priority 254", "priority 100")), good("nginx-02", base), ExitConsistent, "configs consistent, 1 warning"},
		{"mismatch", good("nginx-01", base), good("nginx-02", edit(t, "advert_int 1", "advert_int 2")), ExitMismatch, "config mismatch (1 mismatch): advert_int 1s on nginx-01, 2s on nginx-02"},
		{"unreadable", good("nginx-01", base), bad, ExitUnreadable, "config check: cannot read nginx-02: no keepalived or vipd running"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Pair(ctx, tt.a, tt.b)
			if (err != nil) != (tt.exit == ExitUnreadable) {
				t.Errorf("Pair error %v", err)
			}
			if got := r.ExitCode(); got != tt.exit {
				t.Errorf("exit %d, want %d", got, tt.exit)
			}
			if got := r.Summary(); !strings.HasPrefix(got, tt.sum) {
				t.Errorf("summary %q, want %q...", got, tt.sum)
			}
		})
	}
}

func TestLines(t *testing.T) {
	a := node(t, "nginx-01", "/etc/keepalived/keepalived.conf", base)
	b := node(t, "nginx-02", "/etc/vipd/keepalived.conf", edit(t, "advert_int 1", "version 3"))
	b.Daemon = "vipd"
	r := Compare(a, b)
	got := strings.Join(r.Lines(), "\n")
	for _, w := range []string{
		"nginx-01: keepalived, /etc/keepalived/keepalived.conf",
		"nginx-02: vipd, /etc/vipd/keepalived.conf",
		"MISMATCH: VI_1 (VRID 60 on eth0): VRRP version 2 on nginx-01, 3 on nginx-02",
		"    nginx-01: /etc/keepalived/keepalived.conf:8 (not set: default)",
		"    nginx-02: /etc/vipd/keepalived.conf:14",
		"1 mismatch, 1 warning: the pair is broken",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("report lacks %q:\n%s", w, got)
		}
	}
}

func TestWithVIP(t *testing.T) {
	r := Compare(node(t, "nginx-01", "a.conf", base), node(t, "nginx-02", "b.conf", base))
	if got := r.WithVIP(netip.MustParseAddr("198.51.100.100")); len(got.Findings) != 0 {
		t.Errorf("the pair's own VIP: %v", got.Findings)
	}
	got := r.WithVIP(netip.MustParseAddr("198.51.100.200"))
	if len(got.Findings) != 1 || got.Findings[0].Kind != Warning || got.Findings[0].A.Pos.File != "a.conf" || got.ExitCode() != ExitConsistent ||
		!strings.Contains(got.Findings[0].Msg, "198.51.100.200") || len(r.Findings) != 0 {
		t.Errorf("another VIP: %v (and the original %v)", got.Findings, r.Findings)
	}
}
