package guard

import (
	"context"
	"errors"
	"net/netip"
)

// Backlog tells how many clients wait for nginx without asking nginx
// anything: the connections the kernel has accepted on nginx's listening
// socket that nginx has not taken yet. A healthy nginx takes each within
// microseconds; a hung one leaves every new client there, so a queue that is
// not empty asks for a GET, and an empty one lets the guard skip it.
type Backlog interface {
	// Queued returns the length of the accept queue of the socket that
	// would take a connection to the watched address, and ErrNoListener
	// when no socket listens there (nginx stopped, or the URL is not
	// local): the guard then asks with a GET.
	Queued(ctx context.Context) (int, error)
}

// ErrNoListener is Backlog's answer when nothing listens at the address.
var ErrNoListener = errors.New("no listening socket")

// ListenQueue is a Backlog that asks the kernel (sock_diag, Linux) for the
// listening TCP socket a connection to Addr would reach, in the caller's
// network namespace: one netlink request and answer, a hash lookup in the
// kernel, no walk of the socket tables. nginx's `listen 80` (every address)
// is found from any local Addr. Close releases its netlink socket.
type ListenQueue struct {
	Addr netip.AddrPort
	s    *diagSocket // opened on first use
}

var _ Backlog = (*ListenQueue)(nil)

// NewListenQueue watches the listener at addr.
func NewListenQueue(addr netip.AddrPort) *ListenQueue { return &ListenQueue{Addr: addr} }
