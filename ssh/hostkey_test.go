package ssh

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/vipkit/vip/ssh/sshtest"
)

func TestHostKeys(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSigner, err := gossh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	edSigner := newKey(t).signer
	other := newKey(t).pub()

	type answer int
	const (
		noHook answer = iota
		yes
		no
	)
	tests := []struct {
		name string
		// known builds known_hosts for addr from the server's keys.
		known   func(addr string) string
		confirm answer
		check   func(t *testing.T, err error, kh string, prompts []HostKeyPrompt)
	}{
		{
			name: "known",
			known: func(addr string) string {
				return knownhosts.Line([]string{addr}, ecSigner.PublicKey()) + "\n"
			},
			check: func(t *testing.T, err error, _ string, prompts []HostKeyPrompt) {
				// The server would present its ed25519 key were the
				// known type not offered first.
				if err != nil || len(prompts) != 0 {
					t.Fatalf("err = %v, prompts = %d; want success without asking", err, len(prompts))
				}
			},
		},
		{
			name:    "unknown accepted",
			known:   func(string) string { return "" },
			confirm: yes,
			check: func(t *testing.T, err error, kh string, prompts []HostKeyPrompt) {
				if err != nil || len(prompts) != 1 {
					t.Fatalf("err = %v, prompts = %d; want success after one prompt", err, len(prompts))
				}
				p := prompts[0]
				if !strings.HasPrefix(p.Fingerprint, "SHA256:") || p.Fingerprint != gossh.FingerprintSHA256(p.Key) {
					t.Errorf("fingerprint = %q", p.Fingerprint)
				}
				if !strings.Contains(kh, p.Address+" "+p.Key.Type()) || !strings.HasPrefix(p.Address, "[127.0.0.1]:") {
					t.Errorf("known_hosts = %q, want a line for %s", kh, p.Address)
				}
			},
		},
		{
			name:    "unknown refused",
			known:   func(string) string { return "" },
			confirm: no,
			check: func(t *testing.T, err error, kh string, prompts []HostKeyPrompt) {
				if !errors.Is(err, ErrHostKeyUnknown) || len(prompts) != 1 {
					t.Fatalf("err = %v, prompts = %d; want ErrHostKeyUnknown after one prompt", err, len(prompts))
				}
				if kh != "" {
					t.Errorf("known_hosts = %q, want it untouched", kh)
				}
			},
		},
		{
			name:  "unknown without hook",
			known: func(string) string { return "" },
			check: func(t *testing.T, err error, _ string, _ []HostKeyPrompt) {
				if !errors.Is(err, ErrHostKeyUnknown) || !strings.Contains(err.Error(), "SHA256:") {
					t.Fatalf("err = %v, want ErrHostKeyUnknown with the fingerprint", err)
				}
			},
		},
		{
			name: "other type known",
			known: func(addr string) string {
				// A host known only by a key type the server lacks: ask,
				// saying what is known, as OpenSSH does.
				return knownhosts.Line([]string{addr}, rsaPub(t)) + "\n"
			},
			confirm: yes,
			check: func(t *testing.T, err error, _ string, prompts []HostKeyPrompt) {
				if err != nil || len(prompts) != 1 {
					t.Fatalf("err = %v, prompts = %d; want success after one prompt", err, len(prompts))
				}
				if got := prompts[0].KnownTypes; len(got) != 1 || got[0] != "ssh-rsa" {
					t.Errorf("KnownTypes = %q, want [ssh-rsa]", got)
				}
			},
		},
		{
			name: "changed",
			known: func(addr string) string {
				return "# lab nodes\n" + knownhosts.Line([]string{addr}, other) + "\n"
			},
			confirm: yes, // must not even be asked
			check: func(t *testing.T, err error, kh string, prompts []HostKeyPrompt) {
				var changed *HostKeyChangedError
				if !errors.As(err, &changed) {
					t.Fatalf("err = %v, want *HostKeyChangedError", err)
				}
				if len(prompts) != 0 {
					t.Errorf("Confirm was asked about a changed key")
				}
				if len(changed.Offending) != 1 || changed.Offending[0].Line != 2 ||
					changed.Offending[0].Fingerprint != gossh.FingerprintSHA256(other) {
					t.Errorf("Offending = %+v, want line 2 with the old key", changed.Offending)
				}
				msg := err.Error()
				for _, want := range []string{
					"REMOTE HOST IDENTIFICATION HAS CHANGED",
					changed.Offending[0].File + ":2",
					gossh.FingerprintSHA256(edSigner.PublicKey()),
					"ssh-keygen -f",
				} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q lacks %q", msg, want)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := bound(t, 20*time.Second)
			e := newEnv(t, sshtest.Options{
				HostKeys: []gossh.Signer{ecSigner, edSigner},
				Handler:  echo("ok"),
			})
			writeFile(t, e.knownHosts(), tt.known(knownhosts.Normalize(e.srv.Addr())))
			cfg := e.config(t, "root")
			var prompts []HostKeyPrompt
			if tt.confirm != noHook {
				cfg.Confirm = func(_ context.Context, p HostKeyPrompt) bool {
					prompts = append(prompts, p)
					return tt.confirm == yes
				}
			}
			c, err := Dial(ctx, cfg)
			if err == nil {
				c.Close()
			}
			tt.check(t, err, readFile(t, e.knownHosts()), prompts)

			// Whatever was accepted is remembered.
			if err == nil && len(prompts) > 0 {
				cfg.Confirm = nil
				e.dial(t, ctx, cfg)
			}
		})
	}
}

