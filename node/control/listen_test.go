package control

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// An existing directory keeps its mode.
func TestListenUnixExistingDir(t *testing.T) {
	dir := shortDir(t)
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	ln, err := ListenUnix(filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o711 {
		t.Errorf("existing directory's mode changed to %v", fi.Mode())
	}
}

func TestListenUnixStale(t *testing.T) {
	t.Run("stale socket is replaced", func(t *testing.T) {
		path := filepath.Join(shortDir(t), "s")
		old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		old.SetUnlinkOnClose(false)
		old.Close() // a vipd that died: the file stays, nobody listens
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatalf("ListenUnix over a stale socket: %v", err)
		}
		defer ln.Close()
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	t.Run("live socket is kept", func(t *testing.T) {
		path := filepath.Join(shortDir(t), "s")
		live, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		defer live.Close()
		_, err = ListenUnix(path)
		if err == nil || !strings.Contains(err.Error(), "is in use (is vipd already running?)") {
			t.Fatalf("ListenUnix over a live socket = %v; want in use", err)
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("the live socket was disturbed: %v", err)
		}
		c.Close()
	})
	t.Run("not a socket is kept", func(t *testing.T) {
		path := filepath.Join(shortDir(t), "s")
		if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ListenUnix(path)
		if err == nil || !strings.Contains(err.Error(), "exists and is not a socket") {
			t.Fatalf("ListenUnix over a file = %v; want a refusal", err)
		}
		if b, _ := os.ReadFile(path); string(b) != "precious" {
			t.Fatalf("the file was touched")
		}
	})
	t.Run("parent is a file", func(t *testing.T) {
		file := filepath.Join(shortDir(t), "f")
		os.WriteFile(file, nil, 0o644)
		if _, err := ListenUnix(filepath.Join(file, "s")); err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Fatalf("ListenUnix under a file = %v; want a refusal", err)
		}
	})
	t.Run("close leaves a successor alone", func(t *testing.T) {
		path := filepath.Join(shortDir(t), "s")
		first, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(path) // as if replaced by a successor
		second, err := ListenUnix(path)
		if err != nil {
			t.Fatal(err)
		}
		defer second.Close()
		first.Close()
		if _, err := os.Lstat(path); err != nil {
			t.Fatalf("closing the old listener removed the new socket: %v", err)
		}
	})
}
