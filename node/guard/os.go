package guard

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ProcessChecker tells whether nginx's master process runs.
type ProcessChecker interface {
	// Check returns nil when the process is alive, or an error saying why
	// it is not. It must not wait: the check's Timeout bounds only the GET.
	Check(ctx context.Context) error
}

// Prober asks nginx for an answer.
type Prober interface {
	// Probe returns nil when nginx answered in time and well enough.
	Probe(ctx context.Context) error
}

// Command is a program to run.
type Command struct {
	Argv []string // program and arguments; no shell is involved
	User string   // run as this user if possible (see Exec); "" for ours
}

// Runner runs a command to completion. When ctx is done it must kill the
// command, with whatever it started in its process group, and return soon.
type Runner interface {
	// Run returns nil when the command exited with status 0.
	Run(ctx context.Context, c Command) error
}

var (
	_ ProcessChecker = PIDFile{}
	_ Prober         = (*HTTPProbe)(nil)
	_ Runner         = Exec{}
)

// PIDFile checks the process whose pid nginx wrote to Path. A process counts
// as dead when it is gone or a zombie: a killed nginx can stay a zombie for
// seconds before it is reaped, and `kill -0` or `ps -C nginx` would still
// count it (LAB-NOTES). A stopped (SIGSTOP) process counts as alive; only the
// HTTP probe notices that it does not answer.
type PIDFile struct {
	Path string
	Proc string // procfs mount point; "" is /proc
}

// Check implements ProcessChecker.
func (p PIDFile) Check(context.Context) error {
	_, err := p.alive()
	return err
}

// alive returns the pid of the live master, or why there is none.
func (p PIDFile) alive() (int, error) {
	b, err := os.ReadFile(p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("no pid file %s", p.Path)
	}
	if err != nil {
		return 0, fmt.Errorf("failed to read pid file: %w", err)
	}
	// nginx creates the file before writing it: an empty file is a start
	// in progress, and counts as not running yet.
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("pid file %s holds no pid: %q", p.Path, strings.TrimSpace(string(b)))
	}
	proc := p.Proc
	if proc == "" {
		proc = "/proc"
	}
	state, err := procState(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("master process %d is gone", pid)
	case err != nil:
		return 0, fmt.Errorf("failed to read the state of master process %d: %w", pid, err)
	case state == 'Z' || state == 'X':
		return 0, fmt.Errorf("master process %d is dead (state %c)", pid, state)
	}
	return pid, nil
}

// procState returns the state letter of a /proc/PID/stat file.
func procState(path string) (byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	// "pid (comm) S ...": comm may itself contain ") ", so take the last.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 || i+2 >= len(b) {
		return 0, fmt.Errorf("malformed %s", path)
	}
	return b[i+2], nil
}

// DefaultMaxStatus is the highest HTTP status that counts as healthy. A 4xx
// is an answer from nginx, so nginx is serving: a misspelt health path
// (404) must not put both nodes in FAULT and leave the VIP nowhere. A 5xx
// means nginx answered but cannot serve. Point the URL at a location nginx
// answers itself (`return 200`), not at a proxied one, or a backend outage
// (502, 504 on both nodes alike) takes both nodes out.
const DefaultMaxStatus = 499

// DialFunc makes a connection, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// HTTPProbe GETs a URL on a fresh connection each time and wants a status
// of at most MaxStatus within the context's deadline. Redirects are not
// followed and no proxy is used: the answer must come from the nginx at the
// URL. It speaks just enough HTTP/1.1 for that, on a bare connection: five
// checks a second through net/http's Transport cost twice the CPU (its
// connection goroutines and pool), and idle CPU is a figure we compete on.
type HTTPProbe struct {
	url       string
	addr      string      // host:port to dial
	tls       *tls.Config // nil for http
	req       []byte      // the whole request, built once
	maxStatus int
	dial      DialFunc
	err       error // from parsing the URL
}

