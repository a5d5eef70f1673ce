package config

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestLoadSeed parses the operator's keepalived.conf exactly as published
// in the seed document (fixtures/configs holds the same text).
func TestLoadSeed(t *testing.T) {
	c, err := Load("testdata/seed.conf")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// keepalived reads "auth_pass qwert123!" as "qwert123": the "!" starts a
	// comment (checked with keepalived 2.2.7 -t: no truncation message,
	// while "qwert1234" gets "Truncating auth_pass to 8 characters").
	wantWarn := []string{
		`testdata/seed.conf:17: "!" inside a word starts a comment: the rest of the line from column 27 is ignored (write \! to keep it)`,
	}
	if got := strs(c.Warnings); !reflect.DeepEqual(got, wantWarn) {
		t.Errorf("warnings:\n got %q\nwant %q", got, wantWarn)
	}
	if c.Global.RouterID != "nginx-01" || c.Global.VRRPVersion != 2 {
		t.Errorf("global = %+v", c.Global)
	}
	if len(c.Scripts) != 1 {
		t.Fatalf("scripts = %d, want 1", len(c.Scripts))
	}
	s := c.Scripts[0]
	wantScript := Script{
		Name: "chk_nginx", Pos: Pos{"testdata/seed.conf", 5},
		Command:  []string{"/etc/keepalived/check_nginx.sh"},
		Interval: 2 * time.Second, Timeout: 2 * time.Second, Rise: 1, Fall: 1,
	}
	s.given = nil
	if !reflect.DeepEqual(s, wantScript) {
		t.Errorf("script:\n got %+v\nwant %+v", s, wantScript)
	}
	if len(c.Instances) != 1 {
		t.Fatalf("instances = %d, want 1", len(c.Instances))
	}
	in := c.Instances[0]
	in.given = nil
	want := Instance{
		Name: "VI_1", Pos: Pos{"testdata/seed.conf", 9},
		State: Backup, Interface: "eth0", VRID: 60,
		Priority: 100, // default: the seed's author believed 0
		Version:  2, AdvertInt: time.Second, Nopreempt: true,
		Auth: &Auth{Type: "PASS", Pass: "qwert123"},
		VIPs: []VIP{{
			Prefix: netip.MustParsePrefix("172.31.13.242/32"), Dev: "eth0",
			Pos: Pos{"testdata/seed.conf", 20},
		}},
		Tracks:          []Track{{Name: "chk_nginx", Pos: Pos{"testdata/seed.conf", 23}}},
		GARPMasterDelay: 5 * time.Second, GARPRepeat: 5,
	}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("instance:\n got %+v\nwant %+v", in, want)
	}
	if got, want := c.Files, []string{"testdata/seed.conf"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files = %q, want %q", got, want)
	}
}

func TestSample(t *testing.T) {
	c, err := Parse("sample.conf", strings.NewReader(Sample))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(c.Warnings) > 0 {
		t.Errorf("warnings: %q", strs(c.Warnings))
	}
	in := c.Instances[0]
	if in.Priority != 254 || !in.Nopreempt || len(in.Tracks) != 1 || !in.Tracks[0].Nginx {
		t.Errorf("instance = %+v", in)
	}
}

// minimal is an instance body that parses cleanly; tests add lines to it.
const minimal = `
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        198.51.100.10
    }
%s
}
`

