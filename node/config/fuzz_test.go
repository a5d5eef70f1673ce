package config

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseConfig: Parse never panics, Explain and Budget work on whatever
// Parse returns, every diagnostic has a place, and a clean configuration
// survives MarshalText and a second Parse unchanged.
func FuzzParseConfig(f *testing.F) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(Sample))
	for _, s := range []string{
		// "!" inside a word is a comment, as in the seed's auth_pass.
		"vrrp_instance V {\ninterface e\nvirtual_router_id 1\nauthentication {\nauth_type PASS\nauth_pass ab!cd\n}\n}",
		// Braces glued to words and several blocks on one line.
		"vrrp_instance V{interface e\nvirtual_router_id 1\nvirtual_ipaddress{198.51.100.1}}",
		// Quotes around braces and comment characters.
		"vrrp_instance \"a {b} #c\" {\ninterface e\nvirtual_router_id 1\nnotify \"/bin/x '{' \\\\ \\042\"\n}",
		// Unbalanced quotes and braces.
		"vrrp_instance V {\"\n}}\n{{",
		// Escapes in a command: keepalived unescapes twice.
		"vrrp_script s {\nscript \"/bin/x \\x41\\101 'a b' \\\\'q\\\\'\"\n}",
		// Deep nesting.
		strings.Repeat("a {\n", 100),
		// IPv6 and VRRPv3 with fractions.
		"global_defs {\nvrrp_version 3\n}\nvrrp_instance V {\ninterface e\nvirtual_router_id 1\nadvert_int 0.05\nvirtual_ipaddress {\n2001:db8::1/64\n}\n}",
		// Numbers at the edges of their ranges.
		"vrrp_instance V {\ninterface e\nvirtual_router_id 255\npriority 254\nadvert_int 255\npreempt_delay 1000\n}",
		// A include that Parse cannot follow.
		"include /etc/passwd\n",
		// A byte-order mark, cut short (issue 12: its instance was dropped silently).
		"\ufeffvrrp_instance V {\n",
		"\xef\xbb",
		// A sync group with tracks, notify users and a member twice.
		"vrrp_instance V {\ninterface e\nvirtual_router_id 1\n}\nvrrp_sync_group G {\ngroup {\nV V W\n}\ntrack_interface {\ne weight 3\n}\nnotify_master /bin/x nobody nogroup\n}",
		// A shell-only script (keepalived runs "</" through /bin/sh).
		"vrrp_script s {\nscript \"< /dev/tcp/x\"\n}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("f.conf", bytes.NewReader(data))
		if c == nil {
			t.Fatalf("nil Config, err %v", err)
		}
		if err := c.Explain(io.Discard); err != nil {
			t.Fatalf("Explain: %v", err)
		}
		for i := range c.Instances {
			c.Budget(&c.Instances[i])
		}
		all := append([]Diagnostic{}, c.Warnings...)
		if list, ok := err.(ErrorList); ok {
			all = append(all, list...)
		} else if err != nil {
			t.Fatalf("error of type %T: %v", err, err)
		}
		for _, d := range all {
			if d.File != "f.conf" || (d.Line < 1 && !strings.Contains(d.Msg, "larger than") && !strings.Contains(d.Msg, "not shown")) || d.Msg == "" {
				t.Fatalf("diagnostic without a place: %#v", d)
			}
		}
		if err != nil {
			return
		}
		text, err := c.MarshalText()
		if err != nil {
			return // a value keepalived syntax cannot carry
		}
		c2, err := Parse("f2.conf", bytes.NewReader(text))
		if err != nil {
			t.Fatalf("MarshalText output does not parse: %v\n%s", err, text)
		}
		if a, b := normalize(c), normalize(c2); !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip differs:\n%+v\n%+v\n%s", a, b, text)
		}
	})
}

func TestMarshalTextRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, name := range append(files, "sample.conf") {
		t.Run(name, func(t *testing.T) {
			c, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			text, err := c.MarshalText()
			if err != nil {
				t.Fatalf("MarshalText: %v", err)
			}
			c2, err := Parse("again.conf", bytes.NewReader(text))
			if err != nil {
				t.Fatalf("Parse(MarshalText): %v\n%s", err, text)
			}
			if a, b := normalize(c), normalize(c2); !reflect.DeepEqual(a, b) {
				t.Errorf("round trip differs:\n%+v\n%+v\n%s", a, b, text)
			}
		})
	}
}

func TestMarshalTextQuoting(t *testing.T) {
	c := &Config{Global: Global{RouterID: "a b!c", VRRPVersion: 2, GARPMasterRepeat: 1}}
	c.Scripts = []Script{{Name: "include", Command: []string{"/bin/echo", `it's "x" \ y`, "a\tb"}, Interval: 1e9, Timeout: 1e9, Rise: 1, Fall: 1}}
	text, err := c.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	c2, err := Parse("q.conf", bytes.NewReader(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if c2.Global.RouterID != "a b!c" || !reflect.DeepEqual(c2.Scripts[0].Command, c.Scripts[0].Command) || c2.Scripts[0].Name != "include" {
		t.Errorf("got %q %q from\n%s", c2.Global.RouterID, c2.Scripts[0].Command, text)
	}

	c.Global.RouterID = `say "a b"`
	if _, err := c.MarshalText(); err == nil {
		t.Error("MarshalText accepted a word with quotes and blanks")
	}
}

// normalize drops what a round trip may change: places, warnings, and
// which keywords were written out.
func normalize(c *Config) Config {
	n := *c
	n.Warnings, n.Files, n.Sources = nil, nil, nil
	n.Global.given = nil
	n.Scripts = append([]Script(nil), c.Scripts...)
	for i := range n.Scripts {
		n.Scripts[i].Pos, n.Scripts[i].given = Pos{}, nil
	}
	n.NginxChecks = append([]NginxCheck(nil), c.NginxChecks...)
	for i := range n.NginxChecks {
		n.NginxChecks[i].Pos, n.NginxChecks[i].given = Pos{}, nil
	}
	n.Instances = append([]Instance(nil), c.Instances...)
	for i := range n.Instances {
		in := &n.Instances[i]
		in.Pos, in.given = Pos{}, nil
		in.VIPs = append([]VIP(nil), in.VIPs...)
		for j := range in.VIPs {
			in.VIPs[j].Pos = Pos{}
		}
		in.ExcludedVIPs = append([]VIP(nil), in.ExcludedVIPs...)
		for j := range in.ExcludedVIPs {
			in.ExcludedVIPs[j].Pos = Pos{}
		}
		in.Tracks = append([]Track(nil), in.Tracks...)
		for j := range in.Tracks {
			in.Tracks[j].Pos = Pos{}
		}
		in.TrackInterfaces = append([]TrackInterface(nil), in.TrackInterfaces...)
		for j := range in.TrackInterfaces {
			in.TrackInterfaces[j].Pos = Pos{}
		}
	}
	return n
}

// WithDefaults fills in what the parser fills in: a block built with it
// and one parsed from the same few keywords are the same.
func TestNginxCheckWithDefaults(t *testing.T) {
	c, err := Parse("k.conf", strings.NewReader("vipd_nginx_check web {\n    url http://127.0.0.1/\n    pidfile /run/nginx.pid\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	built := &Config{NginxChecks: []NginxCheck{NginxCheck{Name: "web", URL: "http://127.0.0.1/", PIDFile: "/run/nginx.pid"}.WithDefaults()}}
	if a, b := normalize(c).NginxChecks, normalize(built).NginxChecks; !reflect.DeepEqual(a, b) {
		t.Errorf("built %+v, parsed %+v", b, a)
	}
}
