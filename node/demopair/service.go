package demopair

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/control"
)

// service runs a node's vipd and its control socket the way systemd runs
// the unit: `demo vipd stop` stops both (vipd hands the VIP over with
// priority 0 and the socket goes away), `demo vipd start` starts a fresh
// vipd on the same configuration.
type service struct {
	mu      sync.Mutex
	vipd    *node.Daemon // replaced when `demo vipd start` starts a new one
	ctl     net.Listener // its control socket
	running bool
	reqs    chan serviceReq
}

type serviceReq struct {
	start bool
	reply chan error
}

// runService runs vipd and its control socket until ctx is done, stopping
// and starting them when asked.
func (p *Pair) runService(ctx context.Context, n *pairNode) error {
	n.svc.mu.Lock()
	vipd, ln := n.svc.vipd, n.svc.ctl
	n.svc.mu.Unlock()
	var started chan error // a start request, answered once vipd runs
	for {
		vctx, vstop := context.WithCancel(ctx)
		sctx, sstop := context.WithCancel(ctx)
		vdone, sdone := make(chan error, 1), make(chan error, 1)
		go func() { vdone <- vipd.Run(vctx) }()
		go func() {
			err := control.Serve(sctx, ln, vipd, p.log.With("control", n.name))
			if sctx.Err() != nil {
				err = nil
			}
			sdone <- err
		}()
		n.svc.setRunning(true)
		if started != nil {
			started <- nil
			started = nil
		}

		var (
			req        serviceReq
			err        error
			vgot, sgot bool
		)
	running:
		for {
			select {
			case <-ctx.Done():
				break running
			case err = <-vdone:
				vgot = true
				break running
			case err = <-sdone:
				sgot = true
				break running
			case req = <-n.svc.reqs:
				if !req.start {
					break running
				}
				req.reply <- nil // already running
				req = serviceReq{}
			}
		}
		// vipd first, so that it hands the VIP over and says so to its
		// watchers; then the socket.
		vstop()
		if !vgot {
			if e := <-vdone; err == nil {
				err = e
			}
		}
		sstop()
		if !sgot {
			if e := <-sdone; err == nil {
				err = e
			}
		}
		n.svc.setRunning(false)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if req.reply != nil {
				req.reply <- err
			}
			return fmt.Errorf("%s's vipd: %w", n.name, err)
		}
		if req.reply != nil {
			req.reply <- nil
		}

		// Stopped: wait to be started.
		for {
			select {
			case <-ctx.Done():
				return nil
			case req = <-n.svc.reqs:
			}
			if !req.start {
				req.reply <- nil // already stopped
				continue
			}
			if err = p.newVipd(n); err == nil {
				n.svc.mu.Lock()
				vipd, ln = n.svc.vipd, n.svc.ctl
				n.svc.mu.Unlock()
				break // the reply once it runs
			}
			req.reply <- err
		}
		started = req.reply
	}
}

func (s *service) setRunning(v bool) {
	s.mu.Lock()
	s.running = v
	s.mu.Unlock()
}

// active reports whether vipd runs.
func (s *service) active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// ask asks the service to start or stop vipd and waits until it has.
func (s *service) ask(ctx context.Context, start bool) error {
	req := serviceReq{start: start, reply: make(chan error, 1)}
	select {
	case s.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
