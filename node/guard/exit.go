package guard

import (
	"context"
	"sync/atomic"
)

// ExitWatcher is a ProcessChecker that also says, without polling, when the
// process its last successful Check found has exited. The guard then checks
// at once instead of at its next tick: a dead nginx is acted on within
// milliseconds, as keepalived's track_process does, while the schedule stays
// what a hung nginx needs.
type ExitWatcher interface {
	ProcessChecker
	// Exited receives after the exit of a process a Check found alive.
	Exited() <-chan struct{}
	// Close stops watching.
	Close() error
}

var _ ExitWatcher = (*PIDWatch)(nil)

// PIDWatch is a PIDFile whose live master is watched through a pidfd (Linux
// 5.3 and later; elsewhere, or when pidfd_open fails, it is a plain PIDFile).
// A pidfd works in any namespace and cannot be fooled by pid reuse. Check and
// Close are for one goroutine.
type PIDWatch struct {
	PIDFile

	pid    int           // watched now; 0: none
	cancel func()        // stops the current watch
	exited chan struct{} // capacity 1
	fired  atomic.Bool   // the watched process exited: re-arm even for the same (reused) pid
}

// NewPIDWatch watches the master named by the pid file.
func NewPIDWatch(p PIDFile) *PIDWatch {
	return &PIDWatch{PIDFile: p, exited: make(chan struct{}, 1)}
}

// Check implements ProcessChecker and arms the watch on a new master.
// While the watched master's pidfd has not fired, that master is alive and
// Check reads nothing: the /proc read was a third of a check's CPU. A new
// master written to the pid file while the old one lives (nginx's binary
// upgrade) is picked up when the old one exits.
func (w *PIDWatch) Check(context.Context) error {
	if w.pid != 0 && !w.fired.Load() {
		return nil
	}
	pid, err := w.alive()
	if err != nil {
		return err
	}
	w.stop()
	w.fired.Store(false)
	if cancel, err := watchPID(pid, w.notify); err == nil {
		w.pid, w.cancel = pid, cancel
	}
	return nil
}

// Exited implements ExitWatcher.
func (w *PIDWatch) Exited() <-chan struct{} { return w.exited }

// Close implements ExitWatcher.
func (w *PIDWatch) Close() error {
	w.stop()
	return nil
}

func (w *PIDWatch) stop() {
	if w.cancel != nil {
		w.cancel()
	}
	w.pid, w.cancel = 0, nil
}

func (w *PIDWatch) notify() {
	w.fired.Store(true)
	select {
	case w.exited <- struct{}{}:
	default: // one pending wake-up is enough
	}
}
