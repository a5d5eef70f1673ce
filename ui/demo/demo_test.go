package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/vipkit/vip/ssh"
)

// fakePair is a Pair whose shells echo what they ran and where: the demo's
// own part (SSH servers, keys, known_hosts) without vipd. The pair with
// vipd is node/demopair's, tested end to end with the console in
// cmd/vipctl.
type fakePair struct {
	closed bool
}

func (p *fakePair) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (p *fakePair) Close() error                  { p.closed = true; return nil }
func (p *fakePair) Nodes() []string               { return []string{"nginx-01", "nginx-02"} }
func (p *fakePair) VIP() netip.AddrPort           { return VIP }
func (p *fakePair) Holders() []string             { return []string{"nginx-01"} }
func (p *fakePair) DialVIP(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("not in this test")
}

func (p *fakePair) Exec(_ context.Context, node, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
	if cmd == "fail" {
		fmt.Fprintf(stderr, "%s: failed\n", node)
		return 3
	}
	fmt.Fprintf(stdout, "%s ran %q\n", node, cmd)
	return 0
}

// Each node's SSH server runs the node's shell, over the demo's own key
// and known_hosts; Close removes them and closes the pair.
func TestDemoSSH(t *testing.T) {
	p := &fakePair{}
	d, err := New(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := d.dir
	c := d.Cluster()
	if len(c.Pairs) != 1 || c.Pairs[0].Name != PairName || c.Pairs[0].VIP != VIP || len(c.Pairs[0].Nodes) != 2 {
		t.Fatalf("cluster %+v", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = d.RunWith(ctx, func(ctx context.Context) error {
		for _, n := range c.Pairs[0].Nodes {
			cfg := d.SSH()
			cfg.Target, cfg.Sudo = n.Target, c.Pairs[0].Sudo
			cl, err := ssh.Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer cl.Close()
			out, err := cl.Exec(ctx, "vipd status --json")
			if want := fmt.Sprintf("%s ran %q\n", n.Name, "vipd status --json"); err != nil || string(out) != want {
				t.Errorf("on %s: %q, %v; want %q", n.Name, out, err, want)
			}
			_, err = cl.Exec(ctx, "fail")
			var ee *ssh.ExitError
			if !errors.As(err, &ee) || ee.Status != 3 {
				t.Errorf("a failing command on %s: %v, want exit status 3", n.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Holders(), []string{"nginx-01"}) {
		t.Errorf("Holders = %q", d.Holders())
	}
	if err := d.Close(); err != nil || !p.closed {
		t.Errorf("Close = %v, pair closed %v", err, p.closed)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s left behind", dir)
	}
}
