package vrrp

// A KernelDropper is a Conn that knows how many packets the kernel dropped
// before they could be read (a full socket receive buffer): IPConn, from
// SO_RXQ_OVFL, and the Conns of a Mux over one.
type KernelDropper interface {
	KernelDrops() uint64
}

// KernelDrops returns how many packets the kernel dropped from the shared
// Conn's receive buffer, as far as the last packet read tells (0 when the
// Conn is not a KernelDropper).
func (m *Mux) KernelDrops() uint64 {
	if kd, ok := m.conn.(KernelDropper); ok {
		return kd.KernelDrops()
	}
	return 0
}

// KernelDrops returns the shared socket's: every instance on it sees the
// same figure.
func (c *muxConn) KernelDrops() uint64 { return c.m.KernelDrops() }
