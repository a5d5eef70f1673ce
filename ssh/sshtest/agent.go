package sshtest

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh/agent"
)

// NewAgent serves an in-process ssh-agent holding keys (ed25519.PrivateKey,
// *ecdsa.PrivateKey, *rsa.PrivateKey) on a unix socket, and returns the
// socket's path, for SSH_AUTH_SOCK or Config.AgentSocket. tb's cleanup stops
// it.
func NewAgent(tb testing.TB, keys ...any) string {
	tb.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			tb.Fatalf("sshtest: failed to add a key to the agent: %v", err)
		}
	}
	// Not tb.TempDir: its long name may not fit a socket path (108 bytes).
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		tb.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		tb.Fatalf("sshtest: failed to listen for the agent: %v", err)
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = agent.ServeAgent(kr, c)
				c.Close()
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return sock
}
