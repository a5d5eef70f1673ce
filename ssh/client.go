package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

var (
	// ErrConnLost is wrapped when the connection closed or stopped
	// answering keepalives.
	ErrConnLost = errors.New("connection lost")
	// ErrSudoPassword is wrapped by the *ExitError of a command that sudo
	// refused to run without a password.
	ErrSudoPassword = errors.New("sudo requires a password")
	// ErrSudoDenied is wrapped by the *ExitError of a command that sudoers
	// does not allow the login user to run.
	ErrSudoDenied = errors.New("sudo denied")
)

// Client is one logged-in connection, possibly through ProxyJump hops.
// Its methods are safe for concurrent use.
type Client struct {
	client       *gossh.Client
	hops         []*gossh.Client // jump hosts, closed after client
	target       endpoint
	sudo         bool
	keepAlive    time.Duration
	keepAliveMax int
	log          *slog.Logger

	done      chan struct{} // closed when the transport ends
	closeOnce sync.Once
}

// Dial connects to cfg.Target, through its ProxyJump hops if any, and logs
// in. It gives up after cfg.Timeout (not counting time spent in Confirm) or
// when ctx is done.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	s, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	chain, err := s.chain(s.Target)
	if err != nil {
		return nil, err
	}
	target := chain[len(chain)-1]
	keys, err := loadHostKeys(s.KnownHosts, s.Confirm, s.Logger)
	if err != nil {
		return nil, err
	}

	d := newDialGuard(ctx, s.Timeout)
	var clients []*gossh.Client
	for i, hop := range chain {
		var conn net.Conn
		if i == 0 {
			dial := s.DialContext
			if dial == nil {
				var nd net.Dialer
				dial = nd.DialContext
			}
			conn, err = dial(d.ctx, "tcp", hop.addr())
		} else {
			conn, err = clients[i-1].DialContext(d.ctx, "tcp", hop.addr())
		}
		if err == nil {
			d.add(conn)
			var c *gossh.Client
			if c, err = login(d, s, keys, hop, conn); err == nil {
				d.add(c)
				clients = append(clients, c)
				continue
			}
		}
		d.finish(false)
		err = d.cause(err)
		if i > 0 {
			return nil, fmt.Errorf("failed to reach %s through %s: %w", hop, chain[i-1], err)
		}
		return nil, fmt.Errorf("failed to connect to %s: %w", hop, err)
	}
	if !d.finish(true) {
		return nil, fmt.Errorf("failed to connect to %s: %w", target, d.cause(nil))
	}

	c := &Client{
		client:       clients[len(clients)-1],
		hops:         clients[:len(clients)-1],
		target:       target,
		sudo:         s.Sudo.use(target.user),
		keepAlive:    s.KeepAlive,
		keepAliveMax: s.KeepAliveMax,
		log:          s.Logger.With("host", target.alias),
		done:         make(chan struct{}),
	}
	go func() {
		_ = c.client.Wait()
		close(c.done)
	}()
	c.log.Info("connected", "addr", target.addr(), "user", target.user, "hops", len(c.hops), "sudo", c.sudo)
	return c, nil
}

// login runs the SSH handshake and authentication for one hop over conn.
func login(d *dialGuard, s *settings, keys *hostKeys, hop endpoint, conn net.Conn) (*gossh.Client, error) {
	creds := loadCredentials(s, hop)
	defer creds.close()
	cfg := &gossh.ClientConfig{
		User:              hop.user,
		Auth:              creds.methods(),
		HostKeyCallback:   keys.callback(d.ctx, hop, d.pause),
		HostKeyAlgorithms: keys.algorithms(hop.addr()),
	}
	cc, chans, reqs, err := gossh.NewClientConn(conn, hop.addr(), cfg)
	if err != nil {
		if strings.Contains(err.Error(), "unable to authenticate") {
			return nil, fmt.Errorf("failed to log in as %s (%s): %w", hop.user, creds.explain(), err)
		}
		return nil, err
	}
	return gossh.NewClient(cc, chans, reqs), nil
}

// dialGuard aborts a Dial, closing whatever it opened, when ctx is done or
// the timeout expires. The timeout is paused while Confirm waits on a person.
type dialGuard struct {
	parent  context.Context
	ctx     context.Context
	cancel  context.CancelFunc
	stopCtx func() bool
	timer   *time.Timer

	mu       sync.Mutex
	closers  []io.Closer
	finished bool
	why      error // the timeout or ctx's error, once aborted by either

	deadline time.Time // only touched by the handshake goroutine
}

func newDialGuard(parent context.Context, timeout time.Duration) *dialGuard {
	ctx, cancel := context.WithCancel(parent)
	d := &dialGuard{parent: parent, ctx: ctx, cancel: cancel, deadline: time.Now().Add(timeout)}
	d.timer = time.AfterFunc(timeout, func() {
		d.abort(fmt.Errorf("timed out after %s: %w", timeout, os.ErrDeadlineExceeded))
	})
	d.stopCtx = context.AfterFunc(parent, func() { d.abort(parent.Err()) })
	return d
}

