package feed

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ssh/sshtest"
	"github.com/vipkit/vip/ui"
)

// server starts an sshtest server with handler and returns a client
// configuration that trusts it and logs in with a fresh key.
func server(t *testing.T, h sshtest.Handler) (*sshtest.Server, ssh.Config) {
	t.Helper()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.NewServer(t, sshtest.Options{Handler: h, AuthorizedKeys: []gossh.PublicKey{sshPub}})
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, []byte(srv.KnownHostsLine()), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ssh.Config{
		Target:        "root@" + srv.Addr(),
		ConfigFile:    "none",
		KnownHosts:    kh,
		IdentityFiles: []string{key},
		AgentSocket:   "none",
		Home:          dir,
		Timeout:       5 * time.Second,
		Reconnect:     ssh.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond},
	}
}

// collector reads a feed's updates in the background.
type collector struct {
	t   *testing.T
	n   *Node
	ch  <-chan ui.Update
	got []ui.Update
}

// next waits for the next update that match accepts, failing the test
// after a while.
func (c *collector) next(what string, match func(ui.Update) bool) ui.Update {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case u, ok := <-c.ch:
			if !ok {
				c.t.Fatalf("feed closed while waiting for %s; got %s", what, c.summary())
			}
			c.got = append(c.got, u)
			if match(u) {
				return u
			}
		case <-timeout:
			c.t.Fatalf("no %s within 10s; got %s", what, c.summary())
		}
	}
}

func (c *collector) summary() string {
	var parts []string
	for _, u := range c.got {
		switch {
		case u.Conn != nil:
			parts = append(parts, "conn:"+u.Conn.String())
		case u.Status != nil:
			parts = append(parts, "status")
		case u.Event != nil:
			parts = append(parts, "event:"+string(u.Event.Type))
		case u.Err != nil:
			parts = append(parts, "err:"+u.Err.Error())
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// runNode runs a Node feed over cfg until the test ends.
func runNode(t *testing.T, cfg ssh.Config, nc NodeConfig) *collector {
	t.Helper()
	nc.Remote = ssh.New(cfg)
	if nc.Name == "" {
		nc.Name = "nginx-01"
	}
	if nc.Host == "" {
		nc.Host = cfg.Target
	}
	if nc.RetryMin == 0 {
		nc.RetryMin, nc.RetryMax = 50*time.Millisecond, 200*time.Millisecond
	}
	n := NewNode(nc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	c := &collector{t: t, n: n, ch: n.Updates()}
	t.Cleanup(func() {
		cancel()
		go func() {
			for range n.Updates() {
			}
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return within 10s of cancel")
		}
	})
	return c
}
