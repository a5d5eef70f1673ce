package ui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Model is the console: a tea.Model over one or more pairs, one shown at a
// time. Create it with New and run it in a tea.Program.
type Model struct {
	c     *common
	pairs []*pairView
	cur   int // the pair shown
	focus int // among the shown pair's focusable components

	showPairs bool
	list      *pairList
	help      help.Model

	gate  gate        // the one way actions run
	drill *drillState // nil without a drill

	width, height int
}

var _ tea.Model = (*Model)(nil)

// pairView is one pair's state and components.
type pairView struct {
	name, vip string
	updates   []<-chan Update // per node
	probeCh   <-chan ProbeSample

	nodes    []*nodeState
	cards    []*nodeCard
	probe    *probeState // nil when not probed
	lane     *vipLane
	timeline *timeline
}

// Sizes of the fixed parts of the screen.
const (
	minCardWidth    = 34 // below this, panels stack
	minTimeline     = 4  // title and three events
	minWidth        = 30
	minHeight       = 8
	defaultWidth    = 80 // until the terminal says
	defaultHeight   = 24
	headerHeight    = 1
	cardChromeLines = 2 // border
)

// New returns a console over pairs. It starts nothing: the Program runs
// the Cmds that read the feeds.
func New(pairs []Pair, opts Options) *Model {
	custom := opts.Styles != nil
	opts = opts.withDefaults()
	c := &common{styles: opts.Styles, keys: opts.Keys, now: opts.Now, loc: opts.Location, opts: opts, customStyles: custom}
	m := &Model{c: c, help: help.New(), width: defaultWidth, height: defaultHeight}
	m.help.Styles = c.styles.Help
	for _, p := range pairs {
		pv := &pairView{name: p.Name, vip: p.VIP}
		var names []string
		for _, f := range p.Nodes {
			n := &nodeState{name: f.Node()}
			pv.nodes = append(pv.nodes, n)
			pv.cards = append(pv.cards, newNodeCard(c, n))
			pv.updates = append(pv.updates, f.Updates())
			names = append(names, n.name)
		}
		if p.Probe != nil {
			pv.probe = &probeState{window: opts.ProbeWindow}
			pv.probeCh = p.Probe.Updates()
		}
		pv.lane = &vipLane{c: c, vip: p.VIP, nodes: pv.nodes, probe: pv.probe}
		pv.timeline = newTimeline(c, opts.TimelineSize, names)
		m.pairs = append(m.pairs, pv)
	}
	m.list = &pairList{c: c, pairs: m.pairs}
	m.gate = newGate(opts)
	if opts.Drill != nil {
		m.drill = newDrill(*opts.Drill, m.pairs)
		m.cur = m.drill.pair
	}
	m.layout()
	return m
}

// Init starts reading every feed and the clock.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	for i, p := range m.pairs {
		for j, ch := range p.updates {
			cmds = append(cmds, waitUpdate(i, j, ch))
		}
		if p.probeCh != nil {
			cmds = append(cmds, waitProbe(i, p.probeCh))
		}
	}
	cmds = append(cmds, tick(m.c.opts.Refresh), tea.RequestBackgroundColor)
	if m.drill != nil && m.drill.opts.Auto {
		cmds = append(cmds, tickDrill())
	}
	return tea.Batch(cmds...)
}

