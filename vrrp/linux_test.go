//go:build linux

package vrrp_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/vrrp"
)

// advert is a valid VRRPv2 advertisement built by hand so these tests do
// not depend on the codec: VRID 51, priority 100, one address
// (198.51.100.100), no authentication, interval 1 s, checksum 0x5032.
var advert = []byte{
	0x21, 0x33, 0x64, 0x01, // version 2, type 1 | VRID 51 | priority 100 | count 1
	0x00, 0x01, 0x50, 0x32, // auth none | interval 1 | checksum
	198, 51, 100, 100, // virtual address
	0, 0, 0, 0, 0, 0, 0, 0, // authentication data
}

var (
	group = netip.MustParseAddr("224.0.0.18")
	vip   = netip.MustParsePrefix("198.51.100.100/24")
)

// listen opens a Conn on n's interface and closes it when the test ends.
func listen(t *testing.T, n *netns.Node, cfg vrrp.ListenConfig) *vrrp.IPConn {
	t.Helper()
	return listenOn(t, n, n.Ifname, cfg)
}

// listenOn opens a Conn on ifname in n's namespace.
func listenOn(t *testing.T, n *netns.Node, ifname string, cfg vrrp.ListenConfig) *vrrp.IPConn {
	t.Helper()
	var c *vrrp.IPConn
	err := n.Do(func() (err error) {
		c, err = vrrp.Listen(ifname, cfg)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func ifindex(t *testing.T, n *netns.Node) int {
	t.Helper()
	var idx int
	err := n.Do(func() error {
		ifi, err := net.InterfaceByName(n.Ifname)
		if err != nil {
			return err
		}
		idx = ifi.Index
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	return idx
}

// readAdvert reads until it gets want or the deadline passes.
func readAdvert(t *testing.T, c vrrp.Conn, want []byte, timeout time.Duration) (vrrp.PacketInfo, error) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1500)
	for i := 0; i < 100; i++ {
		n, info, err := c.ReadFrom(b)
		if err != nil {
			return vrrp.PacketInfo{}, err
		}
		if bytes.Equal(b[:n], want) {
			return info, nil
		}
		t.Logf("ignoring %d-byte packet from %s", n, info.Src)
	}
	t.Fatal("too many unexpected packets")
	return vrrp.PacketInfo{}, nil
}

func TestLinuxConn(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 2})
	n1, n2 := lab.Nodes[0], lab.Nodes[1]

	tests := []struct {
		name    string
		cfg1    vrrp.ListenConfig
		cfg2    vrrp.ListenConfig
		dst     netip.Addr // where n1 sends
		wantDst netip.Addr // what n2 sees
	}{
		{
			name:    "multicast",
			cfg1:    vrrp.ListenConfig{Source: n1.Addr},
			cfg2:    vrrp.ListenConfig{Source: n2.Addr},
			dst:     group,
			wantDst: group,
		},
		{
			name:    "multicast kernel source",
			cfg1:    vrrp.ListenConfig{},
			cfg2:    vrrp.ListenConfig{},
			dst:     group,
			wantDst: group,
		},
		{
			name:    "unicast",
			cfg1:    vrrp.ListenConfig{Source: n1.Addr, Peers: []netip.Addr{n2.Addr}},
			cfg2:    vrrp.ListenConfig{Source: n2.Addr, Peers: []netip.Addr{n1.Addr}},
			dst:     n2.Addr,
			wantDst: n2.Addr,
		},
	}
	idx2 := ifindex(t, n2)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c1 := listen(t, n1, tt.cfg1)
			c2 := listen(t, n2, tt.cfg2)

			if err := c1.WriteTo(advert, tt.dst); err != nil {
				t.Fatal(err)
			}
			info, err := readAdvert(t, c2, advert, 2*time.Second)
			if err != nil {
				t.Fatalf("n2 did not receive the advert: %v", err)
			}
			want := vrrp.PacketInfo{Src: n1.Addr, Dst: tt.wantDst, TTL: 255, IfIndex: idx2}
			if info != want {
				t.Errorf("PacketInfo = %+v, want %+v", info, want)
			}

			// Multicast loopback is off and unicast goes out: the
			// sender never reads its own advert.
			if _, err := readAdvert(t, c1, advert, 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("n1 read its own advert: err = %v, want deadline exceeded", err)
			}
		})
	}
}

