package node

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/vrrp"
)

func parse(t *testing.T, conf string) *config.Config {
	t.Helper()
	c, err := config.Parse("t.conf", strings.NewReader(conf))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return c
}

func TestEngineConfig(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		want  vrrp.Config
		vips  []vipSpec
		links []string
	}{
		{
			name: "seed",
			conf: `global_defs {
    router_id nginx-01
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    nopreempt
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass qwert123\!
    }
    virtual_ipaddress {
        172.31.13.242 dev eth0
    }
}
`,
			want: vrrp.Config{
				VRID: 60, Priority: 100, Version: vrrp.Version2, Interval: time.Second, NoPreempt: true,
				InitialState: vrrp.StateBackup, Addresses: []netip.Prefix{netip.MustParsePrefix("172.31.13.242/32")},
				AuthType: vrrp.AuthSimple, AuthPass: "qwert123",
				GARPRepeat: 5, GARPInterval: 1250 * time.Millisecond, AdoptVIPs: true, StrangerHold: vrrp.DefaultStrangerHold,
			},
			vips:  []vipSpec{{Prefix: netip.MustParsePrefix("172.31.13.242/32"), Dev: "eth0"}},
			links: []string{"eth0"},
		},
		{
			name: "everything",
			conf: `global_defs {
    vrrp_startup_delay 2
    vrrp_garp_master_repeat 1
}
vrrp_instance VI_2 {
    state MASTER
    priority 200
    interface eth1
    virtual_router_id 7
    version 3
    advert_int 0.1
    preempt_delay 0
    unicast_src_ip 198.51.100.11
    unicast_peer {
        198.51.100.12
    }
    garp_master_delay 0
    virtual_ipaddress {
        198.51.100.100/24 label eth1:vip
        198.51.100.101/24 dev eth2
    }
    track_interface {
        eth2
        eth1
    }
}
`,
			want: vrrp.Config{
				VRID: 7, Priority: 200, Version: vrrp.Version3, Interval: 100 * time.Millisecond,
				InitialState: vrrp.StateMaster, Primary: netip.MustParseAddr("198.51.100.11"),
				Peers:      []netip.Addr{netip.MustParseAddr("198.51.100.12")},
				Addresses:  []netip.Prefix{netip.MustParsePrefix("198.51.100.100/24"), netip.MustParsePrefix("198.51.100.101/24")},
				GARPRepeat: 1, GARPInterval: vrrp.DefaultGARPInterval, StartupDelay: 2 * time.Second, AdoptVIPs: true, StrangerHold: vrrp.DefaultStrangerHold,
			},
			vips: []vipSpec{
				{Prefix: netip.MustParsePrefix("198.51.100.100/24"), Dev: "eth1", Label: "eth1:vip"},
				{Prefix: netip.MustParsePrefix("198.51.100.101/24"), Dev: "eth2"},
			},
			links: []string{"eth1", "eth2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parse(t, tt.conf)
			s, err := newSpec(c, &c.Instances[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Engine, tt.want) {
				t.Errorf("engine config:\n got %+v\nwant %+v", s.Engine, tt.want)
			}
			if !reflect.DeepEqual(s.VIPs, tt.vips) {
				t.Errorf("VIPs:\n got %+v\nwant %+v", s.VIPs, tt.vips)
			}
			if !reflect.DeepEqual(s.Links, tt.links) {
				t.Errorf("links %v, want %v", s.Links, tt.links)
			}
			if _, err := vrrp.NewInstance(withPrimary(s.Engine), nopConn{}, nopAddresser{}, nopAnnouncer{}); err != nil {
				t.Errorf("engine refuses it: %v", err)
			}
		})
	}
}

func withPrimary(c vrrp.Config) vrrp.Config {
	if !c.Primary.IsValid() {
		c.Primary = standInPrimary(primaryFamily(c.Addresses), c.Peers)
	}
	return c
}

func TestGARPInterval(t *testing.T) {
	for _, tt := range []struct {
		repeat int
		delay  time.Duration
		want   time.Duration
	}{
		{5, 5 * time.Second, 1250 * time.Millisecond}, // keepalived's defaults: the 5th at 5 s
		{3, time.Second, vrrp.DefaultGARPInterval},    // never within Linux's locktime
		{1, 5 * time.Second, vrrp.DefaultGARPInterval},
		{5, 0, vrrp.DefaultGARPInterval},
	} {
		if got := garpInterval(tt.repeat, tt.delay); got != tt.want {
			t.Errorf("garpInterval(%d, %v) = %v, want %v", tt.repeat, tt.delay, got, tt.want)
		}
	}
}

