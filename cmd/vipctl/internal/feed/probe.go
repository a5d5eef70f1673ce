package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/vipkit/vip/ui"
)

// Defaults of ProbeConfig.
const (
	DefaultProbeInterval = 200 * time.Millisecond
	DefaultProbeTimeout  = time.Second
)

// DialFunc makes a connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// ProbeConfig configures a Probe. Zero values take the defaults.
type ProbeConfig struct {
	URL      string        // "http://198.51.100.100:80/"
	Interval time.Duration // between requests; default DefaultProbeInterval
	Timeout  time.Duration // per request; default DefaultProbeTimeout
	// Dial replaces the plain dialer: the lab dials from its client
	// namespace, the demo to whichever in-memory node holds the VIP.
	Dial DialFunc
}

// Probe requests the VIP over and over, as a client would: a ui.ProbeFeed
// fed by Run.
type Probe struct {
	cfg     ProbeConfig
	client  *http.Client
	updates chan ui.ProbeSample
}

var _ ui.ProbeFeed = (*Probe)(nil)

// NewProbe returns a probe of cfg.URL. Nothing happens until Run.
func NewProbe(cfg ProbeConfig) *Probe {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultProbeInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultProbeTimeout
	}
	dial := cfg.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	return &Probe{
		cfg: cfg,
		client: &http.Client{
			Transport: &http.Transport{
				Proxy:       nil,
				DialContext: dial,
				// A new connection each time, as a new client makes:
				// one kept alive would stick to the old master.
				DisableKeepAlives:      true,
				DisableCompression:     true,
				MaxResponseHeaderBytes: 64 << 10,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		updates: make(chan ui.ProbeSample, 16),
	}
}

// Updates implements ui.ProbeFeed. It is closed when Run returns.
func (p *Probe) Updates() <-chan ui.ProbeSample { return p.updates }

// Run probes every Interval until ctx is done, then returns nil. A request
// that takes longer delays the next one: requests never overlap.
func (p *Probe) Run(ctx context.Context) error {
	defer close(p.updates)
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		s := p.Once(ctx)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case p.updates <- s:
		case <-ctx.Done():
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// Once makes one request.
func (p *Probe) Once(ctx context.Context) ui.ProbeSample {
	start := time.Now()
	s := ui.ProbeSample{Time: start}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	body, err := p.get(ctx)
	s.Latency = time.Since(start)
	if err != nil {
		s.Err = probeCause(ctx, err, p.cfg.Timeout)
		return s
	}
	s.OK, s.Backend = true, Backend(body)
	return s
}

func (p *Probe) get(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.cfg.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "vipctl-probe")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	return body, nil
}

// Backend reads the node's name from an answer: the lab's nginx answers
// "ok nginx-01". Any other answer names no node.
func Backend(body []byte) string {
	f := strings.Fields(string(body))
	if len(f) >= 2 && f[0] == "ok" {
		return f[1]
	}
	return ""
}

// probeCause shortens net/http's errors to what the VIP line has room for:
// "connect: connection refused", "no answer within 1s".
func probeCause(ctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %v", timeout)
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		var oe *net.OpError
		if errors.As(ue.Err, &oe) && oe.Err != nil {
			return oe.Err
		}
		return ue.Err
	}
	return err
}
