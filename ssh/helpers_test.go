package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/ssh/sshtest"
)

// bound gives a test a context that ends after d, and panics, naming the
// test, if it is still running well after that.
func bound(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	name := t.Name()
	timer := time.AfterFunc(d+10*time.Second, func() {
		panic(fmt.Sprintf("%s still running %s after its deadline", name, 10*time.Second))
	})
	t.Cleanup(func() { timer.Stop() })
	return ctx
}

type key struct {
	priv   ed25519.PrivateKey
	signer gossh.Signer
}

func newKey(t *testing.T) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return key{priv, s}
}

func (k key) pub() gossh.PublicKey { return k.signer.PublicKey() }

// write stores the key in OpenSSH format, with its .pub beside it.
func (k key) write(t *testing.T, path string) string {
	t.Helper()
	block, err := gossh.MarshalPrivateKey(k.priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(k.pub()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// home is an empty home directory with ~/.ssh, so tests never read the
// real user's keys, config or known_hosts.
func home(t *testing.T) string {
	t.Helper()
	h := t.TempDir()
	if err := os.Mkdir(filepath.Join(h, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	return h
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// env is a home with a client key and a server that trusts it and is
// already in known_hosts.
type env struct {
	home string
	key  key
	srv  *sshtest.Server
}

func newEnv(t *testing.T, opts sshtest.Options) *env {
	t.Helper()
	e := &env{home: home(t), key: newKey(t)}
	e.key.write(t, filepath.Join(e.home, ".ssh", "id_ed25519"))
	if opts.AuthorizedKeys == nil {
		opts.AuthorizedKeys = []gossh.PublicKey{e.key.pub()}
	}
	e.srv = sshtest.NewServer(t, opts)
	writeFile(t, e.knownHosts(), e.srv.KnownHostsLine())
	return e
}

func (e *env) knownHosts() string { return filepath.Join(e.home, ".ssh", "known_hosts") }

// config dials the env's server as user.
func (e *env) config(t *testing.T, user string) Config {
	return Config{
		Target:      user + "@" + e.srv.Addr(),
		Home:        e.home,
		AgentSocket: "none",
		Timeout:     5 * time.Second,
		Logger:      testLogger(t),
	}
}

func (e *env) dial(t *testing.T, ctx context.Context, cfg Config) *Client {
	t.Helper()
	c, err := Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testLogger logs to the test's output under -v only, and never after the
// test has ended.
func testLogger(t *testing.T) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(&testWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// commands is a Handler serving a fixed table of commands.
func commands(table map[string]sshtest.Handler) sshtest.Handler {
	return func(ctx context.Context, cmd string, stdout, stderr io.Writer, stdin io.Reader) int {
		h, ok := table[cmd]
		if !ok {
			fmt.Fprintf(stderr, "%s: command not found\n", cmd)
			return 127
		}
		return h(ctx, cmd, stdout, stderr, stdin)
	}
}

func echo(out string) sshtest.Handler {
	return func(_ context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
		io.WriteString(stdout, out)
		return 0
	}
}