func TestSameEngine(t *testing.T) {
	base := `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    %s
    virtual_ipaddress {
        198.51.100.100/24
    }
%s}
`
	spec := func(line, tail string) spec {
		t.Helper()
		c := parse(t, "vrrp_script chk {\n    script /bin/true\n}\nglobal_defs {\n    vrrp_startup_delay 1\n}\n"+
			strings.Replace(strings.Replace(base, "%s", line, 1), "%s", tail, 1))
		s, err := newSpec(c, &c.Instances[0])
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := spec("priority 100", "")
	for _, tt := range []struct {
		line, tail string
		same       bool
	}{
		{"priority 100", "", true},
		{"priority 100", "    notify_master /bin/true\n    track_script {\n        chk\n    }\n    track_interface {\n        eth1\n    }\n", true},
		{"priority 101", "", false},
		{"advert_int 2", "", false},
		{"nopreempt", "", false},
		{"unicast_peer {\n198.51.100.3\n}", "", false},
	} {
		if got := sameEngine(a, spec(tt.line, tt.tail)); got != tt.same {
			t.Errorf("%q %q: sameEngine %v, want %v", tt.line, tt.tail, got, tt.same)
		}
	}
}

func TestCheck(t *testing.T) {
	inst := func(body string) string {
		return "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n    virtual_ipaddress {\n        198.51.100.100/24\n    }\n" + body + "}\n"
	}
	tests := []struct {
		name        string
		conf        string
		errs, warns []string
	}{
		{name: "clean", conf: inst("")},
		// AH: the parser refuses it first (node/config's TestKeepalivedParity).
		{
			name: "missing scripts",
			conf: "vrrp_script chk {\n    script /nonexistent/chk\n}\n" + inst("    track_script {\n        chk\n    }\n    notify_master \"/nonexistent/n.sh master\" nobody\n"),
			warns: []string{"t.conf:1: vrrp_script chk: /nonexistent/chk not found or not executable here: keepalived disables the script",
				"t.conf:13: notify_master: /nonexistent/n.sh of vrrp_instance VI_1 not found"},
		},
		{
			name: "IPv6",
			conf: "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n    version 3\n    virtual_ipaddress {\n        2001:db8::1\n    }\n}\n",
		},
		{
			name: "IPv6 unicast",
			conf: "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n    version 3\n    unicast_src_ip 2001:db8::11\n    unicast_peer {\n        2001:db8::12\n    }\n    virtual_ipaddress {\n        2001:db8::1\n    }\n}\n",
		},
		{
			name: "IPv6 VIP, IPv4 peer",
			conf: "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n    version 3\n    unicast_peer {\n        198.51.100.12\n    }\n    virtual_ipaddress {\n        2001:db8::1\n    }\n}\n",
			errs: []string{"t.conf:1: vrrp_instance VI_1: unicast_peer 198.51.100.12: not an IPv6 address like the instance's VIPs"},
		},
		{
			name:  "no VIP",
			conf:  "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n}\n",
			errs:  []string{"t.conf:1: vrrp_instance VI_1: invalid configuration of VRRP instance 60: 0 virtual addresses: want 1 to 255"},
			warns: []string{"t.conf:1: vrrp_instance VI_1: no virtual_ipaddress"},
		},
		{
			// The parser's warning (config, beside vipd -t's listing),
			// once: Check does not repeat it.
			name:  "weights are FAULTs",
			conf:  "vrrp_script chk {\n    script /bin/true\n    weight -20\n}\n" + inst("    track_script {\n        chk\n    }\n    track_interface {\n        lo weight 10\n    }\n"),
			warns: []string{"t.conf:12: track_script chk: weight -20: vipd does not change priorities", "t.conf:15: track_interface lo: weight 10: vipd does not change priorities"},
		},
		{
			name:  "missing interface, brd",
			conf:  "vrrp_instance VI_1 {\n    interface nosuch9\n    virtual_router_id 60\n    virtual_ipaddress {\n        198.51.100.100/24 brd + dev lo\n    }\n}\n",
			warns: []string{"t.conf:5: virtual_ipaddress 198.51.100.100/24: brd and scope are not supported", "t.conf:2: interface nosuch9: not found on this host"},
		},
		{
			// The parser warned and the guard refused: now both accept
			// it, as keepalived does (checks never overlap).
			name:  "guard timeout over interval",
			conf:  "vipd_nginx_check ng {\n    url http://127.0.0.1/\n    interval 0.2\n    timeout 0.5\n}\n" + inst("    track_script {\n        ng\n    }\n"),
			warns: []string{"t.conf:4: timeout 0.5s is longer than interval 0.2s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parse(t, tt.conf)
			errs, warns := Check(c, OS{})
			match(t, "errors", errs, tt.errs)
			// As vipd -t prints them: the parser's, then Check's.
			match(t, "warnings", append(slices.Clone(c.Warnings), warns...), tt.warns)
		})
	}
}

// match checks that each diagnostic starts with the wanted text, in order.
func match(t *testing.T, what string, got []config.Diagnostic, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d %q, want %d %q", what, len(got), got, len(want), want)
		return
	}
	for i := range got {
		if !strings.HasPrefix(got[i].String(), want[i]) {
			t.Errorf("%s[%d]:\n got %q\nwant %q...", what, i, got[i].String(), want[i])
		}
	}
}

