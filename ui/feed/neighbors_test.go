package feed

import (
	"errors"
	"net/netip"
	"runtime"
	"testing"
)

// The console host's own table reads (nothing is sent); an address
// nobody talks to has no entry.
func TestNeighborTable(t *testing.T) {
	tab, err := NeighborTable{}.Lookup([]netip.Addr{netip.MustParseAddr("198.51.100.254")})
	if runtime.GOOS != "linux" {
		if !errors.Is(err, ErrNoNeighbors) || SystemNeighbors() != nil {
			t.Errorf("Lookup: %v, %v; SystemNeighbors %v", tab, err, SystemNeighbors())
		}
		return
	}
	if err != nil || len(tab) != 0 || SystemNeighbors() == nil {
		t.Errorf("Lookup: %v, %v", tab, err)
	}
}