// add registers c to be closed if the dial fails.
func (d *dialGuard) add(c io.Closer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.why != nil {
		c.Close()
		return
	}
	d.closers = append(d.closers, c)
}

func (d *dialGuard) abort(why error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.finished || d.why != nil {
		return
	}
	d.why = why
	d.closeAll()
}

func (d *dialGuard) closeAll() {
	d.cancel()
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i].Close()
	}
	d.closers = nil
}

// finish ends the guard. On success it reports false, and closes
// everything, if the dial was aborted meanwhile.
func (d *dialGuard) finish(ok bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.timer.Stop()
	d.stopCtx()
	if ok && d.why == nil {
		d.finished = true
		return true
	}
	d.finished = true
	d.closeAll()
	return false
}

// cause puts why the dial was aborted before the error that followed, which
// is only "use of closed network connection".
func (d *dialGuard) cause(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	why := d.why
	if why == nil {
		why = d.parent.Err() // its AfterFunc may not have run yet
	}
	switch {
	case why == nil:
		return err
	case err == nil, errors.Is(err, net.ErrClosed):
		return why
	default:
		return fmt.Errorf("%w (%v)", why, err)
	}
}

func (d *dialGuard) pause() func() {
	if !d.timer.Stop() {
		return func() {} // fired already: the dial is failing
	}
	left := time.Until(d.deadline)
	return func() {
		d.deadline = time.Now().Add(left)
		d.timer.Reset(left)
	}
}

// User is the login user on the target.
func (c *Client) User() string { return c.target.user }

// Sudo reports whether commands are prefixed with "sudo -n".
func (c *Client) Sudo() bool { return c.sudo }

// Done is closed when the connection ends, for whatever reason.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close ends the connection and those to any jump hosts.
func (c *Client) Close() error {
	var err error
	c.closeOnce.Do(func() {
		err = c.client.Close()
		for i := len(c.hops) - 1; i >= 0; i-- {
			c.hops[i].Close()
		}
		if errors.Is(err, net.ErrClosed) {
			err = nil
		}
	})
	return err
}

// command applies the sudo prefix. sudo -n fails at once, instead of waiting
// for a password nobody can type; cmd should be a simple command so that
// sudoers rules naming the binary (NOPASSWD: /usr/local/sbin/vipd) match.
func (c *Client) command(cmd string) string {
	if c.sudo {
		return "sudo -n " + cmd
	}
	return cmd
}

