//go:build linux

package guard

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// watchPID calls exited when pid exits, from a goroutine parked in Go's
// poller (no thread, no timer) until then or until cancel.
func watchPID(pid int, exited func()) (cancel func(), err error) {
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("failed to open a pidfd for %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), fmt.Sprintf("pidfd:%d", pid))
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("failed to watch pidfd for %d: %w", pid, err)
	}
	go func() {
		// A pidfd polls readable once the process has exited (a zombie
		// included). Close makes Read return an error instead.
		err := rc.Read(func(fd uintptr) bool {
			p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(p, 0)
			return err != nil && err != unix.EINTR || n > 0
		})
		if err == nil {
			exited()
		}
	}()
	return func() { f.Close() }, nil
}