func TestParseValues(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		check func(t *testing.T, c *Config)
	}{
		{
			name: "defaults",
			conf: strings.Replace(minimal, "%s", "", 1),
			check: func(t *testing.T, c *Config) {
				in := c.Instances[0]
				if in.State != Backup || in.Priority != 100 || in.AdvertInt != time.Second ||
					in.Version != 2 || in.Nopreempt || in.Auth != nil || in.GARPMasterDelay != 5*time.Second {
					t.Errorf("defaults = %+v", in)
				}
				if got := in.VIPs[0].Prefix; got != netip.MustParsePrefix("198.51.100.10/32") {
					t.Errorf("VIP = %v, want /32", got)
				}
			},
		},
		{
			name: "virtual_ipaddress_excluded: any family, with dev",
			conf: strings.Replace(minimal, "%s", "virtual_ipaddress_excluded {\n 2001:db8::10/64 dev eth1\n 198.51.100.11\n}", 1),
			check: func(t *testing.T, c *Config) {
				in := c.Instances[0]
				want := []VIP{{Prefix: netip.MustParsePrefix("2001:db8::10/64"), Dev: "eth1"}, {Prefix: netip.MustParsePrefix("198.51.100.11/32")}}
				if len(in.ExcludedVIPs) != 2 || in.ExcludedVIPs[0].Prefix != want[0].Prefix || in.ExcludedVIPs[0].Dev != "eth1" || in.ExcludedVIPs[1].Prefix != want[1].Prefix {
					t.Errorf("ExcludedVIPs = %v, want %v", in.ExcludedVIPs, want)
				}
				if len(in.VIPs) != 1 || in.Version != 2 {
					t.Errorf("VIPs %v, version %d: want the one IPv4 VIP, VRRPv2 (excluded addresses choose no family)", in.VIPs, in.Version)
				}
				if held := in.HeldVIPs(); len(held) != 3 || in.VIPBlock(held[2]) != "virtual_ipaddress_excluded" || in.VIPBlock(held[0]) != "virtual_ipaddress" {
					t.Errorf("HeldVIPs = %v", held)
				}
			},
		},
		{
			name: "state MASTER without priority is the owner",
			conf: strings.Replace(minimal, "%s", "state MASTER", 1),
			check: func(t *testing.T, c *Config) {
				if got := c.Instances[0].Priority; got != 255 {
					t.Errorf("priority = %d, want 255", got)
				}
			},
		},
		{
			name: "v3 fractional advert_int",
			conf: "global_defs {\n vrrp_version 3\n}\n" + strings.Replace(minimal, "%s", "advert_int 0.25", 1),
			check: func(t *testing.T, c *Config) {
				in := c.Instances[0]
				if in.Version != 3 || in.AdvertInt != 250*time.Millisecond {
					t.Errorf("version %d advert %v", in.Version, in.AdvertInt)
				}
			},
		},
		{
			name: "per-instance version 3",
			conf: strings.Replace(minimal, "%s", "version 3\nadvert_int 0.1", 1),
			check: func(t *testing.T, c *Config) {
				if in := c.Instances[0]; in.Version != 3 || in.AdvertInt != 100*time.Millisecond {
					t.Errorf("version %d advert %v", in.Version, in.AdvertInt)
				}
			},
		},
		{
			name: "VIP options and braces on one line",
			conf: `vrrp_instance VI_1 { interface eth0
virtual_router_id 7
virtual_ipaddress { 198.51.100.10/24 brd + dev veth0 scope global label veth0:1
 198.51.100.11/25 }
}`,
			check: func(t *testing.T, c *Config) {
				want := []VIP{
					{Prefix: netip.MustParsePrefix("198.51.100.10/24"), Brd: "+", Dev: "veth0", Scope: "global", Label: "veth0:1", Pos: Pos{"test.conf", 3}},
					{Prefix: netip.MustParsePrefix("198.51.100.11/25"), Pos: Pos{"test.conf", 4}},
				}
				if got := c.Instances[0].VIPs; !reflect.DeepEqual(got, want) {
					t.Errorf("VIPs:\n got %+v\nwant %+v", got, want)
				}
			},
		},
		{
			name: "brace on its own line, comments everywhere",
			conf: `# leading comment
vrrp_instance VI_1   ! trailing comment
{
    interface eth0 # hash comment
    virtual_router_id 9
    priority 254
    virtual_ipaddress
    {
        198.51.100.10 ! comment
    }
}`,
			check: func(t *testing.T, c *Config) {
				in := c.Instances[0]
				if in.VRID != 9 || in.Priority != 254 || len(in.VIPs) != 1 {
					t.Errorf("instance = %+v", in)
				}
			},
		},
		{
			name: "escaped and quoted comment characters",
			conf: strings.Replace(minimal, "%s", "authentication {\nauth_type PASS\nauth_pass ab\\!cd\n}", 1),
			check: func(t *testing.T, c *Config) {
				if got := c.Instances[0].Auth.Pass; got != "ab!cd" {
					t.Errorf("pass = %q, want ab!cd", got)
				}
			},
		},
		{
			name: "everything",
			conf: `global_defs {
    router_id lb1
    script_user nginx www
    enable_script_security
    vrrp_startup_delay 2.5
    vrrp_garp_master_delay 3
    vrrp_garp_master_repeat 2
}
vrrp_script chk {
    script "/usr/bin/check --url 'http://127.0.0.1/a b'"
    interval 2
    timeout 3
    weight -20
    rise 2
    fall 3
    user nobody
}
vipd_nginx_check ng {
    url http://127.0.0.1:8134/
    pidfile /var/run/nginx18.pid
    interval 0.2
    timeout 0.15
    start_command "/usr/local/nginx18/sbin/nginx -c /usr/local/nginx18/conf/nginx.conf"
    restart_deadline 1.5
    fall 2
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 60
    priority 150
    advert_int 2
    preempt_delay 10
    virtual_ipaddress {
        198.51.100.10/24 dev eth0
    }
    track_script {
        chk weight -30
        ng
    }
    track_interface {
        eth1 weight -10
        eth2
    }
    unicast_src_ip 198.51.100.2
    unicast_peer {
        198.51.100.3
    }
    notify_master "/etc/keepalived/notify.sh master"
    notify_backup /etc/keepalived/backup.sh
    notify_fault "/bin/logger fault"
    notify_stop "/bin/true"
    notify "/etc/keepalived/any.sh"
    garp_master_delay 1
    garp_master_repeat 3
}
`,
			check: func(t *testing.T, c *Config) {
				g := c.Global
				g.given = nil
				wantG := Global{RouterID: "lb1", VRRPVersion: 2, ScriptUser: "nginx", ScriptGroup: "www",
					EnableScriptSecurity: true, StartupDelay: 2500 * time.Millisecond,
					GARPMasterDelay: 3 * time.Second, GARPMasterRepeat: 2}
				if !reflect.DeepEqual(g, wantG) {
					t.Errorf("global:\n got %+v\nwant %+v", g, wantG)
				}
				s := c.Scripts[0]
				if !reflect.DeepEqual(s.Command, []string{"/usr/bin/check", "--url", "http://127.0.0.1/a b"}) ||
					s.Interval != 2*time.Second || s.Timeout != 3*time.Second || s.Weight != -20 ||
					s.Rise != 2 || s.Fall != 3 || s.User != "nobody" {
					t.Errorf("script = %+v", s)
				}
				k := c.NginxChecks[0]
				k.given = nil
				wantK := NginxCheck{Name: "ng", Pos: Pos{"test.conf", 18},
					URL: "http://127.0.0.1:8134/", PIDFile: "/var/run/nginx18.pid",
					Interval: 200 * time.Millisecond, Timeout: 150 * time.Millisecond, Rise: 1, Fall: 2,
					StartCommand:    []string{"/usr/local/nginx18/sbin/nginx", "-c", "/usr/local/nginx18/conf/nginx.conf"},
					RestartDeadline: 1500 * time.Millisecond}
				if !reflect.DeepEqual(k, wantK) {
					t.Errorf("nginx check:\n got %+v\nwant %+v", k, wantK)
				}
				in := c.Instances[0]
				wantTracks := []Track{
					{Name: "chk", Weight: -30, Pos: Pos{"test.conf", 38}},
					{Name: "ng", Nginx: true, Pos: Pos{"test.conf", 39}},
				}
				if !reflect.DeepEqual(in.Tracks, wantTracks) {
					t.Errorf("tracks:\n got %+v\nwant %+v", in.Tracks, wantTracks)
				}
				wantTI := []TrackInterface{{Name: "eth1", Weight: -10, Pos: Pos{"test.conf", 42}}, {Name: "eth2", Pos: Pos{"test.conf", 43}}}
				if !reflect.DeepEqual(in.TrackInterfaces, wantTI) {
					t.Errorf("track_interface = %+v", in.TrackInterfaces)
				}
				wantN := Notify{
					Master: []string{"/etc/keepalived/notify.sh", "master"},
					Backup: []string{"/etc/keepalived/backup.sh"},
					Fault:  []string{"/bin/logger", "fault"},
					Stop:   []string{"/bin/true"},
					Any:    []string{"/etc/keepalived/any.sh"},
					At: map[string]Pos{"notify_master": {"test.conf", 49}, "notify_backup": {"test.conf", 50},
						"notify_fault": {"test.conf", 51}, "notify_stop": {"test.conf", 52}, "notify": {"test.conf", 53}},
				}
				if !reflect.DeepEqual(in.Notify, wantN) {
					t.Errorf("notify = %+v", in.Notify)
				}
				if in.UnicastSrc != netip.MustParseAddr("198.51.100.2") ||
					!reflect.DeepEqual(in.UnicastPeers, []netip.Addr{netip.MustParseAddr("198.51.100.3")}) {
					t.Errorf("unicast = %v %v", in.UnicastSrc, in.UnicastPeers)
				}
				if in.Priority != 150 || in.AdvertInt != 2*time.Second || in.PreemptDelay != 10*time.Second ||
					in.GARPMasterDelay != time.Second || in.GARPRepeat != 3 {
					t.Errorf("instance = %+v", in)
				}
			},
		},
		{
			name: "two instances, each with its own VIPs, in file order",
			conf: `vrrp_instance B {
    interface eth0
    virtual_router_id 2
    virtual_ipaddress {
        198.51.100.20
        198.51.100.21/24
    }
}
vrrp_instance A {
    interface eth0
    virtual_router_id 1
    priority 200
    virtual_ipaddress {
        198.51.100.10
    }
}`,
			check: func(t *testing.T, c *Config) {
				if len(c.Instances) != 2 {
					t.Fatalf("instances = %d", len(c.Instances))
				}
				b, a := c.Instances[0], c.Instances[1]
				if b.Name != "B" || a.Name != "A" || b.Pos.Line != 1 || a.Pos.Line != 9 {
					t.Errorf("order/pos: %s@%v %s@%v", b.Name, b.Pos, a.Name, a.Pos)
				}
				if len(b.VIPs) != 2 || len(a.VIPs) != 1 || a.VIPs[0].Prefix.Addr() != netip.MustParseAddr("198.51.100.10") {
					t.Errorf("VIPs: B %v A %v", b.VIPs, a.VIPs)
				}
				if c.Instance("A") != &c.Instances[1] {
					t.Error("Instance(A) does not find A")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("test.conf", strings.NewReader(tt.conf))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.check(t, c)
		})
	}
}

