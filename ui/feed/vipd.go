package feed

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui"
)

// Vipd builds the vipd command lines run on a node.
type Vipd struct {
	// Command is vipd on the node: "" runs "vipd" from the login's PATH;
	// an absolute path runs a vipd installed elsewhere (the lab's).
	Command string
	// Socket is vipd's control socket; "" or control.DefaultSocketPath
	// leaves -socket out, so that the line matches a plain sudoers rule.
	Socket string
}

func (v Vipd) line(args ...string) string {
	cmd := []string{"vipd"}
	if v.Command != "" {
		cmd[0] = v.Command
	}
	cmd = append(cmd, args...)
	if v.Socket != "" && v.Socket != control.DefaultSocketPath {
		cmd = append(cmd, "-socket", v.Socket)
	}
	for i, a := range cmd {
		cmd[i] = Quote(a)
	}
	return strings.Join(cmd, " ")
}

// Watch is `vipd watch --json --status-every EVERY`: the events, and a
// status every EVERY and after each transition. EVERY <= 0 leaves the flag
// out: the events alone.
func (v Vipd) Watch(every time.Duration) string {
	if every <= 0 {
		return v.line("watch", "--json")
	}
	return v.line("watch", "--json", "--status-every", every.String())
}

// Status is `vipd status --json`.
func (v Vipd) Status() string { return v.line("status", "--json") }

// Fault is `vipd ctl fault --reason REASON [-i INSTANCE] --by BY`.
func (v Vipd) Fault(instance, reason, by string) string {
	return v.line(ctlArgs("fault", instance, reason, by)...)
}

// Resume is `vipd ctl resume [-i INSTANCE] --by BY`.
func (v Vipd) Resume(instance, by string) string {
	return v.line(ctlArgs("resume", instance, "", by)...)
}

func ctlArgs(sub, instance, reason, by string) []string {
	args := []string{"ctl", sub}
	if reason != "" {
		args = append(args, "--reason", reason)
	}
	if instance != "" {
		args = append(args, "-i", instance)
	}
	if by != "" {
		args = append(args, "--by", by)
	}
	return args
}

// Quote makes s one word for a POSIX shell, which is what runs an SSH
// command line on the node.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=@%+,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Explain turns a failure to reach vipd on host into what the operator
// should read first, keeping the cause for errors.As (the console's panel
// names the remedy from the cause's type).
func Explain(host string, err error) error {
	var (
		changed *ssh.HostKeyChangedError
		version *control.VersionError
		exit    *ssh.ExitError
	)
	switch {
	case err == nil:
		return nil
	case errors.As(err, &changed):
		return fmt.Errorf("host key of %s changed; if that is expected, run %s, then reconnect: %w", host, changed.Remedy(), err)
	case errors.Is(err, ssh.ErrHostKeyUnknown):
		return fmt.Errorf("host key of %s not trusted; reconnect to check its fingerprint and trust it: %w", host, err)
	case errors.As(err, &version) && version.Got > version.Want:
		return fmt.Errorf("vipd on %s too new for this console: %w", host, err)
	case errors.As(err, &version):
		return fmt.Errorf("vipd on %s too old for this console: %w", host, err)
	case errors.As(err, &exit) && exit.Status == 2 && strings.Contains(exit.Stderr, "-status-every"):
		// Its CLI refuses the flag: vipd from before status events.
		return fmt.Errorf("vipd on %s too old for this console (its watch has no --status-every): upgrade vipd: %w", host, err)
	case errors.As(err, &exit) && exit.Status == 127:
		return fmt.Errorf("vipd not installed on %s (or not in the PATH of %s): %w", host, exit.User, err)
	case errors.As(err, &exit) && exit.Status == 1 && strings.Contains(exit.Stderr, "vipd is not running"):
		// The CLI found nothing listening on the control socket.
		why := exit.Stderr[strings.Index(exit.Stderr, "vipd is not running"):]
		return &stoppedError{host: host, evidence: strings.TrimSpace(why), err: err}
	case errors.Is(err, ui.ErrUnreadable):
		return err
	case ended(err):
		return &endedError{host: host, err: err}
	}
	return err
}

// endedError is vipd closing a watch without a word.
type endedError struct {
	host string
	err  error
}

func (e *endedError) Error() string {
	return "vipd on " + e.host + " ended the watch (stopping or restarting?): " + e.err.Error()
}
func (e *endedError) Unwrap() []error { return []error{ui.ErrWatchEnded, e.err} }

// ended reports whether err is vipd ending a watch: its stream closed, as
// the CLI says it (exit 1, "vipd ended the stream") or as EOF.
func ended(err error) bool {
	var exit *ssh.ExitError
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &exit) && exit.Status == 1 && strings.Contains(exit.Stderr, "vipd ended the stream")
}

// stoppedError is vipd not running on a node, and how the console knows.
type stoppedError struct {
	host, evidence string
	err            error
}

func (e *stoppedError) Error() string   { return "vipd stopped on " + e.host + ": " + e.evidence }
func (e *stoppedError) Unwrap() []error { return []error{ui.ErrVipdStopped, e.err} }

// unreadableError is a watch that brought a line that is no event.
type unreadableError struct {
	host string
	err  error
}

func (e *unreadableError) Error() string {
	return "the watch on " + e.host + " sent a line that is not vipd's JSON (" + e.err.Error() + ")"
}
func (e *unreadableError) Unwrap() []error { return []error{ui.ErrUnreadable, e.err} }
