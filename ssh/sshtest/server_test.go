package sshtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestLoopbackOnly(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1":     true,
		"127.1.2.3":     true,
		"::1":           true,
		"localhost":     true,
		"198.51.100.11": false,
		"example.com":   false,
		"":              false,
	} {
		if got := LoopbackOnly(host, 22); got != want {
			t.Errorf("LoopbackOnly(%q) = %v, want %v", host, got, want)
		}
	}
}

func dial(t *testing.T, s *Server, user string, signer ssh.Signer) (*ssh.Client, error) {
	t.Helper()
	return ssh.Dial("tcp", s.Addr(), &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey()),
		Timeout:         5 * time.Second,
	})
}

func TestServer(t *testing.T) {
	client, err := NewSigner()
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(t, Options{
		User:           "ops",
		AuthorizedKeys: []ssh.PublicKey{client.PublicKey()},
		Handler: func(_ context.Context, cmd string, stdout, stderr io.Writer, stdin io.Reader) int {
			in, _ := io.ReadAll(stdin)
			io.WriteString(stdout, cmd+":"+string(in))
			io.WriteString(stderr, "warn")
			return 7
		},
	})

	t.Run("wrong user", func(t *testing.T) {
		if c, err := dial(t, s, "root", client); err == nil {
			c.Close()
			t.Fatal("login as root succeeded")
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		other, _ := NewSigner()
		if c, err := dial(t, s, "ops", other); err == nil {
			c.Close()
			t.Fatal("login with an unknown key succeeded")
		}
	})

	c, err := dial(t, s, "ops", client)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	t.Run("exec", func(t *testing.T) {
		sess, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		var out, errOut strings.Builder
		sess.Stdout, sess.Stderr, sess.Stdin = &out, &errOut, strings.NewReader("in")
		err = sess.Run("cmd")
		var exit *ssh.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 7 || out.String() != "cmd:in" || errOut.String() != "warn" {
			t.Fatalf("Run = %v, stdout %q, stderr %q", err, out.String(), errOut.String())
		}
	})
	t.Run("keepalive answered", func(t *testing.T) {
		if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no forwarding by default", func(t *testing.T) {
		if fc, err := c.Dial("tcp", s.Addr()); err == nil {
			fc.Close()
			t.Fatal("direct-tcpip served without Forward")
		}
	})
	if s.Logins() != 1 {
		t.Errorf("Logins() = %d, want 1", s.Logins())
	}
}

func TestForward(t *testing.T) {
	j := NewServer(t, Options{Forward: LoopbackOnly})
	target := NewServer(t, Options{})
	signer, _ := NewSigner()
	c, err := dial(t, j, "any", signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	// Refused before any packet leaves loopback.
	if fc, err := c.Dial("tcp", "198.51.100.11:22"); err == nil {
		fc.Close()
		t.Fatal("forwarded outside loopback")
	}
	fc, err := c.Dial("tcp", target.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	fc.SetDeadline(time.Now().Add(5 * time.Second))
	banner := make([]byte, 8)
	if _, err := io.ReadFull(fc, banner); err != nil || string(banner) != "SSH-2.0-" {
		t.Fatalf("read %q, %v through the jump; want an SSH banner", banner, err)
	}
	if j.Forwards() != 1 {
		t.Errorf("Forwards() = %d, want 1", j.Forwards())
	}
}

func TestStall(t *testing.T) {
	s := NewServer(t, Options{})
	signer, _ := NewSigner()
	c, err := dial(t, s, "any", signer)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	s.Stall()
	replied := make(chan error, 1)
	go func() {
		_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
		replied <- err
	}()
	select {
	case err := <-replied:
		t.Fatalf("stalled server answered: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	s.Resume()
	select {
	case err := <-replied:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer after Resume")
	}
}

func TestAgent(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sock := NewAgent(t, priv)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	keys, err := agent.NewClient(conn).List()
	if err != nil || len(keys) != 1 {
		t.Fatalf("List = %v, %v; want one key", keys, err)
	}
}
