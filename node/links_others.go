//go:build !linux

package node

import "errors"

// WatchLinks implements LinkWatcher: not here; the daemon polls.
func (OS) WatchLinks(func()) (func(), error) {
	return nil, errors.New("link notifications (rtnetlink) are only supported on Linux")
}
