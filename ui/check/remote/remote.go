package remote

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/feed"
)

// Options say how to read a node.
type Options struct {
	Name string    // the node's name in the report ("nginx-01")
	Vipd feed.Vipd // how vipd status is run there, as the console runs it
}

// Source is the node r runs commands on, as a check.Source: give Pair two
// of them.
func Source(r Runner, opts Options) check.Source {
	return check.SourceFunc(func(ctx context.Context) (check.Node, error) { return Read(ctx, r, opts) })
}

// Read reads the effective configuration of the node r runs commands on.
// An error means nothing can be compared (no daemon, an unreadable main
// file); problems in the files are in the Node.
func Read(ctx context.Context, r Runner, opts Options) (check.Node, error) {
	n := check.Node{Name: opts.Name}
	out, err := r.Exec(ctx, "sh -c "+feed.Quote(probeScript))
	if err != nil {
		return n, fmt.Errorf("failed to list the daemons on %s: %w", opts.Name, err)
	}
	p, err := parseProbe(out)
	if err != nil {
		return n, fmt.Errorf("failed to list the daemons on %s: %w", opts.Name, err)
	}
	n.Addrs = p.addrs
	vipds, kas := p.daemons()
	switch {
	case len(vipds)+len(kas) == 0:
		return n, fmt.Errorf("neither vipd nor keepalived runs in %s's network namespace: no config is in effect to check", opts.Name)
	case len(vipds) > 0 && len(kas) > 0:
		return n, fmt.Errorf("both vipd (pid %d) and keepalived (pid %d) run in %s's network namespace: two VRRP daemons on one node; stop one",
			vipds[0].PID, kas[0].PID, opts.Name)
	case len(vipds) > 1 || len(kas) > 1:
		all := append(vipds, kas...)
		return n, fmt.Errorf("%d %s daemons run in %s's network namespace (pids %d and %d): which one is in effect cannot be told",
			len(all), all[0].Comm, opts.Name, all[0].PID, all[1].PID)
	case len(vipds) == 1:
		return readVipd(ctx, r, opts, n, vipds[0])
	}
	return readKeepalived(ctx, r, n, kas[0])
}

// load parses the node's files; only an unreadable main file is an error.
func load(ctx context.Context, r Runner, n *check.Node, file string) error {
	n.Path = file
	c, err := config.LoadFS(NewFS(ctx, r), file)
	var list config.ErrorList
	switch {
	case err != nil && !errors.As(err, &list):
		return fmt.Errorf("failed to read %s on %s: %w", file, n.Name, err)
	case c == nil || len(c.Files) == 0:
		return fmt.Errorf("%s: %w", n.Name, err)
	}
	n.Config, n.Problems = c, list
	return nil
}

func readVipd(ctx context.Context, r Runner, opts Options, n check.Node, pr proc) (check.Node, error) {
	n.Daemon = "vipd"
	out, err := r.Exec(ctx, opts.Vipd.Status())
	if err != nil {
		return n, fmt.Errorf("failed to ask vipd (pid %d) on %s what it loaded: %w", pr.PID, n.Name, feed.Explain(n.Name, err))
	}
	st, err := control.DecodeStatus(bytes.NewReader(out))
	if err != nil {
		return n, fmt.Errorf("failed to read vipd's status on %s: %w", n.Name, err)
	}
	file := pr.configFlag()
	if st.Config != nil && st.Config.Path != "" {
		file = st.Config.Path
		if !path.IsAbs(file) && pr.Cwd != "" {
			file = path.Join(pr.Cwd, file)
		}
	}
	if err := load(ctx, r, &n, file); err != nil {
		return n, err
	}
	n.Drift = vipdDrift(st.Config, n.Config, file)
	return n, nil
}

// vipdDrift compares the files on disk with the digests vipd took when it
// loaded them: certain, file by file.
func vipdDrift(lc *control.LoadedConfig, c *config.Config, file string) []check.Drift {
	if lc == nil {
		return []check.Drift{{File: file, Msg: "this vipd does not say which configuration it loaded (an older vipd): the file on disk was checked, and may not be what it runs"}}
	}
	at := lc.LoadedAt.Format(stamp)
	onDisk := map[string]string{}
	for _, s := range c.Sources {
		onDisk[s.Name] = hex.EncodeToString(s.SHA256[:])
	}
	var out []check.Drift
	loaded := map[string]bool{}
	for _, f := range lc.Files {
		name := f.Path
		if !path.IsAbs(name) {
			name = path.Join(path.Dir(file), name)
		}
		loaded[name] = true
		switch sum, ok := onDisk[name]; {
		case !ok:
			out = append(out, check.Drift{File: name, Msg: fmt.Sprintf("vipd loaded %s at %s; the files on disk no longer include it: vipd runs it until reloaded (SIGHUP)", name, at)})
		case sum != f.SHA256:
			out = append(out, check.Drift{File: name, Msg: fmt.Sprintf("%s changed on disk since vipd loaded it at %s: this check read the disk; vipd runs the old file until reloaded (SIGHUP)", name, at)})
		}
	}
	for _, s := range c.Sources {
		if !loaded[s.Name] {
			out = append(out, check.Drift{File: s.Name, Msg: fmt.Sprintf("%s is included on disk but was not when vipd loaded its configuration at %s: vipd does not run it until reloaded (SIGHUP)", s.Name, at)})
		}
	}
	return out
}

func readKeepalived(ctx context.Context, r Runner, n check.Node, pr proc) (check.Node, error) {
	n.Daemon = "keepalived"
	if err := load(ctx, r, &n, pr.configFlag()); err != nil {
		return n, err
	}
	if pr.Start.IsZero() {
		n.Drift = append(n.Drift, check.Drift{File: n.Path, Msg: fmt.Sprintf("keepalived's start time (pid %d) could not be read: whether the files changed since it loaded them is unknown", pr.PID)})
		return n, nil
	}
	mtimes, err := ModTimes(ctx, r, n.Config.Files)
	if err != nil {
		n.Drift = append(n.Drift, check.Drift{File: n.Path, Msg: err.Error()})
		return n, nil
	}
	// The start time comes from the boot time, which /proc/stat gives
	// in whole seconds, and mtimes are read in whole seconds: a change
	// within startSlack of the start cannot be told from the start.
	for _, f := range n.Config.Files {
		if m, ok := mtimes[f]; ok && m.After(pr.Start.Add(startSlack)) {
			n.Drift = append(n.Drift, check.Drift{File: f, Msg: fmt.Sprintf(
				"%s was modified at %s, after keepalived (pid %d) started at %s: it runs this file only if reloaded since (SIGHUP, systemctl reload), which leaves no trace to check",
				f, m.Format(stamp), pr.PID, pr.Start.Format(stamp))})
		}
	}
	return n, nil
}

// startSlack is how much later than a daemon's start a file must have
// changed to be said to have changed since: the start is known to a
// second (the boot time's rounding), the change to a second (stat %Y).
const startSlack = 2 * time.Second

// stamp is how the report shows a node's times.
const stamp = "2006-01-02 15:04:05 MST"
