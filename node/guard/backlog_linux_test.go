//go:build linux

package guard

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestListenQueue reads a loopback listener's accept queue as clients
// arrive, and finds none once it is closed.
func TestListenQueue(t *testing.T) {
	for _, network := range []string{"tcp4", "tcp6"} {
		t.Run(network, func(t *testing.T) {
			addr := map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network]
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", network, err)
			}
			q := NewListenQueue(l.Addr().(*net.TCPAddr).AddrPort())
			defer q.Close()
			ctx := context.Background()
			if n, err := q.Queued(ctx); n != 0 || err != nil {
				t.Fatalf("Queued = %d, %v; want 0, nil", n, err)
			}
			for i := 1; i <= 3; i++ {
				c, err := net.DialTimeout(network, l.Addr().String(), time.Second)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				// The handshake completes in the kernel: the queue
				// grows with no accept.
				if n, err := q.Queued(ctx); n != i || err != nil {
					t.Fatalf("after %d clients Queued = %d, %v; want %d, nil", i, n, err, i)
				}
			}
			l.Close()
			if _, err := q.Queued(ctx); !errors.Is(err, ErrNoListener) {
				t.Fatalf("closed listener: Queued = %v, want ErrNoListener", err)
			}
		})
	}
	// Every address's listener (nginx's `listen 80`) is found from 127.0.0.1.
	l, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	q := NewListenQueue(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port))
	defer q.Close()
	if n, err := q.Queued(context.Background()); n != 0 || err != nil {
		t.Errorf("0.0.0.0 listener from 127.0.0.1: Queued = %d, %v; want 0, nil", n, err)
	}
}

func TestListenAddr(t *testing.T) {
	tests := []struct {
		url  string
		want string // "" for none
	}{
		{"http://127.0.0.1/", "127.0.0.1:80"},
		{"https://127.0.0.1/health", "127.0.0.1:443"},
		{"http://localhost:8080/", "127.0.0.1:8080"},
		{"http://[::1]:81/", "[::1]:81"},
		{"http://[fe80::1%25eth0]/", ""},
		{"http://nginx.example/", ""},
	}
	for _, tt := range tests {
		a, ok := listenAddr(tt.url)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want {
			t.Errorf("listenAddr(%q) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
