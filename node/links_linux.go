//go:build linux

package node

import (
	"errors"
	"fmt"
	"net"

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
	go func() {
		defer close(done)
		for {
			_, err := c.Receive()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A message, or an error such as ENOBUFS after an overflow
			// that lost some: either way, look at the links again.
			changed()
		}
	}()
	return func() {
		c.Close()
		<-done
	}, nil
}
