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
		}
		cmd = waitUpdate(msg.pair, msg.node, p.updates[msg.node])
	case feedClosedMsg:
		p := m.pairs[msg.pair]
		n := p.nodes[msg.node]
		n.closed = true
		p.timeline.add(n.name, msg.node, note{at: now, text: "feed ended", level: levelBad})
	case probeMsg:
		p := m.pairs[msg.pair]
		for _, nt := range p.probe.add(msg.s) {
			p.timeline.add("", -1, nt)
		}
		cmd = waitProbe(msg.pair, p.probeCh)
	case probeClosedMsg:
		m.pairs[msg.pair].probe.closed = true
	case tickMsg:
		cmd = tick(m.c.opts.Refresh)
	case selectPairMsg:
		m.setPair(int(msg))
		m.showPairs = false
	case ActionMsg:
		// A later version puts the action in a confirm state here.
		cmd = m.c.opts.Gate.Run(msg.Action)
	case ActionResultMsg:
		for _, p := range m.pairs {
			if p.name != msg.Action.Pair {
				continue
			}
			nt := note{at: now, text: string(msg.Action.Kind) + " done", level: levelWarn}
			if msg.Err != nil {
				nt = note{at: now, text: string(msg.Action.Kind) + " refused: " + msg.Err.Error(), level: levelBad}
			}
			p.timeline.add(msg.Action.Node, -1, nt)
		}
	}
	m.layout()
	return m, cmd
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Quit):
		return tea.Quit
	case key.Matches(msg, k.Help):
		m.help.ShowAll = !m.help.ShowAll
		return nil
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
	case key.Matches(msg, k.Fault, k.Resume):
		return m.action(msg)
	default:
		if f := m.focusables(); m.focus < len(f) {
			return f[m.focus].Update(msg)
		}
	}
	return nil
}

// action turns a guarded action's key into an ActionMsg for the focused
// node. The keys are disabled until a Gate runs actions.
func (m *Model) action(msg tea.KeyPressMsg) tea.Cmd {
	p := m.pair()
	if p == nil || m.focus >= len(p.nodes) {
		return nil
	}
	a := Action{Kind: ActionFault, Pair: p.name, Node: p.nodes[m.focus].name}
	if key.Matches(msg, m.c.keys.Resume) {
		a.Kind = ActionResume
	}
	return func() tea.Msg { return ActionMsg{Action: a} }
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
	timeline int // height
	body     int // height between the header and banners and the help
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
	if budget := avail - minTimeline; used > budget && len(f.rows) > 0 {
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
	f.timeline = max(avail-used, 0)
	p.timeline.SetSize(m.width, f.timeline)
	return f
}

func (m *Model) helpView() string {
	m.help.SetWidth(m.width)
	k := m.c.keys
	if m.help.ShowAll {
		return m.help.FullHelpView(k.FullHelp())
	}
	var b []key.Binding
	switch {
	case m.showPairs:
		b = append(m.list.ShortHelp(), k.Help, k.Quit)
	default:
		if f := m.focusables(); m.focus < len(f) {
			b = f[m.focus].ShortHelp()
		}
		b = append(b, k.NextFocus)
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
