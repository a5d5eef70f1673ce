package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Handler runs one exec request. It writes the command's output to stdout
// and stderr and returns its exit status. ctx is done when the client
// closes the channel or signals the command, or the server stops.
type Handler func(ctx context.Context, cmd string, stdout, stderr io.Writer, stdin io.Reader) int

// Options configure a Server. The zero value serves a fresh ed25519 host
// key, lets anyone with any public key in, and answers every command with
// status 127.
type Options struct {
	Handler Handler
	// HostKeys are the server's keys; default one fresh ed25519 key.
	HostKeys []ssh.Signer
	// AuthorizedKeys, if set, are the only client keys accepted.
	AuthorizedKeys []ssh.PublicKey
	// User, if set, is the only login name accepted.
	User string
	// Forward decides which direct-tcpip (ProxyJump, ssh -W) destinations
	// are served; nil serves none. See LoopbackOnly.
	Forward func(host string, port int) bool
	Logger  *slog.Logger
}

// LoopbackOnly allows forwarding to 127.0.0.0/8 and ::1 only.
func LoopbackOnly(host string, _ int) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// Server is an in-process SSH server for tests and demos. It serves exec
// requests through a Handler, keepalives, and optionally direct-tcpip.
type Server struct {
	opts     Options
	config   *ssh.ServerConfig
	ln       net.Listener
	hostKeys []ssh.Signer
	log      *slog.Logger

	forwards atomic.Int64
	logins   atomic.Int64

	mu      sync.Mutex
	stalled chan struct{} // non-nil while stalled; closed by Resume
	conns   map[*gateConn]struct{}
	closed  bool

	wg sync.WaitGroup
}

// Listen opens addr ("127.0.0.1:0" picks a port) and returns a Server that
// serves once Run is called.
func Listen(addr string, opts Options) (*Server, error) {
	s := &Server{opts: opts, conns: map[*gateConn]struct{}{}, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.hostKeys = opts.HostKeys
	if len(s.hostKeys) == 0 {
		k, err := NewSigner()
		if err != nil {
			return nil, err
		}
		s.hostKeys = []ssh.Signer{k}
	}
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: s.checkKey,
		ServerVersion:     "SSH-2.0-vipkit-sshtest",
	}
	for _, k := range s.hostKeys {
		s.config.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sshtest: failed to listen on %s: %w", addr, err)
	}
	s.ln = ln
	return s, nil
}

// NewServer starts a Server on 127.0.0.1 that tb's cleanup stops.
func NewServer(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx); err != nil {
			tb.Errorf("sshtest: %v", err)
		}
	}()
	tb.Cleanup(func() {
		cancel()
		<-done
	})
	return s
}

// NewSigner returns a fresh ed25519 key, for a host or a client.
func NewSigner() (ssh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sshtest: failed to generate a key: %w", err)
	}
	return ssh.NewSignerFromKey(priv)
}

func (s *Server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if s.opts.User != "" && meta.User() != s.opts.User {
		return nil, fmt.Errorf("user %q not allowed", meta.User())
	}
	if s.opts.AuthorizedKeys == nil {
		return nil, nil
	}
	for _, k := range s.opts.AuthorizedKeys {
		if string(k.Marshal()) == string(key.Marshal()) {
			return nil, nil
		}
	}
	return nil, errors.New("key not authorized")
}

// Addr is the listening address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// HostKey is the server's first host key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKeys[0].PublicKey() }

// KnownHostsLine is a known_hosts line for the first host key, ending in
// a newline.
func (s *Server) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey()) + "\n"
}

// Logins counts successful logins.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// Forwards counts direct-tcpip channels served.
func (s *Server) Forwards() int { return int(s.forwards.Load()) }

// Stall makes the server stop answering, as a host that vanished from the
// network would: connections, old and new, neither read nor write until
// Resume. Nothing is closed.
func (s *Server) Stall() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled == nil {
		s.stalled = make(chan struct{})
	}
}

// Resume undoes Stall.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stalled != nil {
		close(s.stalled)
		s.stalled = nil
	}
}

// Run serves until ctx is done, then closes every connection, waits for
// their handlers, and returns nil.
func (s *Server) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { s.shutdown() })
	defer stop()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			s.shutdown()
			s.wg.Wait()
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("failed to accept: %w", err)
		}
		c := &gateConn{Conn: nc, s: s, done: make(chan struct{})}
		if !s.track(c) {
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.serve(ctx, c)
		}()
	}
}

func (s *Server) track(c *gateConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) shutdown() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := make([]*gateConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.ln.Close()
	for _, c := range conns {
		c.Close() // takes mu
	}
}

func (s *Server) serve(ctx context.Context, c *gateConn) {
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		s.log.Debug("handshake failed", "remote", c.RemoteAddr(), "err", err)
		return
	}
	s.logins.Add(1)
	s.log.Debug("login", "user", sc.User(), "remote", c.RemoteAddr())
	// keepalive@openssh.com and the like get a refusal, which is an answer.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.session(ctx, nch)
			}()
		case "direct-tcpip":
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.forward(ctx, nch)
			}()
		default:
			_ = nch.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
	sc.Close()
}

func (s *Server) session(ctx context.Context, nch ssh.NewChannel) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ran sync.WaitGroup
	defer ran.Wait()
	started := false
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if started || ssh.Unmarshal(req.Payload, &p) != nil {
				_ = req.Reply(false, nil)
				continue
			}
			started = true
			_ = req.Reply(true, nil)
			ran.Add(1)
			go func() {
				defer ran.Done()
				status := 127
				if s.opts.Handler != nil {
					status = s.opts.Handler(ctx, p.Command, ch, ch.Stderr(), ch)
				} else {
					fmt.Fprintf(ch.Stderr(), "sshtest: %s: command not found\n", p.Command)
				}
				_ = ch.CloseWrite()
				_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
				ch.Close()
			}()
		case "signal":
			cancel()
		default:
			if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}
	cancel() // the client closed the channel
}

func (s *Server) forward(ctx context.Context, nch ssh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &p); err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, "bad direct-tcpip request")
		return
	}
	if s.opts.Forward == nil || !s.opts.Forward(p.Host, int(p.Port)) {
		_ = nch.Reject(ssh.Prohibited, "forwarding to "+p.Host+" not allowed")
		return
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	tc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		_ = nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		tc.Close()
		return
	}
	s.forwards.Add(1)
	go ssh.DiscardRequests(reqs)
	stop := context.AfterFunc(ctx, func() { tc.Close(); ch.Close() })
	defer stop()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(tc, ch); done <- struct{}{} }()
	go func() { _, _ = io.Copy(ch, tc); done <- struct{}{} }()
	<-done
	tc.Close()
	ch.Close()
	<-done
}

// gateConn holds reads and writes while the server is stalled.
type gateConn struct {
	net.Conn
	s    *Server
	once sync.Once
	done chan struct{}
}

func (c *gateConn) wait() error {
	c.s.mu.Lock()
	stalled := c.s.stalled
	c.s.mu.Unlock()
	if stalled == nil {
		return nil
	}
	select {
	case <-stalled:
		return nil
	case <-c.done:
		return net.ErrClosed
	}
}

func (c *gateConn) Read(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *gateConn) Write(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *gateConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}
