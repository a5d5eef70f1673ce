package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	cfgcheck "github.com/vipkit/vip/ui/check"
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

	gate     gate        // the one way actions run
	drill    *drillState // nil without a drill
	hostKeys hostKeys    // host keys reconnects met, for the operator to trust

	width, height int
	cache         screenCache // the last screen drawn
	frame         frame       // the last layout's
	framed        bool        // frame is of the model as it is: render may use it
}

var _ tea.Model = (*Model)(nil)

// pairView is one pair's state and components.
type pairView struct {
	name, vip string
	cli       VipdCLI         // the vipd commands of its nodes
	feeds     []Feed          // per node
	updates   []<-chan Update // per node
	probeCh   <-chan ProbeSample

	nodes    []*nodeState
	cards    []*nodeCard
	probe    *probeState // nil when not probed
	pacer    ProbePacer  // the probe's, if it can be made dense
	lane     *vipLane
	timeline *timeline

	checkFn    ConfigCheck      // nil: not checked
	check      *cfgcheck.Report // the last check's, nil before the first
	checkFails int              // unreadable checks in a row
	checkWait  time.Duration    // until the next check, as scheduled
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
	m := &Model{c: c, help: help.New(), hostKeys: newHostKeys(), width: defaultWidth, height: defaultHeight}
	m.help.Styles = c.styles.Help
	for _, p := range pairs {
		pv := &pairView{name: p.Name, vip: p.VIP, cli: p.Vipd, checkFn: p.Check}
		var names []string
		for _, f := range p.Nodes {
			n := &nodeState{name: f.Node()}
			_, redial := f.(Reconnecter)
			pv.nodes = append(pv.nodes, n)
			pv.cards = append(pv.cards, newNodeCard(c, n, redial))
			pv.feeds = append(pv.feeds, f)
			pv.updates = append(pv.updates, f.Updates())
			names = append(names, n.name)
		}
		for _, card := range pv.cards {
			card.pair = pv.nodes
		}
		if p.Probe != nil {
			pv.probe = &probeState{window: opts.ProbeWindow}
			pv.probeCh = p.Probe.Updates()
			pv.pacer, _ = p.Probe.(ProbePacer)
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
		cmds = append(cmds, m.runCheck(i))
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
	quiet := m.quietPair(msg)
	var before shownMark
	var rolesBefore string
	if quiet >= 0 {
		before = m.mark()
	} else {
		rolesBefore = m.roles(msg)
	}
	now := m.c.now()
	m.sweep(now) // time alone may have made a node unknown
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
		m.observeNode(msg.pair, n.name, msg.u, now)
		for _, nt := range n.apply(msg.u, now) {
			p.timeline.add(n.name, msg.node, nt)
			m.observe(msg.pair, n.name, nt)
		}
		m.sweepPair(msg.pair, now)
		cmd = tea.Batch(waitUpdate(msg.pair, msg.node, p.updates[msg.node]), m.armFresh(msg.pair, msg.node, now), m.evaluate(), m.drillPoll())
	case frameMsg:
		m.cache.frameArmed = false
	case freshMsg:
		m.pairs[msg.pair].nodes[msg.node].freshArmed = false
		cmd = tea.Batch(m.armFresh(msg.pair, msg.node, now), m.evaluate())
	case feedClosedMsg:
		p := m.pairs[msg.pair]
		n := p.nodes[msg.node]
		n.closed = true
		m.sweepPair(msg.pair, now)
		nt := note{at: now, text: "feed ended", level: levelBad}
		p.timeline.add(n.name, msg.node, nt)
		m.observe(msg.pair, n.name, nt)
		cmd = m.evaluate()
	case probeMsg:
		p := m.pairs[msg.pair]
		for _, s := range append([]ProbeSample{msg.s}, msg.more...) {
			s = p.answeredBy(s)
			m.observeProbe(msg.pair, s)
			for _, nt := range p.probe.add(s) {
				p.timeline.add("", -1, nt)
				m.observe(msg.pair, "", nt)
			}
		}
		m.sweepPair(msg.pair, now)
		cmd = tea.Batch(waitProbe(msg.pair, p.probeCh), m.evaluate(), m.drillPoll())
	case probeClosedMsg:
		m.pairs[msg.pair].probe.closed = true
	case configCheckMsg:
		cmd = m.onCheck(msg, now)
	case configCheckDueMsg:
		cmd = m.runCheck(msg.pair)
	case tickMsg:
		cmd = tick(m.c.opts.Refresh)
	case selectPairMsg:
		m.setPair(int(msg))
		m.showPairs = false
	case ActionMsg:
		cmd = m.request(msg.Action, false)
	case drillActionMsg:
		cmd = m.request(msg.a, true)
	case actionResultMsg:
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
	case hostKeyMsg:
		cmd = m.onHostKey(msg.q)
	case auditFailedMsg:
		if p := m.pair(); p != nil {
			p.timeline.add("", -1, note{at: now, text: "audit log not written: " + msg.err.Error(), level: levelBad})
		}
	}
	if quiet >= 0 && m.mark().equal(before) {
		return m, cmd // nothing shown changed: the layout and the screen stand
	}
	if m.drawLater(msg, now) && m.roles(msg) == rolesBefore {
		return m, tea.Batch(cmd, m.armFrame(now))
	}
	m.cache.valid = false
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
	if m.hostKeys.shown() != nil {
		return m.hostKeyKey(msg) // so is everything here
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
	case key.Matches(msg, k.Reconnect) && m.pair() != nil && m.focus < len(m.pair().cards):
		return m.reconnect(m.cur, m.focus)
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
//
// The body's parts get their height in turns, so that at 80x24 every
// screen stays usable: first what each needs at the least (a confirmation
// its title, prompt and input line; the timeline its title and three
// events; each panel its name line), then the panels' first lines, then
// the rest of the region under the VIP line (a verdict, a running action,
// the drill), then the panels in full, and the timeline what is left. A
// confirmation comes before the panels' first lines and the timeline:
// it holds the state the operator decides on.
func (m *Model) layout() frame {
	m.frame, m.framed = m.lay(), true
	return m.frame
}

func (m *Model) lay() frame {
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
	f.banners = banners(m.c, p, m.width)
	f.body = m.height - headerHeight - len(f.banners) - lipgloss.Height(f.help)
	if m.showPairs {
		m.list.SetSize(m.width, f.body)
		return f
	}
	avail := max(f.body-vipLaneHeight, 0)
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
	var natural []int // per row
	for i := 0; i < len(p.cards); i += cols {
		row := p.cards[i:min(i+cols, len(p.cards))]
		h := 0
		for _, c := range row {
			h = max(h, c.Height())
		}
		f.rows, natural = append(f.rows, row), append(natural, h)
	}
	cardsAt := func(limit int) int {
		sum := 0
		for _, h := range natural {
			sum += min(h, limit)
		}
		return sum
	}

	confirming := m.gate.confirm != nil || m.hostKeys.shown() != nil
	panelNat := len(m.panel(1 << 16))
	panelMin, tlMin := min(panelNat, panelMinHeight), minTimeline
	if confirming {
		panelMin, tlMin = min(panelNat, confirmMinHeight), 0
	}
	left := avail
	give := func(want int) int {
		g := min(max(want, 0), left)
		left -= g
		return g
	}
	panelH := give(panelMin)
	cardsH := give(cardsAt(cardMinHeight))
	tl := give(tlMin)
	if confirming {
		panelH += give(panelNat - panelH)
		cardsH += give(cardsAt(cardCoreHeight) - cardsH)
		tl += give(minTimeline - tl)
	} else {
		cardsH += give(cardsAt(cardCoreHeight) - cardsH)
		panelH += give(panelNat - panelH)
	}
	cardsH += give(cardsAt(1<<16) - cardsH)
	if cardsH < cardsAt(cardMinHeight) {
		// Too short for even a name line each: the panels go, and what
		// they had goes to the timeline.
		f.rows, natural, left = nil, nil, left+cardsH
	}
	tl += left

	f.rowH = share(cardsH, natural, cardMinHeight)
	for i, row := range f.rows {
		for _, c := range row {
			c.SetSize(c.width, f.rowH[i]) // equal heights: a tidy row
		}
	}
	f.panel = m.panel(panelH)
	if len(f.panel) > panelH {
		f.panel = append(f.panel[:max(panelH-1, 0)], m.c.styles.Muted.Render("…"))[:panelH]
	}
	f.timeline = tl
	if f.timeline < 2 {
		f.timeline = 0 // a title alone says nothing
	}
	p.timeline.SetSize(m.width, f.timeline)
	return f
}

// Heights at which the body's parts are still of use.
const (
	cardMinHeight  = cardChromeLines + 1 // the border and the name line
	cardCoreHeight = cardChromeLines + 5 // and an instance, its VIP, adverts, nginx
	panelMinHeight = 2                   // a verdict's first line and "…"
)

// share splits total lines among rows that would take natural each: each
// gets lo (or its natural height, if less) first, then a line at a time in
// turn up to its natural height. Rows never get less than that first
// share, even if total is smaller: the screen is cut at its bottom then.
func share(total int, natural []int, lo int) []int {
	h := make([]int, len(natural))
	for i, n := range natural {
		h[i] = min(n, lo)
		total -= h[i]
	}
	for total > 0 {
		grew := false
		for i := range h {
			if total > 0 && h[i] < natural[i] {
				h[i]++
				total--
				grew = true
			}
		}
		if !grew {
			break
		}
	}
	return h
}

// panel is what the region under the VIP line shows above the timeline: a
// confirmation, the drill, or the running action or last verdict; maxH is
// the room it has. A confirmation fits itself to maxH, keeping its prompt;
// the rest may be longer, and are cut.
func (m *Model) panel(maxH int) []string {
	switch {
	case m.gate.confirm != nil:
		return m.confirmLines(m.width, maxH)
	case m.hostKeys.shown() != nil:
		return m.hostKeyLines(m.width, maxH)
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
		full := k.FullHelp()
		if m.gate.readOnly || m.gate.exec == nil {
			full = slices.DeleteFunc(full, func(col []key.Binding) bool { // the actions' column: every one would be refused
				return len(col) > 0 && col[0].Help() == k.FailNginx.Help()
			})
		}
		if d := m.checkDetails(); d != "" {
			return m.fullHelpView(full) + "\n" + d
		}
		return m.fullHelpView(full)
	}
	var b []key.Binding
	switch {
	case m.gate.confirm != nil:
		b = []key.Binding{withHelp(k.Select, "confirm"), withHelp(k.Back, "cancel")}
	case m.hostKeys.shown() != nil:
		b = []key.Binding{withHelp(k.Select, "answer"), withHelp(k.Back, "refuse")}
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
		if !m.gate.readOnly && m.gate.exec != nil {
			b = append(b, k.Actions) // a read-only console has none
		}
		b = append(b, k.NextFocus)
		if len(m.pairs) > 1 {
			b = append(b, k.Pairs, k.PrevPair, k.NextPair)
		}
		b = append(b, k.Help, k.Quit)
	}
	return m.shortHelpView(b)
}

// shortHelpView is the help bar of b, whose last two (help, quit) always
// show: the others go from the end until the bar fits the width, where the
// help bubble would cut its end off.
func (m *Model) shortHelpView(b []key.Binding) string {
	w := m.help.Width()
	m.help.SetWidth(0) // measure uncut
	defer m.help.SetWidth(w)
	for len(b) > 2 && lipgloss.Width(m.help.ShortHelpView(b)) > w {
		b = slices.Delete(b, len(b)-3, len(b)-2)
	}
	m.help.SetWidth(w)
	return m.help.ShortHelpView(b)
}

// fullHelpView lays the help's columns side by side while they fit the
// width, and goes on in a row of columns below when they do not: the help
// bubble would cut the columns beyond the width.
func (m *Model) fullHelpView(groups [][]key.Binding) string {
	const gap = "    "
	var rows, row []string
	rowW := 0
	flush := func() {
		if len(row) > 0 {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, row...))
		}
		row, rowW = nil, 0
	}
	for _, g := range groups {
		col := m.help.FullHelpView([][]key.Binding{g})
		if col == "" {
			continue
		}
		w := lipgloss.Width(col)
		if len(row) > 0 && rowW+len(gap)+w > m.width {
			flush()
		}
		if len(row) > 0 {
			row, rowW = append(row, gap), rowW+len(gap)
		}
		row, rowW = append(row, col), rowW+w
	}
	flush()
	return strings.Join(rows, "\n")
}

// View draws the screen: header, banners, panels, VIP line, timeline and
// help, exactly width x height.
func (m *Model) View() tea.View {
	v := tea.NewView(m.screen())
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
	f := m.frame
	if !m.framed {
		f = m.layout()
	}
	m.framed = false // the cards' lines it measured are used up
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
			lvl, _ := pairHealth(p.nodes, p.probe, p.vip)
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
