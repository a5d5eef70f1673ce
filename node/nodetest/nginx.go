package nodetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/guard"
)

// firstPID is the stand-in's first master pid; each start takes the next.
const firstPID = 4000

// Nginx stands in for a node's nginx (see the package documentation). It
// starts running, without a listener. All methods are safe for concurrent
// use.
type Nginx struct {
	name    string
	pidFile string
	log     *slog.Logger

	mu      sync.Mutex
	pid     int    // the running master's; 0 while stopped
	lastPID int    // the last master's
	broken  string // why starts fail; "" when they work
	watches map[*pidWatch]struct{}

	// The HTTP face, after Listen.
	addr    string       // 127.0.0.1:port, kept across restarts
	ln      net.Listener // opened by Listen, served by Run
	srv     *http.Server // nil while stopped or before Run
	serving bool         // Run is serving: Start may listen again
	wg      sync.WaitGroup
}

// NewNginx returns a running stand-in called name (it answers "ok NAME")
// whose master's pid file would be pidFile. log may be nil.
func NewNginx(name, pidFile string, log *slog.Logger) *Nginx {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Nginx{name: name, pidFile: pidFile, log: log.With("nginx", name), pid: firstPID, lastPID: firstPID,
		watches: map[*pidWatch]struct{}{}}
}

// PIDFile is where its master's pid file would be.
func (n *Nginx) PIDFile() string { return n.pidFile }

// Listen opens its HTTP listener on addr ("127.0.0.1:0"); Run serves it.
func (n *Nginx) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("failed to listen for %s's nginx: %w", n.name, err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ln, n.addr = ln, ln.Addr().String()
	return nil
}

// Addr is its HTTP address, "" without Listen.
func (n *Nginx) Addr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// URL is the URL of its HTTP face, "" without Listen.
func (n *Nginx) URL() string {
	if a := n.Addr(); a != "" {
		return "http://" + a + "/"
	}
	return ""
}

// Run serves HTTP while it runs (stopped: connections are refused), until
// ctx is done; then it closes the listener and returns nil. Without
// Listen it only waits.
func (n *Nginx) Run(ctx context.Context) error {
	n.mu.Lock()
	n.serving = true
	if n.ln != nil && n.pid != 0 {
		n.serve(n.ln)
	} else if n.ln != nil {
		n.ln.Close()
	}
	n.ln = nil
	n.mu.Unlock()
	<-ctx.Done()
	n.mu.Lock()
	n.serving = false
	n.closeServer()
	n.mu.Unlock()
	n.wg.Wait()
	return nil
}

// Close closes the listener of a stand-in that never ran.
func (n *Nginx) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ln != nil {
		n.ln.Close()
		n.ln = nil
	}
	return nil
}

func (n *Nginx) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-Served-By", n.name) // as the README's nginx line
	io.WriteString(w, "ok "+n.name+"\n")
}

// serve serves ln. n.mu is held.
func (n *Nginx) serve(ln net.Listener) {
	srv := &http.Server{Handler: n, ReadHeaderTimeout: time.Second, ErrorLog: slog.NewLogLogger(n.log.Handler(), slog.LevelDebug)}
	n.srv = srv
	n.wg.Go(func() { _ = srv.Serve(ln) })
}

// closeServer stops serving. n.mu is held.
func (n *Nginx) closeServer() {
	if n.srv != nil {
		n.srv.Close()
		n.srv = nil
	}
}

// Stop stops it as `systemctl stop nginx` does: the master exits (its
// watchers hear of it at once), the pid file goes, connections are
// refused. A stopped stand-in stays stopped.
func (n *Nginx) Stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pid == 0 {
		return
	}
	dead := n.pid
	n.pid = 0
	n.closeServer()
	for w := range n.watches {
		if w.pid == dead {
			w.pid = 0
			select {
			case w.exited <- struct{}{}:

			default: // one pending wake-up is enough
			}
		}
	}
	n.log.Info("stopped", "pid", dead)
}

