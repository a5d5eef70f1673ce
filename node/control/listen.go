package control

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ListenUnix listens on the unix socket path for Serve. The socket is mode
// 0600, so only root (vipd's user) may connect; it is bound under a private
// name and renamed into place, so it is never reachable with looser
// permissions, whatever the umask. A missing parent directory is created
// with mode 0755. A socket file left by a vipd that died (or is dying) is
// removed, but only if no vipd answers on it: a running vipd is an error,
// and so is a file that is not a socket. Closing the listener removes the socket file.
func ListenUnix(path string) (net.Listener, error) {
	dir := filepath.Dir(path)
	if err := ensureDir(dir); err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(dir, ".vipd") // 0700: nobody else can reach it
	if err != nil {
		return nil, fmt.Errorf("failed to create control socket %s: %w", path, err)
	}
	defer os.RemoveAll(tmp)
	tpath := filepath.Join(tmp, "s")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tpath, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("failed to listen on control socket %s: %w", path, err)
	}
	ln.SetUnlinkOnClose(false) // its name changes; Close removes path instead
	if err := os.Chmod(tpath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to restrict control socket %s: %w", path, err)
	}
	if err := os.Rename(tpath, path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to create control socket %s: %w", path, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to create control socket %s: %w", path, err)
	}
	return &unixListener{UnixListener: ln, path: path, fi: fi}, nil
}

// ensureDir creates dir and any missing parent with mode 0755, whatever
// the umask: they must be searchable for the socket to be reachable at all.
// Existing directories are left as they are.
func ensureDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("failed to create control socket: %s is not a directory", dir)
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("failed to create control socket directory %s: %w", dir, err)
	}
	if err := ensureDir(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("failed to create control socket directory %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fmt.Errorf("failed to create control socket directory %s: %w", dir, err)
	}
	return nil
}

// staleWait bounds how long removeStale waits for a socket that accepts
// but does not answer: a vipd that was SIGKILLed keeps its listener for a
// few milliseconds while the kernel tears it down (about 6 ms here), and a
// restart at once must not be refused for it.
const staleWait = 2 * time.Second

// removeStale removes a socket file at path that nobody listens on, or
// whose listener accepts but never answers a status request within
// staleWait (a dying vipd). A vipd that answers is an error.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to check control socket %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("failed to create control socket: %s exists and is not a socket; not removing it", path)
	}
	deadline := time.Now().Add(staleWait)
	for {
		live, err := answers(path, time.Until(deadline))
		if live {
			return fmt.Errorf("failed to create control socket: %s is in use (is vipd already running?)", path)
		}
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
			break // nobody listens
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("failed to create control socket: %s is in use (is vipd already running? it accepts connections but did not answer for %v)", path, staleWait)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to remove stale control socket %s: %w", path, err)
	}
	return nil
}

// answers reports whether a vipd answers a status request on path within
// d; err says why not.
func answers(path string, d time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), max(d, 10*time.Millisecond))
	defer cancel()
	c, err := Dial(ctx, path)
	if err != nil {
		return false, err
	}
	defer c.Close()
	_, err = c.Status(ctx)
	return err == nil, err
}

// unixListener reports and removes the socket's final name.
type unixListener struct {
	*net.UnixListener
	path string
	fi   fs.FileInfo
	once sync.Once
}

func (l *unixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: "unix"} }

func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	l.once.Do(func() {
		// Only our own socket: a successor may have replaced it.
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.fi) {
			os.Remove(l.path)
		}
	})
	return err
}
