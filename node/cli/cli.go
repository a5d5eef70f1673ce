package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vipkit/vip/node/control"
)

const (
	statusTimeout = 5 * time.Second
	ctlTimeout    = 15 * time.Second // vipd bounds fault and resume at 10 s
)

// Env is what a client command runs with.
type Env struct {
	Stdout, Stderr io.Writer
	// Socket is the -socket flag's default (empty: control.DefaultSocketPath).
	Socket string
	// By is the -by flag's default for ctl: who asks.
	By string
}

// Run runs `vipd CMD ARGS...` for CMD status, watch or ctl until it is done
// or ctx ends, and returns the exit code: 0, 1 when vipd is not running or
// refuses the request (said on Stderr), 2 on a usage error.
func Run(ctx context.Context, cmd string, args []string, env Env) int {
	stdout, stderr := env.Stdout, env.Stderr
	if env.Socket == "" {
		env.Socket = control.DefaultSocketPath
	}
	fs := flag.NewFlagSet("vipd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", env.Socket, "control socket `path`")
	jsonOut := fs.Bool("json", false, "print vipd's JSON documents (the control contract), one per line")
	var sub, reason, instance, by string
	var statusEvery time.Duration
	switch cmd {
	case "status":
	case "watch":
		fs.DurationVar(&statusEvery, "status-every", 0,
			"also print vipd's status this often (at least 100ms) and after each transition; 0: never")
	case "ctl":
		if len(args) == 0 || (args[0] != "fault" && args[0] != "resume") {
			fmt.Fprintln(stderr, "usage: vipd ctl fault --reason TEXT [-i INSTANCE] | vipd ctl resume [-i INSTANCE]")
			return 2
		}
		sub, args = args[0], args[1:]
		fs.StringVar(&reason, "reason", "", "why (logged, and shown in the action event)")
		fs.StringVar(&instance, "i", "", "the vrrp_instance; every instance when empty")
		fs.StringVar(&by, "by", env.By, "who asks")
	default:
		fmt.Fprintf(stderr, "vipd: unknown command %q: status, watch or ctl\n", cmd)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vipd %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if statusEvery < 0 || statusEvery > control.MaxStatusEvery {
		fmt.Fprintf(stderr, "vipd watch: --status-every %v: want 0 to %v\n", statusEvery, control.MaxStatusEvery)
		return 2
	}
	if sub == "fault" && reason == "" {
		fmt.Fprintln(stderr, "vipd ctl fault: --reason is required: say why the VIP is given up")
		return 2
	}

	var err error
	switch cmd {
	case "status":
		err = status(ctx, *socket, *jsonOut, stdout)
	case "watch":
		err = watch(ctx, *socket, statusEvery, *jsonOut, stdout)
	case "ctl":
		err = ctl(ctx, *socket, sub, instance, reason, by, stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vipd %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// dial connects to vipd, saying plainly when it is not running.
func dial(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED):
		return nil, fmt.Errorf("vipd is not running (nothing listens on %s)", path)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("permission denied on %s: run as root", path)
	case err != nil:
		return nil, fmt.Errorf("failed to connect to vipd at %s: %w", path, err)
	}
	return c, nil
}

// request sends one request line and returns the connection's reader.
func request(ctx context.Context, path string, req control.Request) (net.Conn, *bufio.Reader, error) {
	c, err := dial(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	context.AfterFunc(ctx, func() { c.Close() })
	b, err := json.Marshal(req)
	if err == nil {
		_, err = c.Write(append(b, '\n'))
	}
	if err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("failed to send the request to vipd: %w", err)
	}
	return c, bufio.NewReaderSize(c, 64<<10), nil
}

func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > control.MaxLineSize {
			return nil, control.ErrLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			return line, nil
		}
		return line, err
	}
}

func status(ctx context.Context, path string, jsonOut bool, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	c, br, err := request(ctx, path, control.Request{Cmd: control.CmdStatus})
	if err != nil {
		return err
	}
	defer c.Close()
	line, err := readLine(br)
	if err != nil {
		return fmt.Errorf("failed to read vipd's answer: %w", err)
	}
	st, err := control.DecodeStatus(bytes.NewReader(line))
	if err != nil {
		return err
	}
	if jsonOut {
		_, err = w.Write(line)
		return err
	}
	return printStatus(w, st)
}

func watch(ctx context.Context, path string, statusEvery time.Duration, jsonOut bool, w io.Writer) error {
	c, br, err := request(ctx, path, control.Request{Cmd: control.CmdWatch, StatusEvery: control.Millis(statusEvery)})
	if err != nil {
		return err
	}
	defer c.Close()
	if jsonOut {
		for {
			line, err := readLine(br)
			if len(bytes.TrimSpace(line)) > 0 {
				if _, werr := w.Write(line); werr != nil {
					return werr
				}
			}
			if ctx.Err() != nil {
				return nil
			}
			if err == io.EOF {
				return errors.New("vipd ended the stream")
			}
			if err != nil {
				return fmt.Errorf("failed to read from vipd: %w", err)
			}
		}
	}
	dec := control.NewEventDecoder(br)
	for {
		ev, err := dec.Next()
		if ctx.Err() != nil {
			return nil
		}
		if err == io.EOF {
			return errors.New("vipd ended the stream")
		}
		if err != nil {
			return err
		}
		printEvent(w, ev)
	}
}

