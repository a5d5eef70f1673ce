package console_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ssh/sshtest"
	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
)

// Two pairs on one host whose key known_hosts does not hold (the operator
// refused it at startup, or ran the remedy for a changed one): c on a
// node's panel reconnects it and asks, inside the console, to trust the
// key; yes writes one known_hosts line, and the other pair's node then
// reconnects without asking.
func TestReconnectTrustsHostKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	id := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(id, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := json.Marshal(control.Event{Time: time.Now(), Type: control.EventSnapshot, Snapshot: &control.Status{
		Contract: control.ContractVersion, VipdVersion: "test",
		Instances: []control.Instance{{Name: "VI_1", State: control.StateBackup, BasePriority: 100, EffectivePriority: 100}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.NewServer(t, sshtest.Options{AuthorizedKeys: []gossh.PublicKey{sshPub},
		Handler: func(ctx context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
			stdout.Write(append(snap, '\n'))
			<-ctx.Done()
			return 0
		}})
	kh := filepath.Join(dir, "known_hosts")
	c := &cluster.Cluster{KnownHosts: kh, Pairs: []cluster.Pair{
		{Name: "web", VIP: netip.MustParseAddrPort("198.51.100.100:80"), Nodes: []cluster.Node{{Name: "n1", Target: "root@" + srv.Addr()}}},
		{Name: "api", VIP: netip.MustParseAddrPort("198.51.100.101:80"), Nodes: []cluster.Node{{Name: "n2", Target: "root@" + srv.Addr()}}},
	}}
	con := console.New(c, console.Options{
		SSH: ssh.Config{ConfigFile: "none", IdentityFiles: []string{id}, AgentSocket: "none", Home: dir,
			Reconnect: ssh.Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond}},
		ProbeDial: func(context.Context, string, string) (net.Conn, error) { return nil, errors.New("no VIP in this test") },
		Width:     100, Height: 30,
	})
	in, keys := io.Pipe()
	defer keys.Close()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- con.Run(ctx, in, &out) }()

	// The screen, as a terminal shows it: the renderer writes only the
	// cells that changed.
	emu := vt.NewEmulator(100, 30)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		_, _ = io.Copy(io.Discard, emu) // its answers to the program's queries
	}()
	defer func() {
		if c, ok := emu.InputPipe().(io.Closer); ok {
			_ = c.Close()
			<-drained
		}
	}()
	played := 0
	screen := func() string {
		all := out.String()
		_, _ = emu.Write([]byte(strings.ReplaceAll(all[played:], "\n", "\r\n")))
		played = len(all)
		return emu.String()
	}
	// waitFor waits until the screen shows s.
	waitFor := func(s string) {
		t.Helper()
		for !strings.Contains(screen(), s) {
			select {
			case err := <-done:
				t.Fatalf("the console ended (%v) before it showed %q", err, s)
			case <-ctx.Done():
				t.Fatalf("never showed %q:\n%s", s, screen())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	press := func(s string) {
		t.Helper()
		if _, err := keys.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	lines := func() int {
		b, _ := os.ReadFile(kh)
		return bytes.Count(b, []byte("\n"))
	}

	waitFor("host key not trusted")
	press("c")
	waitFor("Trust the host key of n1")
	press("yes\r")
	waitFor("trusted by")
	waitFor("watching vipd test")
	if n := lines(); n != 1 {
		t.Errorf("known_hosts has %d lines after yes, want 1", n)
	}
	press("]") // pair api
	waitFor("│ n2")
	waitFor("host key not trusted")
	press("c")
	waitFor("watching vipd test")
	if strings.Contains(screen(), "Trust the host key") {
		t.Error("asked again about a key known_hosts holds")
	}
	if n := lines(); n != 1 {
		t.Errorf("known_hosts has %d lines, want 1", n)
	}
	press("q")
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