// TestCheckFileSeed runs `vipd -t` on the seed's keepalived.conf verbatim.
func TestCheckFileSeed(t *testing.T) {
	var out, errOut bytes.Buffer
	ok := CheckFile(&out, &errOut, "../fixtures/configs/keepalived.conf", nil)
	if !ok {
		t.Fatalf("seed refused:\n%s", errOut.String())
	}
	for _, want := range []string{
		`keepalived.conf:17: warning: "!" inside a word starts a comment`,
		"test is successful (1 warning(s))",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "silent crash           3×1s + Skew_Time                             3.609s") {
		t.Errorf("stdout lacks the failover budget:\n%s", out.String())
	}
}

// TestCheckFileWeights: on weighted tracks, vipd -t's warnings (stderr) and
// listing (stdout) say the same thing, once each: a failure means FAULT.
func TestCheckFileWeights(t *testing.T) {
	var out, errOut bytes.Buffer
	if !CheckFile(&out, &errOut, "config/testdata/weights.conf", nil) {
		t.Fatalf("refused:\n%s", errOut.String())
	}
	for _, w := range []string{"track_script chk_nginx: weight -20", "track_script nginx: weight -4", "track_interface eth0: weight -10"} {
		if n := strings.Count(errOut.String(), w+": vipd does not change priorities"); n != 1 {
			t.Errorf("stderr says %q %d times, want once:\n%s", w, n, errOut.String())
		}
	}
	if !strings.Contains(errOut.String(), "test is successful (3 warning(s))") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
	if n := strings.Count(out.String(), "(ignored: failure means FAULT)"); n != 4 {
		t.Errorf("stdout shows %d ignored weights, want 4 (three tracks, one vrrp_script):\n%s", n, out.String())
	}
	for _, contra := range []string{"changes priority", "if the peer's priority", "no handover"} {
		if strings.Contains(out.String()+errOut.String(), contra) {
			t.Errorf("vipd -t says %q, which vipd does not do:\n%s%s", contra, out.String(), errOut.String())
		}
	}
}

func TestCheckFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/bad.conf"
	conf := "vrrp_instance VI_1 {\n    interface eth0\n    virtual_router_id 300\n    authentication {\n        auth_type AH\n        auth_pass x\n    }\n}\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if CheckFile(&out, &errOut, path, nil) {
		t.Fatalf("bad file accepted")
	}
	if !strings.Contains(errOut.String(), "bad.conf:3: virtual_router_id: expected an integer 1-255") ||
		!strings.Contains(errOut.String(), "test failed") || out.Len() != 0 {
		t.Errorf("stdout %q, stderr:\n%s", out.String(), errOut.String())
	}
	if CheckFile(&out, &errOut, dir+"/missing.conf", nil) {
		t.Errorf("missing file accepted")
	}
}

func TestExecNotify(t *testing.T) {
	ctx := t.Context()
	exit, out, err := execNotify{}.Run(ctx, []string{"/bin/sh", "-c", "echo hello; exit 3"}, "")
	if exit != 3 || err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Errorf("exit %d, output %q, err %v; want 3, hello, nil", exit, out, err)
	}
	// A script that leaves a child holding its output does not hold us up.
	start := time.Now()
	exit, _, err = execNotify{}.Run(ctx, []string{"/bin/sh", "-c", "sleep 1 & exit 0"}, "")
	if exit != 0 || err != nil || time.Since(start) > 2*time.Second {
		t.Errorf("exit %d, err %v after %v", exit, err, time.Since(start))
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	exit, _, err = execNotify{}.Run(tctx, []string{"/bin/sh", "-c", "sleep 5"}, "")
	if exit != -1 || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("timed out script: exit %d, err %v; want -1, killed", exit, err)
	}
	if exit, _, err := (execNotify{}).Run(ctx, []string{"/nonexistent/script"}, ""); exit != -1 || err == nil {
		t.Errorf("missing script: exit %d, err %v", exit, err)
	}
}

// TestCheckFileRC: `vipd -t` succeeds only when at least one instance will
// run, and counts every error it found.
func TestCheckFileRC(t *testing.T) {
	dir := t.TempDir()
	inst := "vrrp_instance VI_1 {\n    interface lo\n    virtual_router_id 60\n    virtual_ipaddress {\n        198.51.100.100/24\n    }\n}\n"
	tests := []struct {
		name, conf string
		ok         bool
		last       string // the summary line
	}{
		{"instance", inst, true, "test is successful (0 warning(s))"},
		{"empty", "", false, "test failed: 1 error(s)"},
		{"misspelt instance", strings.Replace(inst, "vrrp_instance", "vrrp_instanse", 1), false, "test failed: 1 error(s)"},
		{"byte-order mark", "\ufeff" + inst, false, "test failed: 1 error(s)"},
		{"35,576 errors", strings.Repeat("}\n", 35576), false, "test failed: 35576 error(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".conf")
			if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			ok := CheckFile(&out, &errOut, path, nil)
			lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
			if ok != tt.ok || !strings.HasSuffix(lines[len(lines)-1], tt.last) {
				t.Errorf("ok = %v, want %v; stderr:\n%s", ok, tt.ok, tail(errOut.String(), 5))
			}
		})
	}
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
