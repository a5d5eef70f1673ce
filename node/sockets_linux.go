//go:build linux

package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// DropSockets implements SocketDropper with sock_diag: one dump of the TCP
// sockets whose local address is addr, IPv4 or IPv6 (filtered in the kernel, so a busy
// host costs no more than an idle one), then SOCK_DESTROY for each. Listening
// sockets are kept: nginx may listen on the VIP itself.
func (OS) DropSockets(addr netip.Addr) (int, error) {
	addr = addr.Unmap().WithZone("")
	return dropSockets(familyOf(addr), localFilter(addr), func(netip.Addr) bool { return true })
}

// DropSocketsOf implements BatchDropper: one dump per family for all of
// addrs. A dump walks the kernel's whole TCP hash table whatever its
// filter (about 3 ms of CPU here), so 1,000 VIPs dropped one by one cost
// seconds.
func (OS) DropSocketsOf(addrs []netip.Addr) (int, error) {
	byFam := map[uint8]map[netip.Addr]bool{}
	for _, a := range addrs {
		a = a.Unmap().WithZone("")
		f := familyOf(a)
		if byFam[f] == nil {
			byFam[f] = map[netip.Addr]bool{}
		}
		byFam[f][a] = true
	}
	total := 0
	var errs []error
	for f, set := range byFam {
		n, err := dropSockets(f, nil, func(a netip.Addr) bool { return set[a] })
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return total, errors.Join(errs...)
}

func familyOf(a netip.Addr) uint8 {
	if a.Is6() {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// dropSockets dumps the TCP sockets of family (filter: a bytecode
// attribute, or none) and destroys those whose local address match says.
func dropSockets(family uint8, filter []byte, match func(netip.Addr) bool) (int, error) {
	c, err := netlink.Dial(unix.NETLINK_SOCK_DIAG, nil)
	if err != nil {
		return 0, fmt.Errorf("failed to open sock_diag: %w", err)
	}
	defer c.Close()
	msgs, err := c.Execute(netlink.Message{
		Header: netlink.Header{Type: sockDiagByFamily, Flags: netlink.Request | netlink.Dump},
		Data:   append(diagReq(family, connStates, nil), filter...),
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list the TCP sockets: %w", err)
	}
	n := 0
	var errs []error
	for _, m := range msgs {
		state, id, ok := parseDiagMsg(m.Data, family)
		if !ok || !match(diagLocal(id, family)) {
			continue
		}
		_, err := c.Execute(netlink.Message{
			Header: netlink.Header{Type: sockDestroy, Flags: netlink.Request | netlink.Acknowledge},
			Data:   diagReq(family, 1<<state, id),
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, unix.ENOENT): // closed meanwhile
		default:
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("failed to drop %d of the sockets: %w", len(errs), errs[0])
	}
	return n, nil
}

// diagLocal returns the local address of a struct inet_diag_sockid:
// sport, dport (2 bytes each), then src and dst, 16 bytes each.
func diagLocal(id []byte, family uint8) netip.Addr {
	if family == unix.AF_INET {
		return netip.AddrFrom4([4]byte(id[4:8]))
	}
	return netip.AddrFrom16([16]byte(id[4:20]))
}

// sock_diag's message types and layouts (linux/sock_diag.h, inet_diag.h).
const (
	sockDiagByFamily = 20
	sockDestroy      = 21

	diagSockIDLen = 48 // struct inet_diag_sockid
	diagMsgLen    = 72 // struct inet_diag_msg

	attrBytecode = 1 // INET_DIAG_REQ_BYTECODE
	bcSCond      = 7 // INET_DIAG_BC_S_COND: the local address matches

	tcpListen = 10
)

// connStates are every TCP state but LISTEN (and CLOSE, which has no peer).
const connStates = 0xfff &^ (1<<tcpListen | 1<<7)

// diagReq is a struct inet_diag_req_v2 for TCP over family, with id (a
// struct inet_diag_sockid, as a dump returned it) or zeros.
func diagReq(family uint8, states uint32, id []byte) []byte {
	b := make([]byte, 8+diagSockIDLen)
	b[0], b[1] = family, unix.IPPROTO_TCP
	binary.NativeEndian.PutUint32(b[4:], states)
	copy(b[8:], id)
	return b
}

// localFilter is the bytecode attribute "local address is addr, any port":
// one S_COND op, whose yes jumps to the end (accept) and whose no jumps
// past it (reject), as ss encodes it.
func localFilter(addr netip.Addr) []byte {
	const opLen, condLen = 4, 8
	alen := addr.BitLen() / 8
	bcLen := opLen + condLen + alen
	b := make([]byte, 4+bcLen)
	binary.NativeEndian.PutUint16(b[0:], uint16(4+bcLen)) // nlattr
	binary.NativeEndian.PutUint16(b[2:], attrBytecode)
	op := b[4:]
	op[0], op[1] = bcSCond, byte(bcLen)
	binary.NativeEndian.PutUint16(op[2:], uint16(bcLen+4))
	cond := op[opLen:]
	cond[0], cond[1] = unix.AF_INET, 32 // family, prefix length
	if addr.Is6() {
		cond[0], cond[1] = unix.AF_INET6, 128
	}
	binary.NativeEndian.PutUint32(cond[4:], ^uint32(0)) // port -1: any
	copy(cond[condLen:], addr.AsSlice())
	return b
}

// parseDiagMsg returns a struct inet_diag_msg's state and socket id.
func parseDiagMsg(b []byte, family uint8) (state uint8, id []byte, ok bool) {
	if len(b) < diagMsgLen || b[0] != family {
		return 0, nil, false
	}
	return b[1], b[4 : 4+diagSockIDLen], true
}
