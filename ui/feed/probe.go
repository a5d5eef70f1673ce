package feed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/ui"
)

// Defaults of ProbeConfig. Sparse while nothing happens; while an action
// runs the console makes the probe dense, as the benchmark's client (a
// request every 5 ms that fails unless answered within 10 ms), so that
// the verdict's outage is measured to about 10 ms instead of a second.
//
// A dense request that misses its 10 ms is followed up to the sparse
// Timeout all the same, while the next ones go out on time: one answered
// in that while is a slow answer (a busy host), one not answered a lost
// request, as the sparse probe would have said (a SYN to a node without
// the VIP, which a real client sends again only after a second). Samples
// still come out in the order they were sent.
const (
	DefaultProbeInterval = 200 * time.Millisecond
	DefaultProbeTimeout  = time.Second
	DefaultDenseInterval = 5 * time.Millisecond
	DefaultDenseTimeout  = 10 * time.Millisecond
	// MaxDense ends a dense spell the console did not end itself.
	MaxDense = 3 * time.Minute
)

// A VIP farther away than the lab's gets a dense timeout its answers fit
// in: denseSlack times the median of the latest answers. maxFlights bounds
// the requests under way: past it (a long outage, every request waiting
// its second) the pace slows to one per request that ends.
const (
	denseSlack = 3
	maxFlights = 64
)

// DialFunc makes a connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ProbeConfig configures a Probe. Zero values take the defaults.
type ProbeConfig struct {
	URL      string        // "http://198.51.100.100:80/"
	Interval time.Duration // between requests; default DefaultProbeInterval
	Timeout  time.Duration // per request; default DefaultProbeTimeout
	// DenseInterval and DenseTimeout apply while the console asks for a
	// dense probe (an action runs). The timeout grows to 3 times the
	// median of the latest answers, up to Timeout.
	DenseInterval, DenseTimeout time.Duration
	// Dial replaces the plain dialer: the lab dials from its client
	// namespace, the demo to whichever in-memory node holds the VIP.
	Dial DialFunc
	// Neighbors, if set, is the console host's neighbour table: an answer
	// without X-Served-By is put down to the node whose own address has
	// the VIP's MAC, when the VIP is on-link. Nil: no MAC is read.
	Neighbors Neighbors
	// Nodes are the pair's nodes, for that MAC.
	Nodes []ProbeNode
}

// ProbeNode is a node of the probed pair, as the neighbour table knows it.
type ProbeNode struct {
	Name string
	// Host is the node's address (or a name to resolve) on the console's
	// side: its entry in the neighbour table gives the node's MAC when
	// MAC is not set. An SSH target's host is the usual one.
	Host string
	MAC  net.HardwareAddr
}

// Probe requests the VIP over and over, as a client would: a ui.ProbeFeed
// fed by Run, and a ui.ProbePacer.
type Probe struct {
	cfg     ProbeConfig
	target  *url.URL
	addr    string     // host:port dialed
	vip     netip.Addr // the URL's host, if an address: its neighbour entry
	dial    DialFunc
	updates chan ui.ProbeSample
	wake    chan struct{} // a change of pace; holds one

	mu      sync.Mutex
	dense   bool
	denseAt time.Time
	recent  []time.Duration // the latest answers' latencies

	resolve sync.Once
	addrs   map[string][]netip.Addr // by node: Host resolved, once
}

var (
	_ ui.ProbeFeed  = (*Probe)(nil)
	_ ui.ProbePacer = (*Probe)(nil)
)

// NewProbe returns a probe of cfg.URL. Nothing happens until Run.
func NewProbe(cfg ProbeConfig) *Probe {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultProbeInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultProbeTimeout
	}
	if cfg.DenseInterval <= 0 {
		cfg.DenseInterval = DefaultDenseInterval
	}
	if cfg.DenseTimeout <= 0 {
		cfg.DenseTimeout = DefaultDenseTimeout
	}
	p := &Probe{
		cfg:  cfg,
		dial: cfg.Dial,
		// A dense probe sends 200 a second: room for the console to
		// fall behind by a second without slowing the probe down.
		updates: make(chan ui.ProbeSample, 256),
		wake:    make(chan struct{}, 1),
		addrs:   map[string][]netip.Addr{},
	}
	if p.dial == nil {
		p.dial = (&net.Dialer{}).DialContext
	}
	if u, err := url.Parse(cfg.URL); err == nil && u.Scheme == "http" && u.Host != "" {
		p.target, p.addr = u, u.Host
		if u.Port() == "" {
			p.addr = net.JoinHostPort(u.Hostname(), "80")
		}
		if a, err := netip.ParseAddr(u.Hostname()); err == nil {
			p.vip = a.Unmap()
		}
	}
	return p
}

// Updates implements ui.ProbeFeed. It is closed when Run returns.
func (p *Probe) Updates() <-chan ui.ProbeSample { return p.updates }

