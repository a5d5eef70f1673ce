package ssh

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in               string
		user, host, port string
		err              bool
	}{
		{in: "lb1", host: "lb1"},
		{in: "root@lb1", user: "root", host: "lb1"},
		{in: "root@lb1:2222", user: "root", host: "lb1", port: "2222"},
		{in: "198.51.100.11:22", host: "198.51.100.11", port: "22"},
		{in: "[2001:db8::1]:2222", host: "2001:db8::1", port: "2222"},
		{in: "deploy@[::1]", user: "deploy", host: "::1"},
		{in: "2001:db8::1", host: "2001:db8::1"},
		{in: "ssh://ops@jump:2200", user: "ops", host: "jump", port: "2200"},
		{in: "a@b@host", user: "a@b", host: "host"}, // last @ splits, as ssh(1)
		{in: "", err: true},
		{in: "@lb1", err: true},
		{in: "lb1:0", err: true},
		{in: "lb1:65536", err: true},
		{in: "lb1:ssh", err: true},
		{in: "[::1", err: true},
		{in: "[::1]x", err: true},
		{in: "lb 1", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			user, host, port, err := parseTarget(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("parseTarget(%q) = %q %q %q, want an error", tt.in, user, host, port)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTarget(%q): %v", tt.in, err)
			}
			if user != tt.user || host != tt.host || port != tt.port {
				t.Fatalf("parseTarget(%q) = %q %q %q, want %q %q %q", tt.in, user, host, port, tt.user, tt.host, tt.port)
			}
		})
	}
}

// sshConfig is a ~/.ssh/config exercising what Dial reads.
const sshConfig = `
# first obtained value wins, as in OpenSSH
Host lb1
  HostName 198.51.100.11
  User deploy
  IdentityFile ~/.ssh/lb_key
  IdentityFile %d/.ssh/%r_%h

Host lb2
  HostName 198.51.100.12
  Port 2222
  ProxyJump bastion

Host bastion
  HostName 198.51.100.1
  User ops
  ProxyJump outer

Host outer
  HostName 198.51.100.2
  Port 2200

Host chain
  HostName 198.51.100.13
  ProxyJump bastion,jumper@198.51.100.3:2201

Host loop
  ProxyJump loop

Host cmd
  ProxyCommand nc %h %p

Host *.lab
  User labuser
  Port 2022

Host *
  User fallback
  ServerAliveInterval 7
  ServerAliveCountMax 5
  ConnectTimeout 4
`

func TestResolve(t *testing.T) {
	h := home(t)
	writeFile(t, filepath.Join(h, ".ssh", "config"), sshConfig)

	tests := []struct {
		target string
		want   []string // hop: user@host:port
		ids    []string // identities of the last hop, with h for home
		err    string
	}{
		{target: "lb1", want: []string{"deploy@198.51.100.11:22"},
			ids: []string{"h/.ssh/lb_key", "h/.ssh/deploy_198.51.100.11"}},
		{target: "root@lb1:2200", want: []string{"root@198.51.100.11:2200"},
			ids: []string{"h/.ssh/lb_key", "h/.ssh/root_198.51.100.11"}},
		{target: "lb2", want: []string{
			"fallback@198.51.100.2:2200", // outer: bastion's own jump
			"ops@198.51.100.1:22",
			"fallback@198.51.100.12:2222"}},
		{target: "chain", want: []string{
			"fallback@198.51.100.2:2200",
			"ops@198.51.100.1:22",
			"jumper@198.51.100.3:2201",
			"fallback@198.51.100.13:22"}},
		{target: "node.lab", want: []string{"labuser@node.lab:2022"}},
		{target: "x@198.51.100.20", want: []string{"x@198.51.100.20:22"}},
		{target: "loop", err: "loop"},
		{target: "cmd", err: "ProxyCommand"},
		{target: "bad:port", err: "bad port"},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			s, err := newSettings(Config{Target: tt.target, Home: h})
			if err != nil {
				t.Fatal(err)
			}
			chain, err := s.chain(tt.target)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("chain(%q) error = %v, want one containing %q", tt.target, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range chain {
				got = append(got, e.user+"@"+e.addr())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("chain(%q) = %q, want %q", tt.target, got, tt.want)
			}
			if tt.ids != nil {
				var ids []string
				for _, id := range chain[len(chain)-1].identities {
					ids = append(ids, strings.Replace(id, h, "h", 1))
				}
				if !slices.Equal(ids, tt.ids) {
					t.Errorf("identities = %q, want %q", ids, tt.ids)
				}
			}
		})
	}
}

func TestSettingsDefaults(t *testing.T) {
	h := home(t)
	writeFile(t, filepath.Join(h, ".ssh", "config"), sshConfig+`
Host agent
  IdentityAgent ~/agent.sock
  UserKnownHostsFile ~/kh
`)
	tests := []struct {
		name string
		cfg  Config
		want func(*settings) string // "" when fine
	}{
		{"from config file", Config{Target: "lb1"}, func(s *settings) string {
			if s.KeepAlive != 7*time.Second || s.KeepAliveMax != 5 || s.Timeout != 4*time.Second {
				return "ServerAlive*/ConnectTimeout not applied"
			}
			return ""
		}},
		{"Config wins", Config{Target: "lb1", KeepAlive: time.Second, KeepAliveMax: 2, Timeout: time.Minute}, func(s *settings) string {
			if s.KeepAlive != time.Second || s.KeepAliveMax != 2 || s.Timeout != time.Minute {
				return "Config values overridden"
			}
			return ""
		}},
		{"paths", Config{Target: "agent"}, func(s *settings) string {
			if s.AgentSocket != filepath.Join(h, "agent.sock") || s.KnownHosts != filepath.Join(h, "kh") {
				return "IdentityAgent/UserKnownHostsFile not applied: " + s.AgentSocket + " " + s.KnownHosts
			}
			return ""
		}},
		{"no config file", Config{Target: "lb1", ConfigFile: "none", AgentSocket: "none"}, func(s *settings) string {
			if s.KeepAlive != DefaultKeepAlive || s.Timeout != DefaultTimeout || s.KnownHosts != filepath.Join(h, ".ssh", "known_hosts") {
				return "defaults not applied"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Home = h
			s, err := newSettings(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.want(s); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestSudoModeText(t *testing.T) {
	for _, m := range []SudoMode{SudoAuto, SudoAlways, SudoNever} {
		b, _ := m.MarshalText()
		var got SudoMode
		if err := got.UnmarshalText(b); err != nil || got != m {
			t.Errorf("round trip of %v = %v, %v", m, got, err)
		}
	}
	var m SudoMode
	if err := m.UnmarshalText([]byte("sometimes")); err == nil {
		t.Error("UnmarshalText(sometimes) succeeded")
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	prevHi := time.Duration(0)
	for attempt := 1; attempt <= 12; attempt++ {
		hi := min(b.Min<<(attempt-1), b.Max)
		for range 20 {
			d := b.delay(attempt)
			if d > hi || d < hi-hi/5 {
				t.Fatalf("delay(%d) = %s, want within [%s, %s]", attempt, d, hi-hi/5, hi)
			}
		}
		if hi < prevHi {
			t.Fatalf("delay shrank at attempt %d", attempt)
		}
		prevHi = hi
	}
}