// Update applies one message. Feed messages re-arm their feed's read.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	now := m.c.now()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.BackgroundColorMsg:
		if !m.c.customStyles {
			m.c.styles.Help = help.DefaultStyles(msg.IsDark())
			m.help.Styles = m.c.styles.Help
		}
	case tea.KeyPressMsg:
		cmd = m.key(msg)
	case updateMsg:
		p := m.pairs[msg.pair]
		n := p.nodes[msg.node]
		for _, nt := range n.apply(msg.u, now) {
			p.timeline.add(n.name, msg.node, nt)
			m.observe(msg.pair, n.name, nt)
		}
		n.bump()
		cmd = tea.Batch(waitUpdate(msg.pair, msg.node, p.updates[msg.node]), m.evaluate(), m.drillPoll())
	case feedClosedMsg:
		p := m.pairs[msg.pair]
		n := p.nodes[msg.node]
		n.closed = true
		n.bump()
		nt := note{at: now, text: "feed ended", level: levelBad}
		p.timeline.add(n.name, msg.node, nt)
		m.observe(msg.pair, n.name, nt)
		cmd = m.evaluate()
	case probeMsg:
		p := m.pairs[msg.pair]
		m.observeProbe(msg.pair, msg.s)
		for _, nt := range p.probe.add(msg.s) {
			p.timeline.add("", -1, nt)
			m.observe(msg.pair, "", nt)
		}
		cmd = tea.Batch(waitProbe(msg.pair, p.probeCh), m.evaluate(), m.drillPoll())
	case probeClosedMsg:
		m.pairs[msg.pair].probe.closed = true
	case tickMsg:
		cmd = tick(m.c.opts.Refresh)
	case selectPairMsg:
		m.setPair(int(msg))
		m.showPairs = false
	case ActionMsg:
		cmd = m.request(msg.Action, false)
	case drillActionMsg:
		cmd = m.request(msg.a, true)
	case ActionResultMsg:
		cmd = m.onResult(msg)
	case gateTickMsg:
		if r := m.gate.run; r != nil && r.id == msg.id {
			cmd = m.evaluate()
			if m.gate.run == r {
				cmd = tea.Batch(cmd, tickGate(r.id))
			}
		}
	case drillTickMsg:
		if m.drill != nil && !m.drill.done {
			cmd = tea.Batch(m.drillPoll(), tickDrill())
		}
	case auditFailedMsg:
		if p := m.pair(); p != nil {
			p.timeline.add("", -1, note{at: now, text: "audit log not written: " + msg.err.Error(), level: levelBad})
		}
	}
	m.layout()
	return m, cmd
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.gate.confirm != nil {
		return m.confirmKey(msg) // q and the action keys are typing here
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil
	}
	if cmd, ok := m.actionKey(msg); ok {
		return cmd
	}
	if m.showPairs {
		if key.Matches(msg, k.Back, k.Pairs) {
			m.showPairs = false
			return nil
		}
		return m.list.Update(msg)
	}
	switch {
	case key.Matches(msg, k.Pairs):
		m.showPairs = true
		m.list.cursor = m.cur
	case key.Matches(msg, k.NextPair):
		m.setPair((m.cur + 1) % max(len(m.pairs), 1))
	case key.Matches(msg, k.PrevPair):
		m.setPair((m.cur - 1 + len(m.pairs)) % max(len(m.pairs), 1))
	case key.Matches(msg, k.NextFocus):
		m.focus = (m.focus + 1) % max(len(m.focusables()), 1)
	case key.Matches(msg, k.PrevFocus):
		n := max(len(m.focusables()), 1)
		m.focus = (m.focus - 1 + n) % n
	case m.gate.shown != nil && m.gate.run == nil && key.Matches(msg, k.Back):
		m.gate.shown = nil
	case m.drill != nil && key.Matches(msg, k.Select):
		return m.drillEnter()
	default:
		if f := m.focusables(); m.focus < len(f) {
			return f[m.focus].Update(msg)
		}
	}
	return nil
}

// quit ends the console. A drill not over is aborted first, and its report
// handed over before the program ends: the caller restores what it broke.
func (m *Model) quit() tea.Cmd {
	if d := m.drill; d != nil && !d.done {
		why := "the operator quit"
		if d.cur < len(d.steps) {
			why += fmt.Sprintf(" at step %d (%s)", d.cur+1, d.steps[d.cur].Step.Title)
		}
		m.drillAbort(why)
		return tea.Sequence(m.drillReport(), tea.Quit)
	}
	return tea.Quit
}

