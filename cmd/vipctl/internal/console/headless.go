package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"sync"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui"
)

// NodeState is what the console has shown of a node: it counts an update
// only once the model has applied it.
type NodeState struct {
	Connected bool
	Roles     map[string]control.State // by instance
	// VIP says, by instance, whether the VIPs are on the node according to
	// a status or snapshot taken after the instance's last transition; an
	// instance is absent while that is unknown.
	VIP map[string]bool
	Err error
}

// PairState is what the console has shown of a pair.
type PairState struct {
	Nodes map[string]NodeState
	Probe ui.ProbeSample // the latest
}

// Settled returns the node that is MASTER of every instance and holds its
// VIPs, while every other node is connected, error-free and holds no VIP
// and no mastership, and the probe's latest answer came from it.
func (p PairState) Settled() (master string, ok bool) {
	for name, n := range p.Nodes {
		if !n.Connected || n.Err != nil || len(n.Roles) == 0 {
			return "", false
		}
		mastered := 0
		for inst, r := range n.Roles {
			held, known := n.VIP[inst]
			switch {
			case !known:
				return "", false
			case r == control.StateMaster && held:
				mastered++
			case r == control.StateMaster || held:
				return "", false // a role the VIP did not follow
			}
		}
		switch {
		case mastered == len(n.Roles) && master == "":
			master = name
		case mastered > 0:
			return "", false // two masters, or a master of some only
		}
	}
	if master == "" || !p.Probe.OK || p.Probe.Backend != master {
		return "", false
	}
	return master, true
}

// tracker keeps the PairStates and wakes waiters on change.
type tracker struct {
	mu      sync.Mutex
	pairs   map[string]*PairState
	changed chan struct{} // closed and replaced on every change
}

func newTracker() *tracker {
	return &tracker{pairs: map[string]*PairState{}, changed: make(chan struct{})}
}

func (t *tracker) node(pair, node string, f func(*NodeState)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pairs[pair]
	if p == nil {
		p = &PairState{Nodes: map[string]NodeState{}}
		t.pairs[pair] = p
	}
	n := p.Nodes[node]
	if n.Roles == nil {
		n.Roles, n.VIP = map[string]control.State{}, map[string]bool{}
	}
	f(&n)
	p.Nodes[node] = n
	t.wake()
}

func (t *tracker) probe(pair string, s ui.ProbeSample) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pairs[pair]
	if p == nil {
		p = &PairState{Nodes: map[string]NodeState{}}
		t.pairs[pair] = p
	}
	p.Probe = s
	t.wake()
}

func (t *tracker) wake() {
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tracker) snapshot(pair string) (PairState, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pairs[pair]
	if p == nil {
		return PairState{}, t.changed
	}
	out := PairState{Nodes: map[string]NodeState{}, Probe: p.Probe}
	for name, n := range p.Nodes {
		n.Roles, n.VIP = maps.Clone(n.Roles), maps.Clone(n.VIP)
		out.Nodes[name] = n
	}
	return out, t.changed
}

func applyUpdate(n *NodeState, u ui.Update) {
	if u.Conn != nil {
		n.Connected = u.Conn.Connected
	}
	status := u.Status
	if u.Event != nil {
		switch u.Event.Type {
		case control.EventSnapshot:
			status = u.Event.Snapshot
		case control.EventTransition:
			n.Roles[u.Event.Instance] = u.Event.To
			delete(n.VIP, u.Event.Instance)
		}
	}
	if status != nil {
		clear(n.Roles)
		clear(n.VIP)
		for _, in := range status.Instances {
			n.Roles[in.Name], n.VIP[in.Name] = in.State, in.VIPPresent
		}
		n.Err = nil
	}
	if u.Err != nil {
		n.Err = u.Err
	}
}

// tapFeed passes a feed's updates to the model and records each one in the
// tracker once the model has applied it: the model reads the next update
// only after it applied the previous one.
type tapFeed struct {
	inner ui.Feed
	out   chan ui.Update
	pair  string
	t     *tracker
}

func (f *tapFeed) Node() string              { return f.inner.Node() }
func (f *tapFeed) Updates() <-chan ui.Update { return f.out }

func (f *tapFeed) Run(ctx context.Context) error {
	defer close(f.out)
	var pending *ui.Update
	for u := range f.inner.Updates() {
		select {
		case f.out <- u:
		case <-ctx.Done():
			return nil
		}
		if pending != nil {
			f.t.node(f.pair, f.inner.Node(), func(n *NodeState) { applyUpdate(n, *pending) })
		}
		pending = &u
	}
	return nil
}

type tapProbe struct {
	inner ui.ProbeFeed
	out   chan ui.ProbeSample
	pair  string
	t     *tracker
}

func (p *tapProbe) Updates() <-chan ui.ProbeSample { return p.out }