// TestLinuxConnBoundToInterface checks that a Conn reads only adverts that
// arrive on its own interface, though a raw socket otherwise gets every
// protocol-112 packet of its namespace.
func TestLinuxConnBoundToInterface(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 1})
	n := lab.Nodes[0]
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	// A second segment inside the node: what vA sends arrives on vB. It
	// comes from the node's own address, which vB must accept.
	for _, args := range [][]string{
		{"ip", "link", "add", "vA", "type", "veth", "peer", "name", "vB"},
		{"sysctl", "-qw", "net.ipv4.conf.vB.accept_local=1"},
		{"ip", "link", "set", "vA", "up"},
		{"ip", "link", "set", "vB", "up"},
	} {
		if out, err := n.Output(ctx, args[0], args[1:]...); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}

	onEth0 := listen(t, n, vrrp.ListenConfig{})
	onVB := listenOn(t, n, "vB", vrrp.ListenConfig{}) // joins 224.0.0.18 on vB
	sender := listenOn(t, n, "vA", vrrp.ListenConfig{Source: n.Addr})

	if err := sender.WriteTo(advert, group); err != nil {
		t.Fatal(err)
	}
	if _, err := readAdvert(t, onVB, advert, 2*time.Second); err != nil {
		t.Fatalf("control: the Conn on vB did not receive the advert: %v", err)
	}
	if _, err := readAdvert(t, onEth0, advert, 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("the Conn on eth0 read an advert sent to vB: err = %v, want deadline exceeded", err)
	}
}

func TestLinuxConnDeadline(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 1})
	c := listen(t, lab.Nodes[0], vrrp.ListenConfig{})
	b := make([]byte, 1500)

	// A future deadline ends a read that gets nothing.
	start := time.Now()
	if err := c.SetReadDeadline(start.Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadFrom(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadFrom: err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ReadFrom returned after %v, want about 100ms", d)
	}

	// A deadline set while a read is pending ends that read.
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, _, err := c.ReadFrom(b)
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // let the read block
	if err := c.SetReadDeadline(time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("pending ReadFrom: err = %v, want deadline exceeded", err)
		}
	case <-time.After(2 * time.Second):
		_ = c.Close() // unblock the reader before failing
		<-errc
		t.Fatal("pending ReadFrom ignored the deadline")
	}
}

func newAddresser(t *testing.T, n *netns.Node) *vrrp.LinkAddresser {
	t.Helper()
	var a *vrrp.LinkAddresser
	err := n.Do(func() (err error) {
		a, err = vrrp.NewAddresser(n.Ifname)
		return err
	})
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func hasAddr(t *testing.T, n *netns.Node, p netip.Prefix) bool {
	t.Helper()
	ok, err := n.HasAddr(p)
	if err != nil {
		t.Fatalf("%s: %v", n.Name, err)
	}
	return ok
}

func TestLinuxAddresser(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 1})
	n1 := lab.Nodes[0]
	a := newAddresser(t, n1)
	a.Labels = map[netip.Prefix]string{vip: n1.Ifname + ":vip"}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()

	check := func(want bool) {
		t.Helper()
		got, err := a.HasAddress(vip)
		if err != nil {
			t.Fatal(err)
		}
		if got != want || hasAddr(t, n1, vip) != want {
			t.Fatalf("VIP present = %v (ip: %v), want %v", got, !got, want)
		}
		if !hasAddr(t, n1, n1.Prefix) {
			t.Fatalf("primary %s is gone", n1.Prefix)
		}
	}

	check(false)
	for range 2 { // idempotent
		if err := a.AddAddress(vip); err != nil {
			t.Fatalf("AddAddress: %v", err)
		}
	}
	check(true)

	out, err := n1.Output(ctx, "ip", "-4", "-o", "addr", "show", "dev", n1.Ifname)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "inet "+vip.String()+" scope global secondary "+n1.Ifname+":vip") {
		t.Errorf("VIP is not a labelled secondary address:\n%s", out)
	}
	if other := netip.MustParsePrefix("198.51.100.100/32"); hasAddr(t, n1, other) {
		t.Errorf("%s present; HasAddress must not confuse prefix lengths", other)
	}

	for range 2 { // idempotent
		if err := a.RemoveAddress(vip); err != nil {
			t.Fatalf("RemoveAddress: %v", err)
		}
	}
	check(false)
}