// NewHTTPProbe returns a probe of url. maxStatus 0 means DefaultMaxStatus;
// dial nil means a plain net.Dialer (tests pass one that makes its sockets in
// a network namespace). A URL that is not http(s) makes every Probe fail.
func NewHTTPProbe(rawURL string, maxStatus int, dial DialFunc) *HTTPProbe {
	if maxStatus == 0 {
		maxStatus = DefaultMaxStatus
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	p := &HTTPProbe{url: rawURL, maxStatus: maxStatus, dial: dial}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.err = fmt.Errorf("%q is not an http(s) URL", rawURL)
		return p
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	p.addr = net.JoinHostPort(u.Hostname(), port)
	if u.Scheme == "https" {
		// The question is whether nginx answers, not whether its
		// certificate names 127.0.0.1.
		p.tls = &tls.Config{InsecureSkipVerify: true, ServerName: u.Hostname()}
	}
	p.req = fmt.Appendf(nil, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: vipd-guard\r\nAccept: */*\r\nConnection: close\r\n\r\n",
		u.RequestURI(), u.Host)
	return p
}

// errNoAnswer is the cause of a probe that ran out of time.
var errNoAnswer = errors.New("no answer")

// probeBody is how much of the body a probe reads: the status line is the
// answer; some body is read only so that a stall mid-answer counts against
// the deadline too.
const probeBody = 4 << 10

// Probe implements Prober.
func (p *HTTPProbe) Probe(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	start := time.Now()
	fail := func(what string, err error) error {
		return fmt.Errorf("GET %s: %s%w", p.url, what, httpCause(ctx, err, time.Since(start)))
	}
	// A kept-alive connection would bypass accept(): an nginx out of
	// worker connections, which refuses every new client, would pass.
	c, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return fail("", err)
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if p.tls != nil {
		c = tls.Client(c, p.tls)
	}
	if _, err := c.Write(p.req); err != nil {
		return fail("", err)
	}
	br := bufio.NewReaderSize(c, 1024)
	status, err := readHead(br)
	if err != nil {
		return fail("", err)
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(br, probeBody)); err != nil {
		return fail("reading the body: ", err)
	}
	if code, _ := strconv.Atoi(status[:3]); code > p.maxStatus {
		return fmt.Errorf("GET %s: status %s", p.url, status)
	}
	return nil
}

// maxHead bounds an answer's status line and headers.
const maxHead = 64 << 10

// readHead reads an HTTP/1.x response's status line and headers and returns
// the status ("404 Not Found").
func readHead(br *bufio.Reader) (string, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return "", err
	}
	// "HTTP/1.1 404 Not Found\r\n"
	proto, status, _ := strings.Cut(strings.TrimRight(string(line), "\r\n"), " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(status) < 3 || strings.Trim(status[:3], "0123456789") != "" {
		return "", fmt.Errorf("not an HTTP/1.x answer: %q", truncate(string(line), 40))
	}
	for n, long := 0, false; n < maxHead; {
		h, err := br.ReadSlice('\n')
		n += len(h)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			long = true // the rest of a long header line follows
		case err != nil:
			return "", fmt.Errorf("headers: %w", err)
		case !long && (string(h) == "\r\n" || string(h) == "\n"):
			return status, nil
		default:
			long = false
		}
	}
	return "", fmt.Errorf("headers longer than %d bytes", maxHead)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// httpCause shortens net/http's errors to what an operator needs:
// "connect: connection refused", "no answer after 150ms".
func httpCause(ctx context.Context, err error, took time.Duration) error {
	// The connection's deadline is the context's: it may fire first.
	if ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w after %v", errNoAnswer, took.Round(time.Millisecond))
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) && ue.Unwrap() != nil {
		return ue.Unwrap()
	}
	return err
}

// Exec runs commands as child processes, each in a process group of its
// own, and SIGKILLs that whole group when the context is done: a script that
// forked helpers leaves none behind (Isolate; on Unix).
//
// Command.User is honoured only when we are root and the user exists;
// otherwise the command runs as we do (keepalived's script_user semantics
// are the daemon's to enforce, not the runner's).
//
// Output goes to an unlinked temporary file rather than a pipe, so a daemon
// the command leaves behind (nginx forks one) cannot hold up Run; the last
// line is added to the error.
type Exec struct{}

// Run implements Runner.
func (Exec) Run(ctx context.Context, c Command) error {
	if len(c.Argv) == 0 {
		return errors.New("empty command")
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	if err := Isolate(cmd, c.User); err != nil {
		return err
	}
	out, err := os.CreateTemp("", "vipd-guard-*")
	if err != nil {
		return fmt.Errorf("failed to make a file for the output of %s: %w", c.Argv[0], err)
	}
	os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out

	err = cmd.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("killed: %w", ctx.Err())
	}
	if line := lastLine(out); line != "" {
		return fmt.Errorf("%w: %s", err, line)
	}
	return err
}

// lastLine returns the last non-empty line in f's last 512 bytes, cut to
// 200 bytes: where programs put the error that made them fail.
func lastLine(f *os.File) string {
	const window = 512
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return ""
	}
	buf := make([]byte, min(end, window))
	if _, err := f.ReadAt(buf, end-int64(len(buf))); err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(buf)), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	if len(line) > 200 {
		line = line[:200] + "..."
	}
	return line
}