func (p *tapProbe) Run(ctx context.Context) error {
	defer close(p.out)
	var pending *ui.ProbeSample
	for s := range p.inner.Updates() {
		select {
		case p.out <- s:
		case <-ctx.Done():
			return nil
		}
		if pending != nil {
			p.t.probe(p.pair, *pending)
		}
		pending = &s
	}
	return nil
}

// viewMsg asks the headless model for its screen.
type viewMsg struct{ reply chan<- string }

// shell answers viewMsg on the program's goroutine, where the model may be
// read.
type shell struct{ m tea.Model }

func (s shell) Init() tea.Cmd  { return s.m.Init() }
func (s shell) View() tea.View { return s.m.View() }
func (s shell) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if v, ok := msg.(viewMsg); ok {
		v.reply <- ansi.Strip(s.m.View().Content)
		return s, nil
	}
	m, cmd := s.m.Update(msg)
	s.m = m
	return s, cmd
}

// Headless is a console running without a terminal.
type Headless struct {
	prog *tea.Program
	t    *tracker
	done chan struct{}
}

// RunHeadless runs the console without a terminal, on a screen of width x
// height, calls fn with it, and stops everything when fn returns; it
// returns fn's error.
func (c *Console) RunHeadless(ctx context.Context, width, height int, fn func(context.Context, *Headless) error) error {
	t := newTracker()
	var tasks []task
	pairs := make([]ui.Pair, len(c.pairs))
	for i, p := range c.pairs {
		tp := ui.Pair{Name: p.Name, VIP: p.VIP}
		for _, f := range p.Nodes {
			tf := &tapFeed{inner: f, out: make(chan ui.Update), pair: p.Name, t: t}
			tp.Nodes = append(tp.Nodes, tf)
			tasks = append(tasks, tf)
		}
		if p.Probe != nil {
			pr := &tapProbe{inner: p.Probe, out: make(chan ui.ProbeSample), pair: p.Name, t: t}
			tp.Probe = pr
			tasks = append(tasks, pr)
		}
		pairs[i] = tp
	}
	orig := c.pairs
	c.pairs = pairs
	m := c.model()
	c.pairs = orig

	h := &Headless{t: t, done: make(chan struct{})}
	h.prog = tea.NewProgram(shell{m}, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithoutRenderer(), tea.WithoutSignalHandler(), tea.WithWindowSize(width, height))
	var fnErr error
	err := c.run(ctx, append(tasks, c.tasks...), func(ctx context.Context) error {
		pdone := make(chan error, 1)
		go func() {
			defer close(h.done)
			_, err := h.prog.Run()
			pdone <- err
		}()
		fnErr = fn(ctx, h)
		h.prog.Quit()
		return <-pdone
	})
	return errors.Join(fnErr, err)
}

// View returns the screen as plain text.
func (h *Headless) View(ctx context.Context) (string, error) {
	reply := make(chan string, 1)
	go h.prog.Send(viewMsg{reply: reply})
	select {
	case s := <-reply:
		return s, nil
	case <-h.done:
		return "", errors.New("the console stopped")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Pair returns what the console has shown of a pair.
func (h *Headless) Pair(name string) PairState {
	p, _ := h.t.snapshot(name)
	return p
}

// Wait waits until cond holds for pair name, or ctx is done.
func (h *Headless) Wait(ctx context.Context, name string, cond func(PairState) bool) (PairState, error) {
	for {
		p, changed := h.t.snapshot(name)
		if cond(p) {
			return p, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return p, fmt.Errorf("pair %s: %w", name, ctx.Err())
		}
	}
}

// Settled waits until pair has settled (PairState.Settled) and returns its
// master.
func (h *Headless) Settled(ctx context.Context, pair string) (string, error) {
	p, err := h.Wait(ctx, pair, func(p PairState) bool { _, ok := p.Settled(); return ok })
	if err != nil {
		return "", err
	}
	m, _ := p.Settled()
	return m, nil
}

// Snapshot runs the console without a terminal until pair settles on a
// master that answers on its VIP (PairState.Settled), and returns the
// screen then, as plain text, and the master.
func (c *Console) Snapshot(ctx context.Context, pair string, width, height int) (view, master string, err error) {
	err = c.RunHeadless(ctx, width, height, func(ctx context.Context, h *Headless) error {
		var err error
		if master, err = h.Settled(ctx, pair); err != nil {
			return fmt.Errorf("no master elected that answers on the VIP: %w", err)
		}
		view, err = h.View(ctx)
		return err
	})
	return view, master, err
}

// Send passes msg to the console as the terminal would (a key press).
func (h *Headless) Send(msg tea.Msg) { go h.prog.Send(msg) }

// Interrupt asks the console to quit as ctrl+c on a terminal does: a
// drill that runs is aborted, and its report says which step was cut and
// what that step had done so far.
func (h *Headless) Interrupt() { h.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}) }