func ctl(ctx context.Context, path, sub, instance, reason, by string, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, ctlTimeout)
	defer cancel()
	c, err := dial(ctx, path)
	if err != nil {
		return err
	}
	cl := control.NewClient(c)
	defer cl.Close()
	cl.By = by
	what := instance
	if what == "" {
		what = "every instance"
	}
	if sub == "fault" {
		if err := cl.Fault(ctx, instance, reason); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: FAULT (VIP given up) until `vipd ctl resume`\n", what)
		return nil
	}
	if err := cl.Resume(ctx, instance); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: resumed as BACKUP\n", what)
	return nil
}

func printStatus(w io.Writer, st control.Status) error {
	fmt.Fprintf(w, "%s (host %s), vipd %s, pid %d, up %v\n\n", st.RouterID, st.Hostname, st.VipdVersion, st.PID,
		st.Uptime.Duration().Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INSTANCE\tINTERFACE\tVRID\tSTATE\tPRIORITY\tMASTER\tVIPS\tVIP HERE\tLAST ADVERT")
	for _, in := range st.Instances {
		master := "-"
		if in.Master.IsValid() {
			master = fmt.Sprintf("%s (%d)", in.Master, in.MasterPriority)
		}
		last := "-"
		if !in.LastAdvert.IsZero() {
			last = in.LastAdvertAge.Duration().Round(time.Millisecond).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", in.Name, in.Interface, in.VRID, in.State,
			in.EffectivePriority, in.BasePriority, master, strings.Join(in.VIPs, ","), yesNo(in.VIPPresent), last)
	}
	tw.Flush()
	for _, in := range st.Instances {
		if in.FaultReason != "" {
			fmt.Fprintf(w, "%s FAULT: %s\n", in.Name, in.FaultReason)
		}
	}
	guards := st.Scripts
	if st.Nginx != nil {
		guards = append([]control.Guard{*st.Nginx}, guards...)
	}
	if len(guards) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GUARD\tVERDICT\tSINCE\tLATENCY\tCHECKS\tRESTARTS\tLAST ERROR")
	for _, g := range guards {
		since := "-"
		if !g.Since.IsZero() {
			since = st.Time.Sub(g.Since).Round(time.Second).String() + " ago"
		}
		lastErr := "-"
		if g.LastError != "" {
			lastErr = fmt.Sprintf("%s (%s ago)", g.LastError, st.Time.Sub(g.LastErrorTime).Round(time.Second))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%d\t%s\n", g.Name, g.Verdict, since,
			g.Latency.Duration().Round(time.Microsecond), g.Checks, g.Restarts, lastErr)
	}
	return tw.Flush()
}

func printEvent(w io.Writer, ev control.Event) {
	t := ev.Time.Local().Format("15:04:05.000")
	switch ev.Type {
	case control.EventSnapshot:
		if ev.Snapshot != nil {
			for _, in := range ev.Snapshot.Instances {
				fmt.Fprintf(w, "%s %s: %s, VIP here: %s\n", t, in.Name, in.State, yesNo(in.VIPPresent))
			}
		}
	case control.EventStatus:
		// One line per instance, as the snapshot, with what changes
		// between transitions.
		if ev.Status != nil {
			for _, in := range ev.Status.Instances {
				last := "no advert yet"
				if !in.LastAdvert.IsZero() {
					last = "last advert " + in.LastAdvertAge.Duration().Round(time.Millisecond).String() + " ago"
				}
				fmt.Fprintf(w, "%s %s: %s, VIP here: %s, %s, adverts in %d out %d\n", t, in.Name, in.State,
					yesNo(in.VIPPresent), last, in.Stats.AdvertRcvd, in.Stats.AdvertSent)
			}
		}
	case control.EventTransition:
		fmt.Fprintf(w, "%s %s: %s -> %s: %s\n", t, ev.Instance, ev.From, ev.To, ev.Reason)
	case control.EventCheck:
		if ev.Check != nil && !ev.Check.OK {
			fmt.Fprintf(w, "%s %s: %s failed: %s\n", t, ev.Guard, ev.Check.Phase, ev.Check.Error)
		}
	case control.EventVerdict:
		fmt.Fprintf(w, "%s %s: %s %s\n", t, ev.Guard, ev.Verdict, ev.Reason)
	case control.EventAction:
		fmt.Fprintf(w, "%s %s %s by %s: %s\n", t, ev.Action, orAll(ev.Instance), ev.By, ev.Reason)
	case control.EventNotify:
		if ev.Notify != nil {
			fmt.Fprintf(w, "%s %s: %s %q exit %d %s\n", t, ev.Instance, ev.Notify.Hook, ev.Notify.Command, ev.Notify.Exit, ev.Notify.Error)
		}
	case control.EventError:
		fmt.Fprintf(w, "%s error: %s\n", t, ev.Error)
	}
}

func orAll(s string) string {
	if s == "" {
		return "every instance"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
