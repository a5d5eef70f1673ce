package feed

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/vipkit/vip/ssh"
)

func TestPrompt(t *testing.T) {
	_, cfg := server(t, nil)
	kh := cfg.KnownHosts
	for _, tc := range []struct {
		answers string
		ok      bool
	}{
		{"maybe\nno\n", false},
		{"", false},
		{"y\nyes\n", true},
	} {
		var out strings.Builder
		p := &Prompt{In: strings.NewReader(tc.answers), Out: &out}
		c := cfg
		c.KnownHosts = kh + ".new" // empty: every key is unknown
		errs := CheckHostKeys(context.Background(), []ssh.Config{c}, p.Confirm)
		if (errs[0] == nil) != tc.ok {
			t.Errorf("answers %q: dial error %v, want ok %v", tc.answers, errs[0], tc.ok)
		}
		if !strings.Contains(out.String(), "ssh-ed25519 key fingerprint is SHA256:") ||
			!strings.Contains(out.String(), "(yes/no)? ") {
			t.Errorf("answers %q: the prompt was\n%s", tc.answers, out.String())
		}
		if asked, want := strings.Count(out.String(), "(yes/no)? "), max(strings.Count(tc.answers, "\n"), 1); asked != want {
			t.Errorf("answers %q: asked %d times, want %d:\n%s", tc.answers, asked, want, out.String())
		}
	}
}

// Two pairs on the same hosts: each host key is asked about once, and
// known_hosts gets one line for it.
func TestCheckHostKeysOnce(t *testing.T) {
	_, cfg := server(t, nil)
	cfg.KnownHosts += ".new"
	var out strings.Builder
	p := &Prompt{In: strings.NewReader("yes\nyes\n"), Out: &out}
	other := cfg
	other.Sudo = ssh.SudoAlways // the other pair's; the same host
	errs := CheckHostKeys(context.Background(), []ssh.Config{cfg, other, cfg}, p.Confirm)
	for i, err := range errs {
		if err != nil {
			t.Errorf("dial %d: %v", i, err)
		}
	}
	if asked := strings.Count(out.String(), "(yes/no)? "); asked != 1 {
		t.Errorf("asked %d times, want once:\n%s", asked, out.String())
	}
	kh, err := os.ReadFile(cfg.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(kh), "\n"); n != 1 {
		t.Errorf("known_hosts has %d lines, want 1:\n%s", n, kh)
	}
}