func (m *Model) setPair(i int) {
	if i < 0 || i >= len(m.pairs) {
		return
	}
	m.cur, m.focus = i, 0
}

func (m *Model) pair() *pairView {
	if len(m.pairs) == 0 {
		return nil
	}
	return m.pairs[m.cur]
}

// focusables are the components tab moves between: the node panels, then
// the timeline.
func (m *Model) focusables() []Component {
	p := m.pair()
	if p == nil {
		return nil
	}
	var out []Component
	for _, c := range p.cards {
		out = append(out, c)
	}
	return append(out, p.timeline)
}

// frame is the layout of one screen.
type frame struct {
	banners  []string
	rows     [][]*nodeCard
	rowH     []int
	panel    []string // the gate's or the drill's lines, above the timeline
	timeline int      // height
	body     int      // height between the header and banners and the help
	help     string
}

// layout sizes the shown pair's components for the window. It runs after
// every Update (so paging knows the timeline's height) and in View.
func (m *Model) layout() frame {
	var f frame
	p := m.pair()
	f.help = m.helpView()
	if p == nil {
		return f
	}
	for i, c := range p.cards {
		c.focused = !m.showPairs && m.focus == i
	}
	p.timeline.focused = !m.showPairs && m.focus == len(p.cards)
	f.banners = banners(m.c, p.nodes, m.width)
	f.body = m.height - headerHeight - len(f.banners) - lipgloss.Height(f.help)
	if m.showPairs {
		m.list.SetSize(m.width, f.body)
		return f
	}
	avail := f.body - vipLaneHeight
	p.lane.SetSize(m.width, vipLaneHeight)

	// Panels side by side while they fit, else in rows; the last column
	// takes the remainder of the width.
	cols := min(max(m.width/minCardWidth, 1), max(len(p.cards), 1))
	colW := m.width / cols
	for i, c := range p.cards {
		w := colW
		if i%cols == cols-1 {
			w = m.width - colW*(cols-1)
		}
		c.SetSize(w, 0)
	}
	used := 0
	for i := 0; i < len(p.cards); i += cols {
		row := p.cards[i:min(i+cols, len(p.cards))]
		h := 0
		for _, c := range row {
			h = max(h, c.Height())
		}
		f.rows, f.rowH = append(f.rows, row), append(f.rowH, h)
		used += h
	}
	// The gate's panel may take what the panels leave, and half the
	// room at least.
	panel := m.panel(max(avail-used, avail/2))
	if budget := avail - max(minTimeline, min(len(panel), avail/2)); used > budget && len(f.rows) > 0 {
		// Too short: panels give up lines (they end in "…"), the timeline
		// keeps its minimum.
		used = 0
		for i := range f.rowH {
			f.rowH[i] = max(min(f.rowH[i], budget/len(f.rows)), cardChromeLines+1)
			used += f.rowH[i]
		}
	}
	for i, row := range f.rows {
		for _, c := range row {
			c.SetSize(c.width, f.rowH[i]) // equal heights: a tidy row
		}
	}
	lower := max(avail-used, 0)
	f.panel = panel
	if len(f.panel) > lower {
		f.panel = append(f.panel[:max(lower-1, 0)], m.c.styles.Muted.Render("…"))[:lower]
	}
	f.timeline = lower - len(f.panel)
	if f.timeline < 2 {
		f.timeline = 0 // a title alone says nothing
	}
	p.timeline.SetSize(m.width, f.timeline)
	return f
}

// panel is what the region under the VIP line shows above the timeline: a
// confirmation, the drill, or the running action or last verdict; maxH is
// the room it should try to fit in.
func (m *Model) panel(maxH int) []string {
	switch {
	case m.gate.confirm != nil:
		return m.confirmLines(m.width)
	case m.drill != nil:
		return m.drillLines(m.width, maxH)
	case m.gate.run != nil:
		return m.runLines(m.width)
	case m.gate.shown != nil:
		return append(m.outcomeLines(m.gate.shown, m.width), m.c.styles.Muted.Render("esc dismisses"))
	}
	return nil
}