// newSession opens a session channel, or gives up when ctx is done: a
// server that stopped answering would otherwise hold us until keepalives
// notice.
func (c *Client) newSession(ctx context.Context) (*gossh.Session, error) {
	type result struct {
		s   *gossh.Session
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := c.client.NewSession()
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("failed to open a session on %s: %w", c.target.alias, r.err)
		}
		return r.s, nil
	case <-ctx.Done():
		go func() {
			if r := <-ch; r.s != nil {
				r.s.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// Exec runs cmd and returns its standard output. A command that fails
// returns an *ExitError, with the output it wrote, holding its exit status
// and standard error. When ctx is done the remote command is signalled and
// its channel closed.
func (c *Client) Exec(ctx context.Context, cmd string) ([]byte, error) {
	s, err := c.newSession(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to run %q: %w", cmd, err)
	}
	defer s.Close()
	var stdout bytes.Buffer
	stderr := &tailBuffer{max: maxStderr}
	s.Stdout, s.Stderr = &stdout, stderr

	ran := make(chan error, 1)
	go func() { ran <- s.Run(c.command(cmd)) }()
	select {
	case err = <-ran:
	case <-ctx.Done():
		_ = s.Signal(gossh.SIGTERM)
		s.Close()
		return nil, fmt.Errorf("%q on %s: %w", cmd, c.target.alias, ctx.Err())
	}
	return stdout.Bytes(), c.exitError(cmd, err, stderr)
}

// maxStderr bounds the standard error kept for an ExitError.
const maxStderr = 16 << 10

// Stream runs cmd and returns its standard output as it is written, for
// commands like `vipd watch --json` that run until stopped. Closing the
// stream or ending ctx stops the remote command; Read then returns ctx's
// error. When the command exits, Read returns io.EOF if it succeeded, else
// its *ExitError.
func (c *Client) Stream(ctx context.Context, cmd string) (io.ReadCloser, error) {
	s, err := c.newSession(ctx)
	if err != nil {
		return nil, fmt.Errorf("failed to stream %q: %w", cmd, err)
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("failed to stream %q: %w", cmd, err)
	}
	stderr := &tailBuffer{max: maxStderr}
	s.Stderr = stderr
	if err := s.Start(c.command(cmd)); err != nil {
		s.Close()
		return nil, fmt.Errorf("failed to start %q on %s: %w", cmd, c.target.alias, err)
	}

	// A pump lets Read return as soon as ctx is done, even if the server
	// has stopped answering and the channel cannot close cleanly.
	pr, pw := io.Pipe()
	st := &stream{session: s, r: pr}
	st.stopCtx = context.AfterFunc(ctx, func() {
		// Read returns what was already piped, then this.
		pw.CloseWithError(fmt.Errorf("stream %q on %s: %w", cmd, c.target.alias, ctx.Err()))
		st.close()
	})
	go func() {
		_, err := io.Copy(pw, stdout)
		if err == nil {
			err = c.exitError(cmd, s.Wait(), stderr)
		}
		if err == nil {
			err = io.EOF
		}
		pw.CloseWithError(err)
	}()
	return st, nil
}

type stream struct {
	session *gossh.Session
	r       *io.PipeReader
	stopCtx func() bool
	once    sync.Once
}

func (s *stream) Read(p []byte) (int, error) { return s.r.Read(p) }

// Close stops the remote command, without waiting for it to exit. Read
// then returns io.ErrClosedPipe.
func (s *stream) Close() error {
	s.stopCtx()
	s.r.Close()
	s.close()
	return nil
}

func (s *stream) close() {
	s.once.Do(func() {
		// OpenSSH >= 7.9 delivers the signal; closing the channel then
		// hangs up on any server that does not.
		_ = s.session.Signal(gossh.SIGTERM)
		s.session.Close()
	})
}

// ExitError is a remote command that did not succeed.
type ExitError struct {
	Host   string
	User   string // login user
	Cmd    string // as given, without the sudo prefix
	Status int    // exit status; -1 if none was sent
	Signal string // signal that killed it, if any ("TERM")
	Stderr string // the end of its standard error
	err    error  // ErrSudoPassword, ErrSudoDenied or nil
}

func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q on %s ", e.Cmd, e.Host)
	switch {
	case errors.Is(e.err, ErrSudoPassword):
		fmt.Fprintf(&b, "failed: sudo -n wants a password; allow the command with NOPASSWD in sudoers for %s, or log in as root", e.User)
	case errors.Is(e.err, ErrSudoDenied):
		fmt.Fprintf(&b, "failed: sudoers does not allow %s to run it", e.User)
	case e.Signal != "":
		fmt.Fprintf(&b, "was killed by signal %s", e.Signal)
	case e.Status < 0:
		b.WriteString("exited without an exit status")
	default:
		fmt.Fprintf(&b, "exited with status %d", e.Status)
	}
	if msg := strings.TrimSpace(e.Stderr); msg != "" {
		b.WriteString(": " + msg)
	}
	return b.String()
}

// Unwrap returns ErrSudoPassword or ErrSudoDenied when sudo refused.
func (e *ExitError) Unwrap() error { return e.err }

func (c *Client) exitError(cmd string, err error, stderr *tailBuffer) error {
	if err == nil {
		return nil
	}
	e := &ExitError{Host: c.target.alias, User: c.target.user, Cmd: cmd, Status: -1, Stderr: stderr.String()}
	var exit *gossh.ExitError
	var missing *gossh.ExitMissingError
	switch {
	case errors.As(err, &exit):
		e.Status, e.Signal = exit.ExitStatus(), exit.Signal()
	case errors.As(err, &missing):
	default:
		return fmt.Errorf("failed to run %q on %s: %w", cmd, c.target.alias, err)
	}
	if c.sudo {
		switch msg := e.Stderr; {
		case strings.Contains(msg, "password is required"), strings.Contains(msg, "terminal is required"):
			e.err = ErrSudoPassword
		case strings.Contains(msg, "not in the sudoers"), strings.Contains(msg, "is not allowed to execute"):
			e.err = ErrSudoDenied
		}
	}
	return e
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// KeepAlive sends a keepalive@openssh.com request every interval and
// returns an error wrapping ErrConnLost, after closing the client, once
// KeepAliveMax requests in a row go unanswered or the connection ends. It
// returns nil when ctx is done. A negative interval only watches for the
// end of the connection.
func (c *Client) KeepAlive(ctx context.Context) error {
	var tick <-chan time.Time
	if c.keepAlive > 0 {
		t := time.NewTicker(c.keepAlive)
		defer t.Stop()
		tick = t.C
	}
	var pending chan error // the request in flight, at most one
	send := func() {
		ch := make(chan error, 1)
		go func() {
			// Any reply, even a refusal, shows the server is alive. The
			// call returns when the client closes if no reply comes.
			_, _, err := c.client.SendRequest("keepalive@openssh.com", true, nil)
			ch <- err
		}()
		pending = ch
	}
	misses := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.done:
			return fmt.Errorf("connection to %s closed: %w", c.target.alias, ErrConnLost)
		case err := <-pending:
			pending = nil
			if err != nil {
				c.Close()
				return fmt.Errorf("keepalive to %s failed: %w: %v", c.target.alias, ErrConnLost, err)
			}
			misses = 0
		case <-tick:
			if pending == nil {
				send()
				continue
			}
			misses++
			c.log.Debug("keepalive unanswered", "misses", misses)
			if misses >= c.keepAliveMax {
				c.Close()
				return fmt.Errorf("%s did not answer %d keepalives %s apart: %w", c.target.alias, misses, c.keepAlive, ErrConnLost)
			}
		}
	}
}
