package node

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/node/guard"
	"github.com/vipkit/vip/vrrp"
)

var _ control.Handler = (*Daemon)(nil)

// Status implements control.Handler: every instance in configuration
// order, with vip_present read back from the kernel, and the guards.
func (d *Daemon) Status() control.Status {
	now := time.Now()
	d.mu.Lock()
	units := slices.Clone(d.units)
	var guards []*guardRun
	for _, name := range d.guardOrder {
		if g := d.guards[name]; g != nil && g.c != nil {
			guards = append(guards, g)
		}
	}
	routerID := d.cfg.Global.RouterID
	loaded := d.loadedConfig()
	d.mu.Unlock()
	if routerID == "" {
		routerID = d.hostname // keepalived's default
	}
	st := control.Status{
		RouterID:    routerID,
		Hostname:    d.hostname,
		VipdVersion: d.opts.Version,
		Time:        now,
		PID:         os.Getpid(),
		Uptime:      control.Millis(now.Sub(d.started)),
		Instances:   []control.Instance{},
		Config:      loaded,
	}
	for _, u := range units {
		st.Instances = append(st.Instances, u.status(now))
	}
	for _, g := range guards {
		cg := guardStatus(g)
		if g.def.Nginx && st.Nginx == nil {
			st.Nginx = &cg
			continue
		}
		st.Scripts = append(st.Scripts, cg)
	}
	return st
}

// loadedConfig says which files vipd runs, for a console's consistency
// check. d.mu is held.
func (d *Daemon) loadedConfig() *control.LoadedConfig {
	lc := &control.LoadedConfig{Path: d.opts.ConfigPath, LoadedAt: d.loadedAt, Files: []control.ConfigFile{}}
	for _, s := range d.cfg.Sources {
		lc.Files = append(lc.Files, control.ConfigFile{Path: s.Name, Size: s.Size, SHA256: hex.EncodeToString(s.SHA256[:])})
	}
	return lc
}

// Watch implements control.Handler.
func (d *Daemon) Watch(ctx context.Context) (control.Status, <-chan control.Event, error) {
	events := d.hub.Subscribe(ctx) // first: nothing falls between the two
	return d.Status(), events, nil
}

// Fault implements control.Handler: the operator's fault holds until
// Resume, whatever the guards say. It returns once every instance asked
// for is in FAULT (its VIPs removed) or not running.
func (d *Daemon) Fault(ctx context.Context, req control.Request) error {
	units, err := d.pick(req.Instance)
	if err != nil {
		return err
	}
	reason := "fault requested"
	if req.Reason != "" {
		reason += ": " + req.Reason
	}
	d.action(req, control.CmdFault)
	for _, u := range units {
		u.setFault(srcOperator, reason)
	}
	return waitUnits(ctx, units, func(u *unit) bool {
		st := u.state()
		return st == vrrp.StateFault || st == vrrp.StateInit
	})
}

// Resume implements control.Handler: it ends the operator's fault. An
// instance that another source keeps in FAULT (a failed guard, a link
// down) stays there, and Resume says so in its error.
func (d *Daemon) Resume(ctx context.Context, req control.Request) error {
	units, err := d.pick(req.Instance)
	if err != nil {
		return err
	}
	d.action(req, control.CmdResume)
	why := "resume requested"
	if req.Reason != "" {
		why += ": " + req.Reason
	}
	var stuck []string
	var free []*unit
	for _, u := range units {
		u.clearFault(srcOperator, why)
		if r := u.faultedBy(srcOperator); r != "" {
			stuck = append(stuck, fmt.Sprintf("%s stays in FAULT: %s", u.name(), r))
		} else {
			free = append(free, u)
		}
	}
	if err := waitUnits(ctx, free, func(u *unit) bool { return u.state() != vrrp.StateFault }); err != nil {
		return err
	}
	if stuck != nil {
		return fmt.Errorf("operator fault cleared, but %s", strings.Join(stuck, "; "))
	}
	return nil
}

// pick returns the named instance, or every instance for "".
func (d *Daemon) pick(name string) ([]*unit, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if name == "" {
		return slices.Clone(d.units), nil
	}
	for _, u := range d.units {
		if u.name() == name {
			return []*unit{u}, nil
		}
	}
	return nil, fmt.Errorf("unknown instance %q", name)
}

// action logs and publishes an operator's request.
func (d *Daemon) action(req control.Request, cmd control.Cmd) {
	attrs := []any{"instance", req.Instance, "reason", req.Reason, "by", req.By}
	if req.Peer != nil {
		attrs = append(attrs, "peer", req.Peer.String())
	}
	d.log.Warn("operator request: "+string(cmd), attrs...)
	d.publish(control.Event{Type: control.EventAction, Instance: req.Instance, Action: cmd,
		Reason: req.Reason, By: req.By, Peer: req.Peer})
}

// waitUnits waits until done holds for every unit, or ctx ends.
func waitUnits(ctx context.Context, units []*unit, done func(*unit) bool) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		all := true
		for _, u := range units {
			if !done(u) {
				all = false
				break
			}
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up waiting for the state change: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func guardStatus(g *guardRun) control.Guard {
	st := g.c.Status()
	cg := control.Guard{
		Name:          g.def.Name,
		Healthy:       st.Verdict == guard.Healthy,
		Verdict:       controlVerdict(st.Verdict),
		Since:         st.Since,
		Reason:        st.Reason,
		URL:           g.def.URL,
		Command:       g.def.Command,
		Latency:       control.Millis(st.LastLatency),
		LastError:     st.LastErr,
		LastErrorTime: st.LastErrTime,
		Checks:        st.Checks,
		Restarts:      st.Restarts,
	}
	if st.Verdict != guard.Failed {
		cg.Reason = ""
	}
	for _, r := range st.History {
		cg.History = append(cg.History, controlCheck(r))
		if r.Phase == guard.PhaseCheck {
			cg.LastCheck = r.Time
		}
	}
	return cg
}

func controlCheck(r guard.Result) control.Check {
	return control.Check{Time: r.Time, OK: r.OK, Latency: control.Millis(r.Latency), Error: r.Err, Phase: control.Phase(r.Phase)}
}

func controlVerdict(v guard.Verdict) control.Verdict {
	switch v {
	case guard.Healthy:
		return control.VerdictHealthy
	case guard.Failed:
		return control.VerdictFailed
	}
	return control.VerdictUnknown
}
