package console_test

import (
	"bytes"
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/vipkit/vip/node/demopair"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// syncBuffer is the console's terminal.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The interactive console draws the demo pair and ends on "q", stopping
// its feeds.
func TestRunQuits(t *testing.T) {
	p, err := demopair.New(demopair.Options{}) // a test may import the daemon, ui's code never
	if err != nil {
		t.Fatal(err)
	}
	d, err := demo.New(p, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in, keys := io.Pipe()
	defer keys.Close()
	var out syncBuffer
	con := d.Console(console.Options{Width: 100, Height: 30})
	go func() {
		// Type q once the master is on the screen.
		for ctx.Err() == nil && !bytes.Contains([]byte(out.String()), []byte("held by nginx-0")) {
			time.Sleep(20 * time.Millisecond)
		}
		keys.Write([]byte("q"))
	}()
	start := time.Now()
	err = d.RunWith(ctx, func(ctx context.Context) error { return con.Run(ctx, in, &out) })
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the console did not quit on q; it drew:\n%q", out.String())
	}
	t.Logf("drew the master and quit after %v", time.Since(start).Round(time.Millisecond))
}
