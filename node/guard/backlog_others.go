//go:build !linux

package guard

import (
	"context"
	"errors"
)

// errUnimplemented is the answer of the OS effects this platform lacks.
var errUnimplemented = errors.New("not implemented on this platform")

type diagSocket struct{}

// Queued implements Backlog: without sock_diag the guard GETs on every check.
func (q *ListenQueue) Queued(context.Context) (int, error) { return 0, errUnimplemented }

// Close implements Backlog's cleanup.
func (q *ListenQueue) Close() error { return nil }

// Open implements ListenQueue's: there is nothing to open.
func (q *ListenQueue) Open() error { return errUnimplemented }
