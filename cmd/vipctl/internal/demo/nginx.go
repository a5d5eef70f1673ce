package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// fakeNginx stands in for a node's nginx: an HTTP server on a fixed port of
// 127.0.0.1 answering "ok NAME", which can be stopped, and started again by
// a line written to its FIFO (the guard's start_command).
type fakeNginx struct {
	name string
	addr string // 127.0.0.1:port, kept across restarts
	fifo string
	log  *slog.Logger

	mu      sync.Mutex
	srv     *http.Server // nil while stopped
	ln      net.Listener // opened by newFakeNginx, served by Run
	broken  bool         // starts fail
	running bool         // Run is serving: Start may serve
	wg      sync.WaitGroup
}

func newFakeNginx(name, fifo string, log *slog.Logger) (*fakeNginx, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("failed to listen for %s's nginx: %w", name, err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to make %s's start FIFO: %w", name, err)
	}
	return &fakeNginx{name: name, addr: ln.Addr().String(), fifo: fifo, ln: ln, log: log.With("nginx", name)}, nil
}

func (f *fakeNginx) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "ok "+f.name+"\n")
}

// Run serves until ctx is done, and starts the server again whenever a
// line arrives on the FIFO.
func (f *fakeNginx) Run(ctx context.Context) error {
	fifo, err := os.OpenFile(f.fifo, os.O_RDWR, 0) // RDWR: never at EOF, never blocks the writer
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", f.fifo, err)
	}
	f.mu.Lock()
	f.running = true
	ln := f.ln
	f.ln = nil
	f.serve(ln)
	f.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(fifo)
		for sc.Scan() && ctx.Err() == nil {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			if err := f.Start(false); err != nil {
				f.log.Info("start command ran, nginx does not start", "err", err)
			}
		}
	}()
	<-ctx.Done()
	fifo.Write([]byte("\n")) // wakes the reader where a FIFO cannot be polled
	fifo.Close()
	<-done
	f.mu.Lock()
	f.running = false
	f.mu.Unlock()
	f.Stop()
	f.wg.Wait()
	return nil
}

// serve serves ln. f.mu is held.
func (f *fakeNginx) serve(ln net.Listener) {
	srv := &http.Server{Handler: f, ReadHeaderTimeout: time.Second, ErrorLog: slog.NewLogLogger(f.log.Handler(), slog.LevelDebug)}
	f.srv = srv
	f.wg.Go(func() { _ = srv.Serve(ln) })
}

// Stop stops the server, as a crashed nginx: connections are refused.
func (f *fakeNginx) Stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.srv.Close()
		f.srv = nil
		f.log.Info("stopped")
	}
}

// Start starts the server if it is stopped; fix clears a Break first.
func (f *fakeNginx) Start(fix bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fix {
		f.broken = false
	}
	switch {
	case !f.running:
		return errors.New("the demo is stopping")
	case f.broken:
		return errors.New("nginx: [emerg] broken by `demo nginx break`")
	case f.srv != nil:
		return nil
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("nginx: [emerg] bind() to %s failed: %w", f.addr, err)
	}
	f.serve(ln)
	f.log.Info("started")
	return nil
}

// Break stops the server and makes starts fail until Start(true).
func (f *fakeNginx) Break() {
	f.mu.Lock()
	f.broken = true
	f.mu.Unlock()
	f.Stop()
}

// Up reports whether the server runs.
func (f *fakeNginx) Up() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.srv != nil
}

// closeUnused closes the listener of a fake that never ran.
func (f *fakeNginx) closeUnused() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
}