// Break stops it and makes every start fail, saying why, until Repair.
func (n *Nginx) Break(why string) {
	n.mu.Lock()
	n.broken = why
	n.mu.Unlock()
	n.Stop()
}

// Repair undoes Break and starts it.
func (n *Nginx) Repair() error {
	n.mu.Lock()
	n.broken = ""
	n.mu.Unlock()
	return n.Start()
}

// Start starts it if it is stopped, as its start command does: it fails
// while it is broken, or while its HTTP face cannot listen.
func (n *Nginx) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.broken != "":
		return errors.New("nginx: [emerg] " + n.broken)
	case n.pid != 0:
		return nil
	}
	if n.addr != "" {
		if !n.serving {
			return errors.New("nginx: [emerg] the node is shutting down")
		}
		ln, err := net.Listen("tcp", n.addr)
		if err != nil {
			return fmt.Errorf("nginx: [emerg] bind() to %s failed: %w", n.addr, err)
		}
		n.serve(ln)
	}
	n.lastPID++
	n.pid = n.lastPID
	n.log.Info("started", "pid", n.pid)
	return nil
}

// Up reports whether it runs.
func (n *Nginx) Up() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pid != 0
}

// Guard returns what vipd's guard of check uses in place of the real
// nginx: a watch of the master named by check's pid file (only the
// stand-in's own path names it), a probe of check's URL (the real GET when
// the stand-in listens there, else the stand-in asked in memory), and a
// start command that starts it. The first two are nil when check has no
// pidfile or no url, as for a real nginx.
func (n *Nginx) Guard(check config.NginxCheck) (guard.ProcessChecker, guard.Prober, guard.Runner) {
	var (
		proc  guard.ProcessChecker
		probe guard.Prober
	)
	if check.PIDFile != "" {
		w := &pidWatch{n: n, path: check.PIDFile, exited: make(chan struct{}, 1)}
		n.mu.Lock()
		n.watches[w] = struct{}{}
		n.mu.Unlock()
		proc = w
	}
	if check.URL != "" && check.URL != n.URL() {
		probe = memProbe{n: n, url: check.URL}
	}
	return proc, probe, starter{n}
}

// pidWatch is a guard.ExitWatcher of the stand-in's master, as
// guard.PIDWatch is of a real one.
type pidWatch struct {
	n      *Nginx
	path   string
	pid    int // armed on this master (n.mu); 0: none
	exited chan struct{}
}

var _ guard.ExitWatcher = (*pidWatch)(nil)

// Check implements guard.ProcessChecker, with guard.PIDFile's words.
func (w *pidWatch) Check(context.Context) error {
	n := w.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if w.path != n.pidFile || n.pid == 0 {
		return fmt.Errorf("no pid file %s", w.path)
	}
	w.pid = n.pid
	return nil
}

// Exited implements guard.ExitWatcher.
func (w *pidWatch) Exited() <-chan struct{} { return w.exited }

// Close implements guard.ExitWatcher.
func (w *pidWatch) Close() error {
	w.n.mu.Lock()
	defer w.n.mu.Unlock()
	delete(w.n.watches, w)
	return nil
}

// memProbe is the guard's GET answered by the stand-in in memory.
type memProbe struct {
	n   *Nginx
	url string
}

// Probe implements guard.Prober, with guard.HTTPProbe's words.
func (p memProbe) Probe(context.Context) error {
	if !p.n.Up() {
		return fmt.Errorf("GET %s: connect: connection refused", p.url)
	}
	return nil
}

// starter is the start command.
type starter struct{ n *Nginx }

// Run implements guard.Runner: whatever the command, it starts the
// stand-in, failing as the command would (exit status 1).
func (s starter) Run(_ context.Context, c guard.Command) error {
	if err := s.n.Start(); err != nil {
		s.n.log.Info("start command failed", "command", strings.Join(c.Argv, " "), "err", err)
		return fmt.Errorf("exit status 1: %w", err)
	}
	return nil
}
