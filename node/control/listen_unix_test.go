//go:build unix

package control

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestListenUnixPermissions(t *testing.T) {
	// A restrictive umask must not leave the directory unsearchable, and a
	// permissive one must not open the socket for a moment.
	for _, umask := range []int{0o077, 0o000} {
		old := syscall.Umask(umask)
		path := filepath.Join(shortDir(t), "run", "vipd", "control.sock")
		ln, err := ListenUnix(path)
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
			t.Errorf("umask %03o: socket mode %v; want a socket, 0600", umask, fi.Mode())
		}
		for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
			if di, err := os.Stat(dir); err != nil || di.Mode().Perm() != 0o755 {
				t.Errorf("umask %03o: created directory %s has mode %v; want 0755", umask, dir, di.Mode())
			}
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Errorf("umask %03o: directory holds %d entries; want just the socket", umask, len(entries))
		}
		if got := ln.Addr().String(); got != path {
			t.Errorf("Addr = %q; want %q", got, path)
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("failed to connect to the new socket: %v", err)
		}
		c.Close()
		ln.Close()
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket file still there after Close: %v", err)
		}
	}
}
