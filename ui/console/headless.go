package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/ui"
)

// PairState and NodeState are what the console shows of a pair and a
// node: the model's own state (ui.Model.PairStates), so that a headless
// caller sees exactly what the screen would say.
type (
	PairState = ui.PairState
	NodeState = ui.NodeState
)

// tracker keeps the model's latest PairStates and wakes waiters on change.
type tracker struct {
	mu      sync.Mutex
	pairs   map[string]ui.PairState
	changed chan struct{} // closed and replaced on every change

	rec recorder
}

// Frame is a screen the console drew, as plain text, and when.
type Frame struct {
	At     time.Time
	Screen string
}

// Heard is an update of a node's feed, and when the model took it.
type Heard struct {
	At         time.Time
	Pair, Node string
	Update     ui.Update
}

// recorder passes frames and updates to Record's callbacks.
type recorder struct {
	mu    sync.Mutex
	frame func(Frame)
	heard func(Heard)
	last  string
}

func (r *recorder) set(frame func(Frame), heard func(Heard)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frame, r.heard, r.last = frame, heard, ""
}

// drawn records screen (drawn at) if it differs from the last one.
func (r *recorder) drawn(at time.Time, view func() string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frame == nil {
		return
	}
	if v := view(); v != r.last {
		r.last = v
		r.frame(Frame{At: at, Screen: v})
	}
}

func (r *recorder) took(h Heard) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.heard != nil {
		r.heard(h)
	}
}

func newTracker() *tracker {
	return &tracker{pairs: map[string]ui.PairState{}, changed: make(chan struct{})}
}

// set records the model's state after an Update.
func (t *tracker) set(pairs map[string]ui.PairState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pairs = pairs
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *tracker) snapshot(pair string) (PairState, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pairs[pair], t.changed
}

// recordFeed passes a feed's updates to the model, recording each one
// (Record) as it is handed over: what the model heard and when.
type recordFeed struct {
	inner ui.Feed
	out   chan ui.Update
	pair  string
	rec   *recorder
}

func (f *recordFeed) Node() string              { return f.inner.Node() }
func (f *recordFeed) Updates() <-chan ui.Update { return f.out }

func (f *recordFeed) Run(ctx context.Context) error {
	defer close(f.out)
	for u := range f.inner.Updates() {
		select {
		case f.out <- u:
		case <-ctx.Done():
			return nil
		}
		f.rec.took(Heard{At: time.Now(), Pair: f.pair, Node: f.inner.Node(), Update: u})
	}
	return nil
}

// viewMsg asks the headless model for its screen.
type viewMsg struct{ reply chan<- string }

// shell answers viewMsg on the program's goroutine, where the model may be
// read, publishes the model's state to t after every Update, and hands
// every screen that changed to the recorder.
type shell struct {
	m *ui.Model
	t *tracker
}

func (s shell) Init() tea.Cmd { return s.m.Init() }

// View draws nothing: the program renders after every message, for no one
// here (a dense probe alone sends 40 a second); viewMsg draws the model
// when it is asked, and the recorder when it records.
func (s shell) View() tea.View { return tea.View{} }
func (s shell) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if v, ok := msg.(viewMsg); ok {
		v.reply <- ansi.Strip(s.m.View().Content)
		return s, nil
	}
	_, cmd := s.m.Update(msg)
	s.t.set(s.m.PairStates())
	s.t.rec.drawn(time.Now(), func() string { return ansi.Strip(s.m.View().Content) })
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
	orig := c.pairs
	pairs := make([]ui.Pair, len(orig))
	for i, p := range orig {
		pairs[i], pairs[i].Nodes = p, nil
		for _, f := range p.Nodes {
			rf := &recordFeed{inner: f, out: make(chan ui.Update), pair: p.Name, rec: &t.rec}
			pairs[i].Nodes = append(pairs[i].Nodes, rf)
			tasks = append(tasks, rf)
		}
	}
	c.pairs = pairs
	m := c.model(ctx)
	c.pairs = orig

	h := &Headless{t: t, done: make(chan struct{})}
	h.prog = tea.NewProgram(shell{m: m, t: t}, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard),
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

// Record calls frame with every screen the console draws from now on (the
// screen after each message that changed it: what a terminal would show,
// at once), and heard with every update a node's feed hands the model,
// until stop is called. Both run on the console's goroutines: they must
// be quick and safe for concurrent use.
func (h *Headless) Record(frame func(Frame), heard func(Heard)) (stop func()) {
	h.t.rec.set(frame, heard)
	return func() { h.t.rec.set(nil, nil) }
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