// Dense implements ui.ProbePacer: on, the probe sends every DenseInterval
// with the dense timeout, from now, for at most MaxDense.
func (p *Probe) Dense(on bool) {
	p.mu.Lock()
	p.dense, p.denseAt = on, time.Now()
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// pacing is how the next request goes out.
type pacing struct {
	interval time.Duration // from this request to the next
	timeout  time.Duration // answered later, it fails: as a client would say
	wait     time.Duration // how long it is followed all the same
	flights  int           // requests under way at most
}

func (p *Probe) pace() pacing {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dense && time.Since(p.denseAt) > MaxDense {
		p.dense = false
	}
	if !p.dense {
		return pacing{interval: p.cfg.Interval, timeout: p.cfg.Timeout, wait: p.cfg.Timeout, flights: 1}
	}
	pc := pacing{interval: p.cfg.DenseInterval, timeout: p.cfg.DenseTimeout, wait: p.cfg.Timeout}
	if len(p.recent) >= 3 {
		r := slices.Sorted(slices.Values(p.recent))
		pc.timeout = max(pc.timeout, denseSlack*r[len(r)/2])
	}
	pc.timeout = min(pc.timeout, p.cfg.Timeout)
	pc.flights = min(int(pc.wait/pc.interval)+1, maxFlights)
	return pc
}

// Run probes until ctx is done, then returns nil: a request every
// interval; sparse, each an interval after the previous one was sent or
// at once when it took longer; dense, while others are under way. The
// samples go out in the order the requests were sent, each once it is
// answered or its timeout has passed; the follow-ups when they know.
func (p *Probe) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		close(p.updates)
	}()
	var (
		queue []chan ui.ProbeSample // decisions under way, oldest first
		next  time.Time
		t     = time.NewTimer(time.Hour)
	)
	defer t.Stop()
	for {
		pc := p.pace()
		if now := time.Now(); len(queue) < pc.flights && !now.Before(next) {
			decided := make(chan ui.ProbeSample, 1)
			wg.Go(func() { p.flight(ctx, now, pc, decided) })
			queue = append(queue, decided)
			next = now.Add(pc.interval)
			continue
		}
		var tick <-chan time.Time
		if len(queue) < pc.flights {
			t.Reset(time.Until(next))
			tick = t.C
		}
		var head <-chan ui.ProbeSample
		if len(queue) > 0 {
			head = queue[0]
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		case <-p.wake:
			next = time.Now()
		case s := <-head:
			queue = queue[1:]
			if !p.send(ctx, s) {
				return nil
			}
		}
	}
}

func (p *Probe) send(ctx context.Context, s ui.ProbeSample) bool {
	select {
	case p.updates <- s:
		return true
	case <-ctx.Done():
		return false
	}
}

// flight is one request of Run sent at start: its decision goes to
// decided, and a follow-up, if any, straight out.
func (p *Probe) flight(ctx context.Context, start time.Time, pc pacing, decided chan<- ui.ProbeSample) {
	var once sync.Once
	decide := func(s ui.ProbeSample) (first bool) {
		once.Do(func() { decided <- s; first = true })
		return first
	}
	if pc.timeout < pc.wait {
		late := time.AfterFunc(time.Until(start.Add(pc.timeout)), func() {
			decide(ui.ProbeSample{Time: start, Pace: pc.interval, Latency: pc.timeout,
				Err: ui.ProbeTimeout{After: pc.timeout}, Followed: true})
		})
		defer late.Stop()
	}
	s := p.request(ctx, start, pc)
	if decide(s) {
		return
	}
	s.FollowUp, s.OK = true, false
	if s.Err == nil { // answered after the timeout, as request says
		s.Err = ui.ProbeTimeout{After: pc.timeout, Late: s.Latency}
	}
	p.send(ctx, s)
}

// Once makes one request at the current pace and waits for its answer.
// It may run beside Run.
func (p *Probe) Once(ctx context.Context) ui.ProbeSample {
	return p.request(ctx, time.Now(), p.pace())
}

// request makes one request sent at start and waits up to pc.wait for
// the answer; one after pc.timeout is a slow answer (a ProbeTimeout with
// Late).
func (p *Probe) request(ctx context.Context, start time.Time, pc pacing) ui.ProbeSample {
	s := ui.ProbeSample{Time: start, Pace: pc.interval}
	ctx, cancel := context.WithTimeout(ctx, pc.wait)
	defer cancel()
	a, err := p.get(ctx)
	s.Latency = time.Since(start)
	switch {
	case err != nil && (ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded)):
		s.Err = ui.ProbeTimeout{After: pc.wait} // the whole wait: lost
		return s
	case err != nil:
		s.Err = probeCause(err)
		return s
	}
	p.mu.Lock()
	p.recent = append(p.recent, s.Latency)
	if len(p.recent) > 8 {
		p.recent = slices.Delete(p.recent, 0, len(p.recent)-8)
	}
	p.mu.Unlock()
	p.identify(ctx, &s, a)
	if s.Latency > pc.timeout {
		s.Err = ui.ProbeTimeout{After: pc.timeout, Late: s.Latency}
		return s
	}
	s.OK = true
	return s
}

