package node

import (
	"runtime"
	"testing"
	"time"
)

// WatchLinks must stop when asked: a hang here kept vipd from exiting.
func TestWatchLinksStops(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("link notices need Linux")
	}
	stop, err := OS{}.WatchLinks(func() {})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("stop did not return within 2s")
	}
}