// TestErrors checks every error path: the message, its file:line, and that
// all errors of a file are reported, not only the first.
func TestErrors(t *testing.T) {
	inst := func(body string) string { return strings.Replace(minimal, "%s", body, 1) }
	tests := []struct {
		name string
		conf string
		want []string
	}{
		{"vrid not a number", strings.Replace(inst(""), "virtual_router_id 51", "virtual_router_id abc", 1),
			[]string{`t.conf:4: virtual_router_id: expected an integer 1-255, got "abc"`}},
		{"vrid 0", strings.Replace(inst(""), "virtual_router_id 51", "virtual_router_id 0", 1),
			[]string{`t.conf:4: virtual_router_id: expected an integer 1-255, got "0"`}},
		{"vrid missing", strings.Replace(inst(""), "virtual_router_id 51", "", 1),
			[]string{`t.conf:2: vrrp_instance VI_1: virtual_router_id is required (an integer 1-255, the same on both nodes)`}},
		{"interface missing", strings.Replace(inst(""), "interface eth0", "", 1),
			[]string{`t.conf:2: vrrp_instance VI_1: interface is required`}},
		{"interface too long", strings.Replace(inst(""), "eth0", "averyveryverylongname", 1),
			[]string{`t.conf:3: interface: expected an interface name of at most 15 characters without / or :, got "averyveryverylongname"`}},
		{"excluded VIP not an address", inst("virtual_ipaddress_excluded {\n 198.51.100.300\n}"),
			[]string{`t.conf:9: virtual_ipaddress_excluded: expected an IP address, got "198.51.100.300"`}},
		{"excluded VIP held by another instance", inst("virtual_ipaddress_excluded {\n 198.51.100.20\n}") + "vrrp_instance VI_2 {\n interface eth0\n virtual_router_id 52\n virtual_ipaddress {\n 198.51.100.20\n }\n}\n",
			[]string{`t.conf:16: virtual_ipaddress 198.51.100.20: already carried by vrrp_instance VI_1 at t.conf:2`}},
		{"priority 0", inst("priority 0"), []string{`t.conf:8: priority: expected an integer 1-255, got "0"`}},
		{"priority 256", inst("priority 256"), []string{`t.conf:8: priority: expected an integer 1-255, got "256"`}},
		{"priority two values", inst("priority 100 200"),
			[]string{`t.conf:8: priority: expected an integer 1-255, got 2 values "100" "200" (keepalived would use only the first)`}},
		{"priority nothing", inst("priority"), []string{`t.conf:8: priority: expected an integer 1-255, got nothing`}},
		{"state", inst("state master"), []string{`t.conf:8: state: expected MASTER or BACKUP, got "master"`}},
		{"state BACKUP after MASTER", inst("state MASTER\npriority 200\nstate BACKUP"),
			[]string{`t.conf:10: state: BACKUP after MASTER; keepalived would keep MASTER`}},
		{"v2 fractional advert_int", inst("advert_int 0.5"),
			[]string{`t.conf:8: advert_int: 0.5s is not a whole number of seconds; VRRPv2 carries whole seconds (keepalived would round it). Use vrrp_version 3 for fractions`}},
		{"v3 advert_int not centiseconds", inst("version 3\nadvert_int 0.125"),
			[]string{`t.conf:9: advert_int: 0.125s is not a multiple of 0.01 s; VRRPv3 carries centiseconds (keepalived would round it)`}},
		{"v3 advert_int too long", inst("version 3\nadvert_int 41"),
			[]string{`t.conf:9: advert_int: 41s is more than 40.95 s, the VRRPv3 maximum (keepalived would clamp it)`}},
		{"advert_int garbage", inst("advert_int 1e3"), []string{`t.conf:8: advert_int: expected seconds 0.01-255, got "1e3"`}},
		{"advert_int negative", inst("advert_int -1"), []string{`t.conf:8: advert_int: expected seconds 0.01-255, got "-1"`}},
		{"nopreempt with MASTER", inst("state MASTER\npriority 200\nnopreempt"),
			[]string{`t.conf:10: nopreempt with state MASTER: keepalived drops nopreempt with only a log line, so this node would take the VIP back whenever it starts; use state BACKUP on both nodes`}},
		{"nopreempt with 255", inst("priority 255\nnopreempt"),
			[]string{`t.conf:9: nopreempt with priority 255: the address owner always preempts, so keepalived drops nopreempt with only a log line; use at most 254`}},
		{"nopreempt with MASTER, default priority", inst("nopreempt\nstate MASTER"),
			[]string{`t.conf:8: nopreempt with state MASTER: keepalived drops nopreempt with only a log line, so this node would take the VIP back whenever it starts; use state BACKUP on both nodes`,
				`t.conf:8: nopreempt with priority 255: the address owner always preempts, so keepalived drops nopreempt with only a log line; use at most 254`}},
		{"nopreempt with value", inst("nopreempt yes"), []string{`t.conf:8: nopreempt: takes no value, got "yes"`}},
		{"preempt_delay with nopreempt", inst("nopreempt\npreempt_delay 5"),
			[]string{`t.conf:9: preempt_delay with nopreempt: keepalived drops preempt_delay with only a log line, as there is no preemption to delay`}},
		{"preempt_delay with MASTER", inst("state MASTER\npriority 100\npreempt_delay 5"),
			[]string{`t.conf:10: preempt_delay with state MASTER: keepalived drops preempt_delay with only a log line; use state BACKUP`}},
		{"auth type", inst("authentication {\nauth_type MD5\nauth_pass x\n}"),
			[]string{`t.conf:9: auth_type: expected PASS or AH, got "MD5"`}},
		{"auth without pass", inst("authentication {\nauth_type PASS\n}"),
			[]string{`t.conf:8: authentication: auth_type without auth_pass; keepalived would send no authentication`}},
		{"auth with v3", inst("version 3\nauthentication {\nauth_type PASS\nauth_pass x\n}"),
			[]string{`t.conf:9: authentication: VRRPv3 has no authentication; keepalived would ignore the block`}},
		{"authentication without block", inst("authentication PASS"),
			[]string{`t.conf:8: authentication: expected a block { ... }`}},
		{"priority with block", inst("priority 100 {\n}"), []string{`t.conf:8: priority: takes no block`}},
		{"bad VIP", inst("virtual_ipaddress {\n198.51.100.300\n198.51.100.1/33\n2001:db8::1 brd +\n198.51.100.2 dev\n198.51.100.3 scope nowhere-ish\n}"),
			[]string{`t.conf:9: virtual_ipaddress: expected an IP address, got "198.51.100.300"`,
				`t.conf:10: virtual_ipaddress: expected a prefix length 0-32, got "33"`,
				`t.conf:11: virtual_ipaddress 2001:db8::1: IPv6 has no broadcast address`,
				`t.conf:12: virtual_ipaddress 198.51.100.2: dev: expected a value, got nothing`,
				`t.conf:13: virtual_ipaddress 198.51.100.3: scope: expected host, link, global, site, nowhere or 0-255, got "nowhere-ish"`}},
		{"IPv6 VIP with v2", inst("virtual_ipaddress {\n2001:db8::10\n}"),
			[]string{`t.conf:9: virtual_ipaddress 2001:db8::10/128: an instance carries one address family; keepalived would not advertise this one. Use a second vrrp_instance`,
				`t.conf:9: virtual_ipaddress 2001:db8::10/128: VRRPv2 is IPv4 only; set vrrp_version 3`}},
		{"v3 without VIP", "vrrp_instance X {\ninterface eth0\nvirtual_router_id 3\nversion 3\n}",
			[]string{`t.conf:1: vrrp_instance X: virtual_ipaddress is required: VRRPv3 needs at least one address`}},
		{"track unknown script", inst("track_script {\nchk_nginx\n}"),
			[]string{`t.conf:9: track_script chk_nginx: no vrrp_script or vipd_nginx_check of that name; keepalived would ignore this track with only a log line`}},
		{"vrrp_script after the instance", inst("track_script {\nchk\n}") + "vrrp_script chk {\nscript /bin/true\n}\n",
			[]string{`t.conf:9: track_script chk: vrrp_script chk is defined later, at t.conf:12; keepalived would ignore this track with only a log line. Move the vrrp_script above vrrp_instance VI_1`}},
		{"track option", "vrrp_script chk {\nscript /bin/true\n}\n" + inst("track_script {\nchk wieght 2\n}"),
			[]string{`t.conf:12: track_script chk: expected "weight N", got "wieght"`}},
		{"track weight out of range", "vrrp_script chk {\nscript /bin/true\n}\n" + inst("track_script {\nchk weight 254\n}"),
			[]string{`t.conf:12: weight: expected an integer -253..253 [reverse], got "254"`}},
		{"unquoted script with arguments", "vrrp_script chk {\nscript /bin/check --fast\n}\n" + inst("track_script {\nchk\n}"),
			[]string{`t.conf:2: script: keepalived would run only "/bin/check" and drop "--fast"; quote the whole command: script "/bin/check --fast"`}},
		// notify_master CMD USER GROUP is keepalived's; more words are not.
		{"unquoted notify with arguments", inst("notify_master /bin/notify to master now"),
			[]string{`t.conf:8: notify_master: expected "COMMAND" [USER [GROUP]], got 3 words after the command "to" "master" "now"; quote the whole command`}},
		{"script missing", "vrrp_script chk {\ninterval 1\n}\n" + inst("track_script {\nchk\n}"),
			[]string{`t.conf:1: vrrp_script chk: script is required (keepalived would drop this vrrp_script)`}},
		{"script interval fraction", "vrrp_script chk {\nscript /bin/true\ninterval 0.5\n}\n" + inst("track_script {\nchk\n}"),
			[]string{`t.conf:3: interval: expected whole seconds 1-3600, got "0.5" (keepalived reads this value as an integer)`}},
		{"script weight", "vrrp_script chk {\nscript /bin/true\nweight -300\n}\n" + inst("track_script {\nchk\n}"),
			[]string{`t.conf:3: weight: expected an integer -253..253 [reverse], got "-300"`}},
		{"script rise 0", "vrrp_script chk {\nscript /bin/true\nrise 0\nfall x\n}\n" + inst("track_script {\nchk\n}"),
			[]string{`t.conf:3: rise: expected an integer 1-1000, got "0"`, `t.conf:4: fall: expected an integer 1-1000, got "x"`}},
		{"duplicate script", "vrrp_script chk {\nscript /bin/true\n}\nvrrp_script chk {\nscript /bin/false\n}\n" + inst("track_script {\nchk\n}"),
			[]string{`t.conf:4: vrrp_script chk: already defined at t.conf:1`}},
		{"duplicate instance", inst("") + "vrrp_instance VI_1 {\n}\n",
			[]string{`t.conf:10: vrrp_instance VI_1: already defined at t.conf:2`}},
		{"same VRID twice", inst("") + strings.Replace(strings.Replace(inst(""), "VI_1", "VI_2", 1), "198.51.100.10", "198.51.100.11", 1),
			[]string{`t.conf:11: vrrp_instance VI_2: virtual_router_id 51 on eth0 is already used by vrrp_instance VI_1 at t.conf:2`}},
		{"same VIP twice", inst("") + strings.Replace(strings.Replace(inst(""), "VI_1", "VI_2", 1), "51", "52", 1),
			[]string{`t.conf:15: virtual_ipaddress 198.51.100.10: already carried by vrrp_instance VI_1 at t.conf:2`}},
		{"instance without name", "vrrp_instance {\n}\n", []string{`t.conf:1: vrrp_instance: expected one name before "{", got 0 words`}},
		{"instance without block", "vrrp_instance VI_1\n", []string{`t.conf:1: vrrp_instance: expected a block { ... }`}},
		{"unclosed block", "vrrp_instance VI_1 {\ninterface eth0\n", []string{
			`t.conf:1: vrrp_instance: block "VI_1" is never closed (missing "}")`,
			`t.conf:1: vrrp_instance VI_1: virtual_router_id is required (an integer 1-255, the same on both nodes)`,
		}},
		{"extra close", inst("") + "}\n", []string{`t.conf:10: unexpected "}": no block is open`}},
		{"stray open", "{\n}\n", []string{`t.conf:1: unexpected "{": a block must follow a keyword`}},
		{"unterminated quote", inst(`notify_master "/bin/x`), []string{`t.conf:8: unterminated quote`}},
		{"include from a stream", "include other.conf\n", []string{`t.conf:1: include other.conf: not possible when parsing from a stream; load the file from disk`}},
		{"definitions", "$IF=eth0\n", []string{`t.conf:1: parameter definitions ($NAME=...) are not supported by vipd; write the values out`}},
		{"conditional", "@nginx-01 router_id x\n", []string{`t.conf:1: conditional lines (@ROUTER_ID ...) are not supported by vipd; keep one file per node`}},
		{"long line", "! " + strings.Repeat("x", 1021) + "\n", []string{`t.conf:1: line is 1023 bytes long: keepalived reads at most 1022 and would split it`}},
		{"vrrp_version", "global_defs {\nvrrp_version 4\n}\n", []string{`t.conf:2: vrrp_version: expected an integer 2-3, got "4"`}},
		{"nginx check without target", "vipd_nginx_check ng {\ninterval 0.5\n}\n" + inst("track_script {\nng\n}"),
			[]string{`t.conf:1: vipd_nginx_check ng: nothing to check: need a url or a pid file`}},
		// The guard's own rules run on a block the syntax accepted: one
		// message per mistake.
		{"nginx check values", "vipd_nginx_check ng {\nurl ftp://x/\npidfile run/nginx.pid\ninterval 0.001\nrestart_deadline 61\nstart_command \"\"\n}\n" + inst("track_script {\nng\n}"),
			[]string{`t.conf:2: url: expected an http:// or https:// URL with a host, got "ftp://x/"`,
				`t.conf:3: pidfile: expected an absolute path, got "run/nginx.pid"`,
				`t.conf:4: interval: expected seconds 0.01-3600, got "0.001"`,
				`t.conf:5: restart_deadline: expected seconds 0-60, got "61"`,
				`t.conf:6: start_command: expected a command, got an empty string`}},
		{"nginx reverse", "vipd_nginx_check ng {\nurl http://127.0.0.1/\n}\n" + inst("track_script {\nng weight -2 reverse\n}"),
			[]string{`t.conf:12: track_script ng: a vipd_nginx_check takes no "reverse"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.conf", strings.NewReader(tt.conf))
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if got := strs(list); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.want)
			}
			var d Diagnostic
			if !errors.As(err, &d) || d != list[0] {
				t.Errorf("errors.As(Diagnostic) = %v", d)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	inst := func(body string) string { return strings.Replace(minimal, "%s", body, 1) }
	tests := []struct {
		name string
		conf string
		want []string
	}{
		{"unknown keyword with suggestion", inst("priorty 100"),
			[]string{`t.conf:8: unknown keyword "priorty" in vrrp_instance VI_1; ignored (did you mean priority?)`}},
		{"keepalived keyword vipd ignores", inst("use_vmac"),
			[]string{`t.conf:8: use_vmac: keepalived keyword not supported by vipd in vrrp_instance VI_1; ignored`}},
		{"unknown block inside an instance", inst("virtual_ipadress {\n198.51.100.1\n}"),
			[]string{`t.conf:8: unknown keyword "virtual_ipadress" in vrrp_instance VI_1; ignored (did you mean virtual_ipaddress?); keepalived would end vrrp_instance VI_1 at this block's "}"`}},
		{"unknown top-level block", "notification_email {\nroot@localhost\n}\nfoo_bar {\n}\n",
			[]string{`t.conf:1: notification_email: keepalived keyword not supported by vipd; ignored`,
				`t.conf:4: unknown keyword "foo_bar"; ignored`}},
		{"auth_pass truncated", inst("authentication {\nauth_type PASS\nauth_pass qwert1234\n}"),
			[]string{`t.conf:10: auth_pass: 9 characters; keepalived uses only the first 8, and so does vipd`}},
		{"repeated keyword", inst("priority 100\npriority 120"),
			[]string{`t.conf:9: priority: given again (first at t.conf:8); the last one counts`}},
		{"state MASTER without priority", inst("state MASTER"),
			[]string{`t.conf:8: state MASTER without priority: keepalived makes this node the address owner, priority 255, which always takes the VIP back`}},
		// One warning per weight, preempting or not: vipd changes no
		// priority (it was a second, contradicting warning under nopreempt).
		{"weight under nopreempt", "vrrp_script chk {\nscript /bin/true\nweight -50\n}\n" + inst("nopreempt\ntrack_script {\nchk\n}"),
			[]string{`t.conf:14: track_script chk: weight -50: vipd does not change priorities; a failure puts vrrp_instance VI_1 in FAULT, as weight 0 does (a lowered priority would never move the VIP under nopreempt)`}},
		{"weights, preempting", "vrrp_script chk {\nscript /bin/true\n}\n" + inst("track_script {\nchk weight -4\n}\ntrack_interface {\neth1 weight 10\n}"),
			[]string{`t.conf:12: track_script chk: weight -4: vipd does not change priorities; a failure puts vrrp_instance VI_1 in FAULT, as weight 0 does (a lowered priority would never move the VIP under nopreempt)`,
				`t.conf:15: track_interface eth1: weight 10: vipd does not change priorities; the interface going down puts vrrp_instance VI_1 in FAULT, as weight 0 does`}},
		{"unused script", "vrrp_script chk {\nscript /bin/true\n}\n" + inst(""),
			[]string{`t.conf:1: vrrp_script chk: not tracked by any vrrp_instance`}},
		{"unused nginx check, slow timeout", "vipd_nginx_check ng {\nurl http://127.0.0.1/\ninterval 0.2\ntimeout 0.5\n}\n" + inst(""),
			[]string{`t.conf:1: vipd_nginx_check ng: not tracked by any vrrp_instance (add it to a track_script block)`,
				`t.conf:4: timeout 0.5s is longer than interval 0.2s: probes never overlap, so a hung nginx is probed every 0.5s`}},
		{"no VIP in v2", "vrrp_instance X {\ninterface eth0\nvirtual_router_id 3\n}",
			[]string{`t.conf:1: vrrp_instance X: no virtual_ipaddress; the instance would move nothing`}},
		{"VIP options vipd ignores", inst("virtual_ipaddress {\n198.51.100.20 no_track peer 198.51.100.1 bogus\n}"),
			[]string{`t.conf:9: virtual_ipaddress 198.51.100.20: option "no_track" not supported by vipd; ignored`,
				`t.conf:9: virtual_ipaddress 198.51.100.20: option "peer" not supported by vipd; ignored`,
				`t.conf:9: virtual_ipaddress 198.51.100.20: unknown option "bogus"; ignored`}},
		{"mid-word comment", inst("notify_master /bin/x#y"),
			[]string{`t.conf:8: "#" inside a word starts a comment: the rest of the line from column 21 is ignored (write \# to keep it)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.conf", strings.NewReader(tt.conf))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := strs(c.Warnings); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestErrorListFormat(t *testing.T) {
	l := ErrorList{{File: "a.conf", Line: 3, Msg: "x"}, {File: "a.conf", Msg: "y"}}
	if got, want := l.Error(), "a.conf:3: x\na.conf: y"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func strs[T interface{ String() string }](ds []T) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.String())
	}
	return out
}
