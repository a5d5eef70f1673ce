package control

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
		if err == nil || !strings.Contains(err.Error(), "is in use") {
			t.Fatalf("ListenUnix over a live socket = %v; want in use", err)
		}
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatalf("the live socket was disturbed: %v", err)
		}
		c.Close()
	})
	t.Run("a dying vipd's socket is replaced at once", func(t *testing.T) {
		// SIGKILLed: its listener still accepts for a few milliseconds,
		// and what it accepted is reset when the kernel closes it.
		path := filepath.Join(shortDir(t), "s")
		old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		old.SetUnlinkOnClose(false)
		timer := time.AfterFunc(50*time.Millisecond, func() { old.Close() })
		defer timer.Stop()
		start := time.Now()
		ln, err := ListenUnix(path)
		if err != nil {
			t.Fatalf("ListenUnix over a dying socket: %v", err)
		}
		defer ln.Close()
		if took := time.Since(start); took > time.Second {
			t.Errorf("took %v to replace a socket that died after 50ms", took)
		}
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
