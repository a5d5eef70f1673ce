//go:build linux

package node

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// WatchLinks implements LinkWatcher with rtnetlink's link group: the kernel
// says when any link changes (carrier, up/down, rename), so a lost carrier
// is seen at once and an idle daemon reads nothing.
func (OS) WatchLinks(changed func()) (stop func(), err error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{Groups: unix.RTMGRP_LINK})
	if err != nil {
		return nil, fmt.Errorf("failed to subscribe to link changes: %w", err)
	}
	done := make(chan struct{})
	var stopped atomic.Bool
	go func() {
		defer close(done)
		for !stopped.Load() {
			_, err := c.Receive()
			switch {
			case stopped.Load():
				return
			case err == nil, errors.Is(err, unix.ENOBUFS):
				// A message, or an overflow that lost some: either
				// way, look at the links again.
				changed()
			default:
				// Unexpected: look again, and do not spin on it.
				changed()
				time.Sleep(time.Second)
			}
		}
	}()
	return func() {
		stopped.Store(true)
		c.Close() // unblocks Receive
		<-done
	}, nil
}