// answer is what a request brought back.
type answer struct {
	servedBy string // the X-Served-By header
	body     []byte
}

// get makes one GET on a new connection and closes it itself once it has
// the answer: the side that closes first keeps the TIME_WAIT, and were it
// nginx, a new connection from a reused port would meet an old one's ACK
// and wait a second (see fixtures/netns.ProbeClient).
func (p *Probe) get(ctx context.Context) (answer, error) {
	if p.target == nil {
		return answer{}, fmt.Errorf("cannot probe %q: want http://ADDRESS[:PORT]/", p.cfg.URL)
	}
	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return answer{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req := &http.Request{
		Method: http.MethodGet, URL: p.target, Host: p.target.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"User-Agent": {"vipctl-probe"}},
	}
	if err := req.Write(conn); err != nil {
		return answer{}, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return answer{}, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return answer{}, fmt.Errorf("status %s", resp.Status)
	}
	return answer{servedBy: ServedBy(resp.Header), body: body}, nil
}

// identify says who answered: the X-Served-By header, else the VIP's MAC
// when it is one node's, else the lab nginx's body. Nothing else names a
// node.
func (p *Probe) identify(ctx context.Context, s *ui.ProbeSample, a answer) {
	if a.servedBy != "" {
		s.Backend, s.From = a.servedBy, ui.HeaderServedBy
		return
	}
	if p.byMAC(ctx, s) {
		return
	}
	if b := Backend(a.body); b != "" {
		s.Backend, s.From = b, "body"
	}
}

// byMAC reads the VIP's neighbour entry into s, and names the node whose
// MAC it is, if exactly one.
func (p *Probe) byMAC(ctx context.Context, s *ui.ProbeSample) bool {
	if p.cfg.Neighbors == nil || !p.vip.IsValid() {
		return false
	}
	p.resolve.Do(func() { p.resolveNodes(context.WithoutCancel(ctx)) })
	want := []netip.Addr{p.vip}
	for _, n := range p.cfg.Nodes {
		if n.MAC == nil {
			want = append(want, p.addrs[n.Name]...)
		}
	}
	tab, err := p.cfg.Neighbors.Lookup(want)
	mac := tab[p.vip]
	if err != nil || mac == nil {
		return false // not on-link, or not resolved yet
	}
	s.MAC = mac
	who := NodeByMAC(mac, p.cfg.Nodes, func(n ProbeNode) []net.HardwareAddr {
		if n.MAC != nil {
			return []net.HardwareAddr{n.MAC}
		}
		var macs []net.HardwareAddr
		for _, a := range p.addrs[n.Name] {
			if m := tab[a]; m != nil {
				macs = append(macs, m)
			}
		}
		return macs
	})
	if who == "" {
		return false
	}
	s.Backend, s.From = who, "MAC "+mac.String()
	return true
}

// NodeByMAC names the one node that has mac, or "" when none or several
// do (a VRRP virtual MAC is every master's).
func NodeByMAC(mac net.HardwareAddr, nodes []ProbeNode, macs func(ProbeNode) []net.HardwareAddr) string {
	var who []string
	for _, n := range nodes {
		if slices.ContainsFunc(macs(n), func(m net.HardwareAddr) bool { return slices.Equal(m, mac) }) {
			who = append(who, n.Name)
		}
	}
	if len(who) != 1 {
		return ""
	}
	return who[0]
}

// resolveNodes finds the addresses of the nodes whose MAC is unknown,
// once, when an answer first needs them: a name that does not resolve
// leaves that node without a MAC.
func (p *Probe) resolveNodes(ctx context.Context) {
	for _, n := range p.cfg.Nodes {
		if n.MAC != nil || n.Host == "" {
			continue
		}
		if a, err := netip.ParseAddr(strings.Trim(n.Host, "[]")); err == nil {
			p.addrs[n.Name] = []netip.Addr{a.Unmap()}
			continue
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		as, err := net.DefaultResolver.LookupNetIP(rctx, "ip", n.Host)
		cancel()
		if err == nil {
			for _, a := range as {
				p.addrs[n.Name] = append(p.addrs[n.Name], a.Unmap())
			}
		}
	}
}

// ServedBy reads the X-Served-By header: a host name, or "" when absent
// or not a plain name.
func ServedBy(h http.Header) string {
	v := strings.TrimSpace(h.Get(ui.HeaderServedBy))
	if len(v) > 64 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return ""
	}
	return v
}

// Backend reads the node's name from an answer's body, the lab nginx's
// convention: "ok nginx-01". Any other answer names no node.
func Backend(body []byte) string {
	f := strings.Fields(string(body))
	if len(f) >= 2 && f[0] == "ok" {
		return f[1]
	}
	return ""
}

// probeCause shortens the errors to what the VIP line has room for:
// "connect: connection refused".
func probeCause(err error) error {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}