func (m *Model) helpView() string {
	m.help.SetWidth(m.width)
	k := m.c.keys
	if m.help.ShowAll {
		return m.help.FullHelpView(k.FullHelp())
	}
	var b []key.Binding
	switch {
	case m.gate.confirm != nil:
		b = []key.Binding{withHelp(k.Select, "confirm"), withHelp(k.Back, "cancel")}
	case m.drill != nil:
		if !m.drill.done && !m.drill.asked && !m.drill.opts.Auto {
			b = append(b, withHelp(k.Select, "run step"))
		}
		b = append(b, k.NextFocus, k.Help, withHelp(k.Quit, "quit"))
	case m.showPairs:
		b = append(m.list.ShortHelp(), k.Help, k.Quit)
	default:
		if f := m.focusables(); m.focus < len(f) {
			b = f[m.focus].ShortHelp()
		}
		if m.gate.shown != nil {
			b = append(b, withHelp(k.Back, "dismiss"))
		}
		b = append(b, k.Actions, k.NextFocus)
		if len(m.pairs) > 1 {
			b = append(b, k.Pairs, k.PrevPair, k.NextPair)
		}
		b = append(b, k.Help, k.Quit)
	}
	return m.help.ShortHelpView(b)
}

// View draws the screen: header, banners, panels, VIP line, timeline and
// help, exactly width x height.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "vipctl"
	return v
}

func (m *Model) render() string {
	s := m.c.styles
	if m.width < minWidth || m.height < minHeight {
		msg := fmt.Sprintf("enlarge the terminal (at least %dx%d)", minWidth, minHeight)
		return fit(s.Warn.Render(msg), m.width, m.height)
	}
	f := m.layout()
	p := m.pair()
	if p == nil {
		return fit(m.header()+"\n"+s.Muted.Render("no pairs configured"), m.width, m.height)
	}
	parts := []string{m.header()}
	parts = append(parts, f.banners...)
	var body []string
	if m.showPairs {
		body = append(body, m.list.View())
	} else {
		if len(p.cards) == 0 {
			body = append(body, s.Muted.Render("no nodes in this pair"))
		}
		for _, row := range f.rows {
			views := make([]string, len(row))
			for i, c := range row {
				views[i] = c.View()
			}
			body = append(body, lipgloss.JoinHorizontal(lipgloss.Top, views...))
		}
		body = append(body, p.lane.View())
		body = append(body, f.panel...)
		if f.timeline > 0 {
			body = append(body, p.timeline.View())
		}
	}
	parts = append(parts, fit(strings.Join(body, "\n"), m.width, max(f.body, 0)))
	parts = append(parts, f.help)
	return fit(strings.Join(parts, "\n"), m.width, m.height)
}

// header is the title, the pairs as tabs and the clock.
func (m *Model) header() string {
	s := m.c.styles
	left := s.Title.Render("vipctl")
	if len(m.pairs) == 1 {
		left += " " + s.Muted.Render("pair") + " " + s.ActiveTab.Render(m.pairs[0].name)
	} else {
		for i, p := range m.pairs {
			name := p.name
			lvl, _ := pairHealth(p.nodes, p.probe)
			if lvl == levelBad || lvl == levelWarn {
				name += "!"
			}
			tab := s.Tab
			if i == m.cur {
				tab, name = s.ActiveTab, "["+name+"]" // readable without colour too
			}
			if lvl == levelBad {
				tab = tab.Foreground(s.Bad.GetForeground())
			}
			left += " " + tab.Render(name)
		}
	}
	right := s.Muted.Render(m.c.clock(m.c.now()))
	if m.gate.readOnly {
		right = s.ReadOnly.Render("read-only") + " " + right
	}
	return ansi.Truncate(spread(left, right, m.width), m.width, "…")
}

// fit cuts or pads s to exactly h lines of at most w cells.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