func rsaPub(t *testing.T) gossh.PublicKey {
	t.Helper()
	// A fixed RSA public key: generating one is slow under -race.
	const line = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6RIkxoDTx3s4SP+MIO3iLZI9neIm2kdaEXcSht7YrlBLkJMpPmdMVtAVDvmUMMSTLnqknqnF049xBmPgK8SPem7GbtqFhcX9euIzBWUJcVX5HWir4QPzFjrU2Ch1/+XTjeqfNLl2Y2k5022TSMghVs7Ms6nmNdyKq2qMaNHemaw=="
	pub, _, _, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestConfirmPausesTimeout(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	writeFile(t, e.knownHosts(), "")
	cfg := e.config(t, "root")
	cfg.Timeout = 300 * time.Millisecond
	cfg.Confirm = func(context.Context, HostKeyPrompt) bool {
		time.Sleep(3 * cfg.Timeout) // a person reading the fingerprint
		return true
	}
	e.dial(t, ctx, cfg)
}

func TestConfirmCanceled(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	writeFile(t, e.knownHosts(), "")
	cfg := e.config(t, "root")
	dctx, cancel := context.WithCancel(ctx)
	cfg.Confirm = func(ctx context.Context, _ HostKeyPrompt) bool {
		cancel() // the operator quit the console
		<-ctx.Done()
		return false
	}
	start := time.Now()
	_, err := Dial(dctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial took %s after cancel", d)
	}
}

// Two dials of one host at once, through ConfirmOnce: one question, one
// known_hosts line.
func TestConfirmOnce(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	writeFile(t, e.knownHosts(), "")
	cfg := e.config(t, "root")
	var mu sync.Mutex
	asked := 0
	cfg.Confirm = ConfirmOnce(func(context.Context, HostKeyPrompt) bool {
		mu.Lock()
		asked++
		mu.Unlock()
		time.Sleep(300 * time.Millisecond) // a person reading; the other dial arrives
		return true
	})
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			c, err := Dial(ctx, cfg)
			if err == nil {
				c.Close()
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("Dial: %v", err)
		}
	}
	if asked != 1 {
		t.Errorf("asked %d times, want once", asked)
	}
	if kh := readFile(t, e.knownHosts()); strings.Count(kh, "\n") != 1 {
		t.Errorf("known_hosts = %q, want one line", kh)
	}

	// A no is not remembered: the operator may change their mind.
	var noes int
	refuse := ConfirmOnce(func(context.Context, HostKeyPrompt) bool { noes++; return false })
	p := HostKeyPrompt{Address: "lb1", Fingerprint: "SHA256:x"}
	for range 2 {
		if refuse(ctx, p) {
			t.Fatal("a refusal trusted the key")
		}
	}
	if noes != 2 {
		t.Errorf("asked %d times after two refusals, want 2", noes)
	}
}

// A key known_hosts holds already, in whatever form ssh(1) wrote it, is
// not appended again.
func TestAppendKnownHostOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	k := newKey(t).pub()
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2222}
	for _, tc := range []struct {
		name, before string
		lines        int
	}{
		{"empty", "", 1},
		{"ours", knownhosts.Line([]string{"[lb1]:2222"}, k) + "\n", 1},
		{"ssh(1)'s, with a comment and another name", "lb0,[lb1]:2222 " + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k))) + " root@lb1\n", 1},
		{"another key", knownhosts.Line([]string{"[lb1]:2222"}, rsaPub(t)) + "\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			writeFile(t, file, tc.before)
			for range 2 {
				if _, err := appendKnownHost(file, "lb1:2222", remote, k); err != nil {
					t.Fatal(err)
				}
			}
			if kh := readFile(t, file); strings.Count(kh, "\n") != tc.lines {
				t.Errorf("known_hosts = %q, want %d lines", kh, tc.lines)
			}
		})
	}
}