func TestLinuxAnnouncer(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 2})
	n1, n2, client := lab.Nodes[0], lab.Nodes[1], lab.Client
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	a1, a2 := newAddresser(t, n1), newAddresser(t, n2)
	var ann *vrrp.ARPAnnouncer
	if err := n2.Do(func() (err error) {
		ann, err = vrrp.NewAnnouncer(n2.Ifname)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ann.Close() })

	neighbor := func() string {
		t.Helper()
		mac, _, err := client.Neighbor(vip.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return mac.String()
	}

	// Capture what n2 sends to the client (the ping below is n1's business).
	capture := startCapture(t, ctx, client, "arp and ether src "+n2.MAC.String())

	// The client learns the VIP at n1, then the VIP moves to n2 at once:
	// within the 1 s locktime of that entry.
	if err := a1.AddAddress(vip); err != nil {
		t.Fatal(err)
	}
	if out, err := client.Output(ctx, "ping", "-c", "1", "-W", "2", vip.Addr().String()); err != nil {
		t.Fatalf("ping VIP at n1: %v\n%s", err, out)
	}
	learnt := time.Now()
	if got, want := neighbor(), n1.MAC.String(); got != want {
		t.Fatalf("client: VIP at %s, want n1 %s", got, want)
	}

	if err := a1.RemoveAddress(vip); err != nil {
		t.Fatal(err)
	}
	if err := a2.AddAddress(vip); err != nil {
		t.Fatal(err)
	}

	// Announce once and watch; announce again (as the engine repeats)
	// only if the first one was not taken. Linux 6.18 takes the first one
	// although it comes within the locktime: gratuitous ARP overrides it.
	moved := false
	for round := 1; round <= 3 && !moved; round++ {
		sent := time.Now()
		if err := ann.Announce(vip.Addr()); err != nil {
			t.Fatal(err)
		}
		for deadline := sent.Add(1500 * time.Millisecond); !moved && time.Now().Before(deadline); {
			if moved = neighbor() == n2.MAC.String(); moved {
				t.Logf("round %d: client moved the VIP to n2 %v after the announcement, %v after it learnt n1",
					round, time.Since(sent).Round(time.Millisecond), sent.Sub(learnt).Round(time.Millisecond))
			} else {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	if !moved {
		t.Fatalf("client: VIP still at %s after 3 announcements, want n2 %s", neighbor(), n2.MAC)
	}

	// Were both frames of an announcement seen? Repeat a bounded number of
	// times in case the capture missed the first one.
	want := []string{
		"Request who-has 198.51.100.100 tell 198.51.100.100",
		"Reply 198.51.100.100 is-at " + n2.MAC.String(),
	}
	out := capture.wait(2*time.Second, 3, func() error { return ann.Announce(vip.Addr()) })
	t.Logf("tcpdump:\n%s", out)
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("capture lacks %q", w)
		}
	}
}

// capture is tcpdump -c 2 running in a node.
type capture struct {
	t    *testing.T
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{} // closed when tcpdump has exited
	err  error         // tcpdump's exit, valid once done is closed
}

// startCapture starts tcpdump for two frames matching filter in n and
// returns once it listens.
func startCapture(t *testing.T, ctx context.Context, n *netns.Node, filter string) *capture {
	t.Helper()
	cmd := n.Command(ctx, "tcpdump", "-i", n.Ifname, "-n", "-l", "-c", "2", filter)
	out := new(bytes.Buffer)
	cmd.Stdout = out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &capture{t: t, cmd: cmd, out: out, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "listening on") {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		c.err = cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
	})
	select {
	case <-ready:
	case <-c.done:
		t.Fatalf("tcpdump exited before listening: %v", c.err)
	case <-time.After(5 * time.Second):
		t.Fatal("tcpdump did not start listening within 5s")
	}
	return c
}

// wait returns tcpdump's output once it has its two frames, calling again
// after each timeout, at most tries times.
func (c *capture) wait(timeout time.Duration, tries int, again func() error) string {
	c.t.Helper()
	for range tries {
		select {
		case <-c.done:
			if c.err != nil {
				c.t.Errorf("tcpdump: %v", c.err)
			}
			return c.out.String()
		case <-time.After(timeout):
			if err := again(); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	_ = c.cmd.Process.Kill()
	<-c.done
	c.t.Fatalf("tcpdump saw fewer than 2 frames:\n%s", c.out.String())
	return ""
}

// TestLinuxKernelDrops: adverts that overflow a socket's receive buffer
// before they are read are counted from SO_RXQ_OVFL, once a packet queued
// after them is read.
func TestLinuxKernelDrops(t *testing.T) {
	lab := netns.New(t, netns.Config{Nodes: 2})
	n1, n2 := lab.Nodes[0], lab.Nodes[1]
	c1 := listen(t, n1, vrrp.ListenConfig{Source: n1.Addr})
	c2 := listen(t, n2, vrrp.ListenConfig{Source: n2.Addr, ReceiveBuffer: 1}) // the kernel's minimum
	const flood = 200
	for range flood {
		if err := c1.WriteTo(advert, group); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // all delivered, or dropped
	read := 0
	b := make([]byte, 1500)
	_ = c2.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	for ; read <= flood; read++ {
		if _, _, err := c2.ReadFrom(b); err != nil {
			break
		}
	}
	if err := c1.WriteTo(advert, group); err != nil {
		t.Fatal(err)
	}
	if _, err := readAdvert(t, c2, advert, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	got := c2.KernelDrops()
	t.Logf("%d adverts sent at once, %d queued and read, %d counted as dropped by the kernel", flood, read, got)
	if got == 0 || got+uint64(read) != flood {
		t.Errorf("kernel drops %d with %d of %d read, want the rest", got, read, flood)
	}
}
