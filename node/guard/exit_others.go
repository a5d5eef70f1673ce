//go:build !linux

package guard

import "errors"

func watchPID(int, func()) (func(), error) {
	return nil, errors.New("watching a process through a pidfd is only supported on Linux")
}
