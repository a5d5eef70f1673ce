package demo

import (
	"context"
	"fmt"
	"net"
	"sync"

	"github.com/vipkit/vip/cmd/vipctl/internal/console"
	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/control"
)

// Commands are the console gate's commands in the demo: each node's shell
// answers `demo nginx stop|start|break|status` and `demo vipd
// stop|start|status` as systemctl would the real units.
func Commands() console.Commands {
	return console.Commands{
		NginxStop:   []string{"demo nginx stop"},
		NginxBreak:  []string{"demo nginx break"},
		NginxRepair: []string{"demo nginx start"},
		NginxCheck:  []string{"demo nginx status"},
		VipdStop:    []string{"demo vipd stop"},
		VipdStart:   []string{"demo vipd start"},
		VipdActive:  []string{"demo vipd status"},
	}
}

// service runs a node's vipd and its control socket the way systemd runs
// the unit: `demo vipd stop` stops both (vipd hands the VIP over with
// priority 0 and the socket goes away), `demo vipd start` starts a fresh
// vipd on the same configuration.
type service struct {
	mu      sync.Mutex
	running bool
	reqs    chan serviceReq
}

type serviceReq struct {
	start bool
	reply chan error
}

// runService runs vipd and its control socket until ctx is done, stopping
// and starting them when asked.
func (d *Demo) runService(ctx context.Context, n *demoNode) error {
	n.svc.mu.Lock()
	vipd, ln := n.vipd, n.ctl
	n.svc.mu.Unlock()
	var started chan error // a start request, answered once vipd runs
	for {
		vctx, vstop := context.WithCancel(ctx)
		sctx, sstop := context.WithCancel(ctx)
		vdone, sdone := make(chan error, 1), make(chan error, 1)
		go func() { vdone <- vipd.Run(vctx) }()
		go func() {
			err := control.Serve(sctx, ln, vipd, d.log.With("control", n.name))
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
			if vipd, ln, err = d.newVipd(n); err == nil {
				break // the reply once it runs
			}
			req.reply <- err
		}
		started = req.reply
	}
}

// newVipd makes a fresh vipd for n on its configuration, and opens its
// control socket again.
func (d *Demo) newVipd(n *demoNode) (*node.Daemon, net.Listener, error) {
	vipd, err := node.New(node.Options{
		ConfigPath: n.conf, Version: "demo", Logger: d.log.With("vipd", n.name),
		System: &memSystem{net: d.net, ifname: Interface, addr: n.addr},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to start %s's vipd: %w", n.name, err)
	}
	ln, err := control.ListenUnix(n.sock)
	if err != nil {
		return nil, nil, err
	}
	n.svc.mu.Lock()
	n.vipd, n.ctl = vipd, ln
	n.svc.mu.Unlock()
	return vipd, ln, nil
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
