package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/guard"
	"github.com/vipkit/vip/vrrp"
)

// DefaultNotifyTimeout bounds one notify script. keepalived sets no limit;
// scripts run one at a time here, so a hung one must not hold up the rest
// for ever.
const DefaultNotifyTimeout = 10 * time.Second

// maxNotifyOutput is how much of a script's output is logged.
const maxNotifyOutput = 4 << 10

// NotifyRunner runs one notify script to completion. When ctx is done it
// kills the script (and what it started) and returns soon. exit is the exit
// status, or -1 when the script did not exit by itself or could not start
// (err says which); output is what it printed, possibly cut.
type NotifyRunner interface {
	Run(ctx context.Context, argv []string, user string) (exit int, output []byte, err error)
}

// notifyJob is one script to run for one transition.
type notifyJob struct {
	instance string
	hook     string // notify_master, notify_backup, notify_fault, notify_stop or notify
	argv     []string
	user     string
}

// notifyJobs returns the scripts to run, in order, when the instance of s
// enters to: the state's own hook, then the generic `notify` with
// keepalived's arguments "INSTANCE" NAME STATE PRIORITY (STATE is STOP
// when the instance stops).
func notifyJobs(s spec, to vrrp.State) []notifyJob {
	var hook, state string
	var argv []string
	switch to {
	case vrrp.StateMaster:
		hook, state, argv = "notify_master", "MASTER", s.Notify.Master
	case vrrp.StateBackup:
		hook, state, argv = "notify_backup", "BACKUP", s.Notify.Backup
	case vrrp.StateFault:
		hook, state, argv = "notify_fault", "FAULT", s.Notify.Fault
	case vrrp.StateInit:
		hook, state, argv = "notify_stop", "STOP", s.Notify.Stop
	default:
		return nil
	}
	var jobs []notifyJob
	if len(argv) > 0 {
		jobs = append(jobs, notifyJob{instance: s.Name, hook: hook, argv: argv, user: s.Notify.User(hook, s.User)})
	}
	if len(s.Notify.Any) > 0 {
		prio := strconv.Itoa(int(s.Engine.Priority))
		argv := append(append([]string(nil), s.Notify.Any...), "INSTANCE", s.Name, state, prio)
		jobs = append(jobs, notifyJob{instance: s.Name, hook: "notify", argv: argv, user: s.Notify.User("notify", s.User)})
	}
	return jobs
}

// notifier runs notify scripts one at a time, in the order they were
// queued, which is the order of the transitions: a notify_backup never
// overtakes the notify_master before it, whatever each one takes.
type notifier struct {
	runner  NotifyRunner
	timeout time.Duration
	log     *slog.Logger
	done    func(instance string, n control.Notify) // after each run

	mu    sync.Mutex
	queue []notifyJob
	wake  chan struct{}
}

func newNotifier(r NotifyRunner, timeout time.Duration, log *slog.Logger, done func(string, control.Notify)) *notifier {
	return &notifier{runner: r, timeout: timeout, log: log, done: done, wake: make(chan struct{}, 1)}
}

// enqueue adds jobs at the end of the queue. It never blocks.
func (n *notifier) enqueue(jobs ...notifyJob) {
	if len(jobs) == 0 {
		return
	}
	n.mu.Lock()
	n.queue = append(n.queue, jobs...)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) next() (notifyJob, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.queue) == 0 {
		return notifyJob{}, false
	}
	j := n.queue[0]
	n.queue = n.queue[1:]
	return j, true
}

// Run runs queued scripts until ctx is done, then runs what is still
// queued (the notify_stop of a shutdown) and returns nil.
func (n *notifier) Run(ctx context.Context) error {
	for {
		for {
			j, ok := n.next()
			if !ok {
				break
			}
			n.runJob(j)
		}
		select {
		case <-n.wake:
		case <-ctx.Done():
			for {
				j, ok := n.next()
				if !ok {
					return nil
				}
				n.runJob(j)
			}
		}
	}
}

func (n *notifier) runJob(j notifyJob) {
	// Not the daemon's context: a notify_stop must run while vipd stops.
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	start := time.Now()
	exit, out, err := n.runner.Run(ctx, j.argv, j.user)
	timedOut := ctx.Err() != nil
	cancel()
	res := control.Notify{Hook: j.hook, Command: joinArgv(j.argv), Exit: exit, Duration: control.Millis(time.Since(start))}
	switch {
	case timedOut:
		res.Exit, res.Error = -1, fmt.Sprintf("timed out after %v, killed", n.timeout)
	case err != nil && exit < 0:
		res.Error = err.Error()
	}
	attrs := []any{"instance", j.instance, "hook", j.hook, "command", res.Command,
		"exit", res.Exit, "duration", time.Duration(res.Duration).Round(time.Microsecond)}
	if o := strings.TrimSpace(string(out)); o != "" {
		attrs = append(attrs, "output", o)
	}
	switch {
	case res.Error != "":
		n.log.Warn("notify script failed", append(attrs, "err", res.Error)...)
	case res.Exit != 0:
		n.log.Warn("notify script exited non-zero", attrs...)
	default:
		n.log.Info("notify script ran", attrs...)
	}
	if n.done != nil {
		n.done(j.instance, res)
	}
}

// joinArgv writes a command back as configured, quoting words with blanks.
func joinArgv(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a == "" || strings.ContainsAny(a, " \t") {
			b.WriteString(strconv.Quote(a))
		} else {
			b.WriteString(a)
		}
	}
	return b.String()
}

// execNotify runs scripts as child processes, each in a process group of
// its own that is SIGKILLed when ctx is done (guard.Isolate). Output goes to an unlinked
// temporary file, not a pipe: a daemon the script leaves behind would
// hold a pipe open and the run with it.
type execNotify struct{}

func (execNotify) Run(ctx context.Context, argv []string, usr string) (int, []byte, error) {
	if len(argv) == 0 {
		return -1, nil, errors.New("empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if err := guard.Isolate(cmd, usr); err != nil {
		return -1, nil, err
	}
	f, err := os.CreateTemp("", "vipd-notify-*")
	if err != nil {
		return -1, nil, fmt.Errorf("failed to make a file for the output of %s: %w", argv[0], err)
	}
	os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	err = cmd.Run()
	out := readHead(f, maxNotifyOutput)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out, nil
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode(), out, nil
	case errors.As(err, &ee):
		return -1, out, fmt.Errorf("killed: %v", ee)
	default:
		return -1, out, fmt.Errorf("failed to start: %w", err)
	}
}

func readHead(f *os.File, n int) []byte {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(io.LimitReader(f, int64(n)))
	return b
}
