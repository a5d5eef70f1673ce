//go:build linux

package guard

import (
	"context"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// sock_diag's wire (linux/sock_diag.h, linux/inet_diag.h), which x/sys does
// not define.
const (
	sockDiagByFamily = 20         // SOCK_DIAG_BY_FAMILY
	tcpListen        = 10         // TCP_LISTEN
	nlmsgHdrLen      = 16         // struct nlmsghdr
	diagReqLen       = 56         // struct inet_diag_req_v2
	diagMsgLen       = 72         // struct inet_diag_msg
	diagRqueueOff    = 4 + 48 + 4 // inet_diag_msg.idiag_rqueue: after family..retrans, the sockid, expires
)

// diagSocket is a NETLINK_SOCK_DIAG socket with its request built once,
// for one goroutine.
type diagSocket struct {
	fd  int
	req []byte
	buf []byte
	seq uint32
}

// Queued implements Backlog. It asks for the one socket an exact lookup
// finds (the kernel's inet_diag_find_one_icsk: established, then the
// listener a SYN to Addr would reach), not for a dump of every socket.
func (q *ListenQueue) Queued(context.Context) (int, error) {
	if err := q.Open(); err != nil {
		return 0, err
	}
	return q.s.query()
}

// Open opens the netlink socket now, in the caller's network namespace
// (Queued opens it on first use otherwise). It may be called again.
func (q *ListenQueue) Open() error {
	if q.s != nil {
		return nil
	}
	s, err := openDiag(q)
	if err != nil {
		return err
	}
	q.s = s
	return nil
}

// Close releases the netlink socket.
func (q *ListenQueue) Close() error {
	if q.s == nil {
		return nil
	}
	err := unix.Close(q.s.fd)
	q.s = nil
	return err
}

func openDiag(q *ListenQueue) (*diagSocket, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("failed to open a sock_diag socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("failed to bind a sock_diag socket: %w", err)
	}
	req := make([]byte, nlmsgHdrLen+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	r := req[nlmsgHdrLen:]
	a := q.Addr.Addr().Unmap()
	r[0] = unix.AF_INET6
	if a.Is4() {
		r[0] = unix.AF_INET
	}
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 1<<tcpListen)
	binary.BigEndian.PutUint16(r[8:], q.Addr.Port()) // idiag_sport
	if a.Is4() {
		b := a.As4()
		copy(r[12:], b[:]) // idiag_src[0]
	} else {
		b := a.As16()
		copy(r[12:], b[:])
	}
	ne.PutUint32(r[48:], ^uint32(0)) // idiag_cookie: INET_DIAG_NOCOOKIE
	ne.PutUint32(r[52:], ^uint32(0))
	return &diagSocket{fd: fd, req: req, buf: make([]byte, 1024)}, nil
}

// query sends the request and reads its one answer. The kernel answers an
// exact request while sendto runs, so the receive never waits.
func (s *diagSocket) query() (int, error) {
	s.seq++
	ne := binary.NativeEndian
	ne.PutUint32(s.req[8:], s.seq)
	if err := unix.Sendto(s.fd, s.req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("failed to ask sock_diag for the listener: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(s.fd, s.buf, unix.MSG_DONTWAIT)
		if err != nil {
			return 0, fmt.Errorf("failed to read sock_diag's answer: %w", err)
		}
		m := s.buf[:n]
		if len(m) < nlmsgHdrLen || ne.Uint32(m[8:]) != s.seq {
			continue // a stale answer (an earlier query cut short)
		}
		switch typ := ne.Uint16(m[4:]); typ {
		case unix.NLMSG_ERROR:
			if len(m) < nlmsgHdrLen+4 {
				return 0, fmt.Errorf("short sock_diag error")
			}
			errno := unix.Errno(-int32(ne.Uint32(m[nlmsgHdrLen:])))
			if errno == unix.ENOENT {
				return 0, ErrNoListener
			}
			return 0, fmt.Errorf("sock_diag: %w", errno)
		case sockDiagByFamily:
			if len(m) < nlmsgHdrLen+diagMsgLen {
				return 0, fmt.Errorf("short sock_diag answer: %d bytes", len(m))
			}
			d := m[nlmsgHdrLen:]
			if d[1] != tcpListen {
				return 0, ErrNoListener // a connection, not a listener
			}
			return int(ne.Uint32(d[diagRqueueOff:])), nil
		default:
			return 0, fmt.Errorf("unexpected sock_diag message type %d", typ)
		}
	}
}
