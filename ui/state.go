package ui

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ssh"
)

// nodeState is what the console knows about one node.
type nodeState struct {
	name string

	conn      ssh.State
	connKnown bool // a Conn arrived; feeds without SSH never send one

	status   *control.Status
	statusAt time.Time // console clock when status (or its snapshot) arrived
	// vipUnknown holds the instances whose vip_present predates their last
	// transition: only the next status says whether the VIP followed.
	vipUnknown map[string]bool

	err    error // why the stream or poll failed; cleared by a status
	closed bool  // the feed ended

	// version counts changes of what an operator decides an action on
	// (link, vipd's word, roles, VIPs, guard verdicts), not counters: the
	// gate refuses an action confirmed on an older version.
	version uint64
	fp      string // the fingerprint version was counted on

	// recovered is when vipd's guard last brought nginx back (a restart
	// re-check passed), on the node's clock; recoveredAt and nginxOKAt
	// are when the console heard of that and of the last passing nginx
	// check, on its own clock, which post-checks compare with.
	recovered   time.Time
	recoveredAt time.Time
	nginxOKAt   time.Time
}

// bump counts a new version if the fingerprint changed.
func (n *nodeState) bump() {
	if fp := n.fingerprint(); fp != n.fp {
		n.fp = fp
		n.version++
	}
}

// fingerprint is what version counts changes of.
func (n *nodeState) fingerprint() string {
	var b strings.Builder
	fmt.Fprintf(&b, "link=%v err=%v closed=%v status=%v", n.connected(), n.err != nil, n.closed, n.status != nil)
	if n.status == nil {
		return b.String()
	}
	for _, in := range n.status.Instances {
		fmt.Fprintf(&b, " %s=%s/%v/%v/%v", in.Name, in.State, in.VIPPresent, n.vipUnknown[in.Name], in.EffectivePriority == 0)
	}
	if g := n.status.Nginx; g != nil {
		fmt.Fprintf(&b, " nginx=%s", g.Verdict)
	}
	for _, g := range n.status.Scripts {
		fmt.Fprintf(&b, " %s=%s", g.Name, g.Verdict)
	}
	return b.String()
}

// connected reports whether the link is up (or not reported at all).
func (n *nodeState) connected() bool { return !n.connKnown || n.conn.Connected }

// live reports whether what the console shows of the node is current: a
// node that is not live is left out of split-brain and no-master verdicts.
func (n *nodeState) live() bool {
	return n.connected() && n.err == nil && n.status != nil && !n.closed
}

func (n *nodeState) instance(name string) *control.Instance {
	if n.status == nil {
		return nil
	}
	for i := range n.status.Instances {
		if n.status.Instances[i].Name == name {
			return &n.status.Instances[i]
		}
	}
	return nil
}

func (n *nodeState) guard(name string) *control.Guard {
	if n.status == nil {
		return nil
	}
	if name == "nginx" {
		if n.status.Nginx == nil {
			n.status.Nginx = &control.Guard{Name: name, Verdict: control.VerdictUnknown}
		}
		return n.status.Nginx
	}
	for i := range n.status.Scripts {
		if n.status.Scripts[i].Name == name {
			return &n.status.Scripts[i]
		}
	}
	n.status.Scripts = append(n.status.Scripts, control.Guard{Name: name, Verdict: control.VerdictUnknown})
	return &n.status.Scripts[len(n.status.Scripts)-1]
}

// setStatus replaces what is known of the node by a full document.
func (n *nodeState) setStatus(s *control.Status, now time.Time) {
	c := *s
	c.Instances = slices.Clone(s.Instances)
	c.Scripts = slices.Clone(s.Scripts)
	if s.Nginx != nil {
		g := *s.Nginx
		c.Nginx = &g
	}
	n.status = &c
	n.statusAt = now
	n.vipUnknown = nil
	n.err = nil
}

// note is a timeline entry before it is placed.
type note struct {
	at    time.Time
	text  string
	level level
	role  control.State // for transitions: styled in the role's colour
}

// apply applies an Update and returns what the timeline should show.
func (n *nodeState) apply(u Update, now time.Time) []note {
	var notes []note
	if u.Conn != nil {
		notes = append(notes, n.applyConn(*u.Conn, now)...)
	}
	if u.Status != nil {
		n.setStatus(u.Status, now)
	}
	if u.Event != nil {
		notes = append(notes, n.applyEvent(u.Event, now)...)
	}
	if u.Err != nil {
		if n.err == nil || n.err.Error() != u.Err.Error() {
			text := shortErr(u.Err)
			if d := diagnose(u.Err); d.title != "" {
				text = d.title + ": " + text
			}
			notes = append(notes, note{at: now, text: text, level: levelBad})
		}
		n.err = u.Err
	}
	return notes
}

func (n *nodeState) applyConn(s ssh.State, now time.Time) []note {
	prev, known := n.conn, n.connKnown
	n.conn, n.connKnown = s, true
	at := s.Since
	if at.IsZero() {
		at = now
	}
	switch {
	case s.Connected && (!known || !prev.Connected):
		return []note{{at: at, text: "connected", level: levelGood}}
	case !s.Connected && (!known || prev.Connected):
		text := "disconnected"
		if s.LastErr != nil {
			text += ": " + shortErr(s.LastErr)
		}
		return []note{{at: at, text: text, level: levelBad}}
	case !s.Connected && errText(s.LastErr) != errText(prev.LastErr):
		// Retries that fail the same way only update the panel.
		return []note{{at: now, text: "still disconnected: " + shortErr(s.LastErr), level: levelWarn}}
	}
	return nil
}

// shortErr is an error for one line of the timeline: the host-key warning
// is a paragraph, which the node's panel shows in full.
func shortErr(err error) string {
	var changed *ssh.HostKeyChangedError
	if errors.As(err, &changed) {
		return "host key changed for " + changed.Host + " (see its panel)"
	}
	return errText(err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (n *nodeState) applyEvent(ev *control.Event, now time.Time) []note {
	at := ev.Time
	if at.IsZero() {
		at = now
	}
	prefix := ""
	if ev.Instance != "" {
		prefix = ev.Instance + " "
	}
	switch ev.Type {
	case control.EventSnapshot:
		if ev.Snapshot == nil {
			return nil
		}
		n.setStatus(ev.Snapshot, now)
		text := "watching vipd"
		if v := ev.Snapshot.VipdVersion; v != "" {
			text += " " + v
		}
		for _, in := range ev.Snapshot.Instances {
			text += fmt.Sprintf(", %s %s", in.Name, in.State)
		}
		return []note{{at: at, text: text, level: levelMuted}}

	case control.EventTransition:
		if in := n.instance(ev.Instance); in != nil {
			applyTransition(in, ev)
			if n.vipUnknown == nil {
				n.vipUnknown = make(map[string]bool)
			}
			n.vipUnknown[ev.Instance] = true
		}
		text := fmt.Sprintf("%s%s -> %s", prefix, ev.From, ev.To)
		if ev.Reason != "" {
			text += ": " + ev.Reason
		}
		lvl := levelInfo
		if ev.To == control.StateFault {
			lvl = levelBad
		}
		return []note{{at: at, text: text, level: lvl, role: ev.To}}

	case control.EventCheck:
		if ev.Check == nil {
			return nil
		}
		if g := n.guard(ev.Guard); g != nil {
			applyCheck(g, *ev.Check)
		}
		if ev.Guard == "nginx" && ev.Check.OK {
			n.nginxOKAt = now
			if ev.Check.Phase == control.PhaseRestart {
				n.recovered, n.recoveredAt = ev.Check.Time, now
			}
		}
		if ev.Check.OK {
			return nil // a passing check every few seconds is noise
		}
		return []note{{at: at, text: fmt.Sprintf("%s check failed: %s", ev.Guard, ev.Check.Error), level: levelWarn}}

	case control.EventVerdict:
		if g := n.guard(ev.Guard); g != nil {
			g.Verdict, g.Healthy, g.Since = ev.Verdict, ev.Verdict == control.VerdictHealthy, at
			g.Reason = ev.Reason
		}
		text := fmt.Sprintf("%s %s", ev.Guard, ev.Verdict)
		if ev.Reason != "" {
			text += ": " + ev.Reason
		}
		lvl := levelGood
		if ev.Verdict != control.VerdictHealthy {
			lvl = levelBad
		}
		return []note{{at: at, text: text, level: lvl}}

	case control.EventAction:
		target := ev.Instance
		if target == "" {
			target = "all instances"
		}
		text := fmt.Sprintf("%s %s requested", ev.Action, target)
		if ev.By != "" {
			text += " by " + ev.By
		}
		if ev.Reason != "" {
			text += ": " + ev.Reason
		}
		return []note{{at: at, text: text, level: levelWarn}}

	case control.EventNotify:
		if ev.Notify == nil {
			return nil
		}
		nt := ev.Notify
		text := fmt.Sprintf("%s%s exit %d (%s)", prefix, nt.Hook, nt.Exit, fmtDur(nt.Duration.Duration()))
		lvl := levelMuted
		if nt.Error != "" || nt.Exit != 0 {
			text = fmt.Sprintf("%s%s failed: exit %d %s", prefix, nt.Hook, nt.Exit, nt.Error)
			lvl = levelWarn
		}
		return []note{{at: at, text: strings.TrimSpace(text), level: lvl}}

	case control.EventError:
		return []note{{at: at, text: "vipd: " + ev.Error, level: levelBad}}
	}
	return nil // a type this console does not know: skip it, as the contract asks
}

// applyTransition brings an instance up to date with a transition until
// the next status says more.
func applyTransition(in *control.Instance, ev *control.Event) {
	in.State = ev.To
	in.LastTransition = ev.Time
	in.Transitions++
	if ev.Master.IsValid() {
		in.Master = ev.Master
	} else if ev.To != control.StateBackup {
		in.Master = netip.Addr{}
	}
	switch ev.To {
	case control.StateFault, control.StateInit:
		in.EffectivePriority = 0
		in.FaultReason = ""
		if ev.To == control.StateFault {
			in.FaultReason = ev.Reason
		}
	default:
		in.FaultReason = ""
		if in.EffectivePriority == 0 {
			in.EffectivePriority = in.BasePriority
		}
	}
	if ev.To == control.StateMaster {
		in.Stats.BecomeMaster++
	}
	if ev.From == control.StateMaster {
		in.Stats.ReleaseMaster++
	}
}

func applyCheck(g *control.Guard, c control.Check) {
	g.LastCheck, g.Latency = c.Time, c.Latency
	if !c.OK {
		g.LastError, g.LastErrorTime = c.Error, c.Time
	}
	if c.Phase == control.PhaseCheck || c.Phase == "" {
		g.Checks++
	}
	g.History = append(g.History, c)
	if len(g.History) > 10 {
		g.History = g.History[len(g.History)-10:]
	}
}

// diagnosis is what the console makes of a node's error.
type diagnosis struct {
	title  string // "vipd missing or too old"; "" when the error says it all
	detail string // the error, shortened where it is a paragraph
	remedy string // what to do
}

// diagnose names the usual failures and says what to do about them.
func diagnose(err error) diagnosis {
	var (
		version *control.VersionError
		remote  *control.RemoteError
		changed *ssh.HostKeyChangedError
		exit    *ssh.ExitError
	)
	d := diagnosis{detail: err.Error()}
	switch {
	case errors.As(err, &changed):
		d.title = "HOST KEY CHANGED"
		d.detail = fmt.Sprintf("%s presented %s %s, not the key in", changed.Host, changed.Type, changed.Fingerprint)
		for _, k := range changed.Offending {
			d.detail += fmt.Sprintf(" %s:%d", k.File, k.Line)
		}
		d.detail += ": the host was reinstalled, or someone is in the middle"
		d.remedy = "if the change is expected, run " + changed.Remedy() + " and reconnect"
	case errors.Is(err, ssh.ErrHostKeyUnknown):
		d.title = "host key not trusted"
		d.remedy = "connect once with ssh(1) and check the fingerprint, or confirm it here on reconnect"
	case errors.As(err, &version):
		if version.Got > version.Want {
			d.title = "console too old"
			d.remedy = fmt.Sprintf("upgrade vipctl to one that speaks contract %d", version.Got)
		} else {
			d.title = "vipd missing or too old"
			d.remedy = fmt.Sprintf("install or upgrade vipd on this node (contract %d)", version.Want)
		}
	case errors.Is(err, ssh.ErrSudoPassword):
		d.title = "sudo wants a password"
		d.remedy = "allow vipd with NOPASSWD in sudoers for the login user, or log in as root"
	case errors.Is(err, ssh.ErrSudoDenied):
		d.title = "sudo denied"
		d.remedy = "allow the login user to run vipd in sudoers"
	case errors.As(err, &exit) && exit.Status == 127:
		d.title = "vipd missing or too old"
		d.remedy = "install vipd on this node, in the login user's PATH"
	case errors.As(err, &remote):
		d.title = "vipd refused"
		d.remedy = "see vipd's log on this node (journalctl -u vipd)"
	case errors.Is(err, ssh.ErrConnLost), errors.Is(err, ssh.ErrDisconnected):
		d.remedy = "reconnecting; check the node is up and sshd answers"
	default:
		d.title = "stream failed"
		d.remedy = "retrying; if it persists, run vipd status on the node"
	}
	return d
}

// probeState keeps a pair's latest probe samples.
type probeState struct {
	window  int
	samples []ProbeSample // the latest, oldest first, at most window
	closed  bool
	failRun int // failures in a row
	lastOK  string

	// Answers that alternate between nodes (split brain, ARP flapping)
	// would flood the timeline: one change is noted per flapQuiet, with
	// the count of those in between.
	lastChange time.Time
	unnoted    int
}

const flapQuiet = 5 * time.Second

// add records s and returns what the timeline should show: a change of the
// node that answers, the start and the end of a run of failures.
func (p *probeState) add(s ProbeSample) []note {
	p.samples = append(p.samples, s)
	if len(p.samples) > p.window {
		p.samples = slices.Delete(p.samples, 0, len(p.samples)-p.window)
	}
	var notes []note
	if !s.OK {
		p.failRun++
		if p.failRun == 1 {
			notes = append(notes, note{at: s.Time, text: "probe failing: " + errText(s.Err), level: levelBad})
		}
		return notes
	}
	if p.failRun > 0 {
		notes = append(notes, note{at: s.Time, text: fmt.Sprintf("probe answered again after %d failures", p.failRun), level: levelGood})
	}
	p.failRun = 0
	if s.Backend != p.lastOK {
		switch {
		case p.lastOK == "":
		case !p.lastChange.IsZero() && s.Time.Sub(p.lastChange) < flapQuiet:
			p.unnoted++
		default:
			text := fmt.Sprintf("VIP now answered by %s (was %s)", s.Backend, p.lastOK)
			if p.unnoted > 0 {
				text += fmt.Sprintf("; %d more changes before", p.unnoted)
			}
			notes = append(notes, note{at: s.Time, text: text, level: levelWarn})
			p.lastChange, p.unnoted = s.Time, 0
		}
		p.lastOK = s.Backend
	}
	return notes
}

// probeSummary is what the VIP line shows of the probe.
type probeSummary struct {
	n, ok    int
	backends map[string]int // answers by node over the window
	last     ProbeSample
}

func (p *probeState) summary() (probeSummary, bool) {
	if len(p.samples) == 0 {
		return probeSummary{}, false
	}
	s := probeSummary{n: len(p.samples), backends: make(map[string]int), last: p.samples[len(p.samples)-1]}
	for _, x := range p.samples {
		if x.OK {
			s.ok++
			s.backends[x.Backend]++
		}
	}
	return s, true
}

// instanceHealth is the verdict on one VRRP instance across a pair.
type instanceHealth struct {
	name    string
	masters []string // live nodes in MASTER
	holders []string // live nodes holding its VIPs
	vips    []string
	allLive bool
}

func (h instanceHealth) splitBrain() bool { return len(h.masters) > 1 || len(h.holders) > 1 }

// noMaster needs every node live: a node we cannot see may be the master.
func (h instanceHealth) noMaster() bool {
	return h.allLive && len(h.masters) == 0 && len(h.holders) == 0
}

// analyze judges every instance any live node knows, in configuration
// order.
func analyze(nodes []*nodeState) []instanceHealth {
	var out []instanceHealth
	index := map[string]int{}
	allLive := len(nodes) > 0
	for _, n := range nodes {
		allLive = allLive && n.live()
	}
	for _, n := range nodes {
		if !n.live() {
			continue
		}
		for _, in := range n.status.Instances {
			i, ok := index[in.Name]
			if !ok {
				i = len(out)
				index[in.Name] = i
				out = append(out, instanceHealth{name: in.Name, vips: in.VIPs, allLive: allLive})
			}
			h := &out[i]
			if in.State == control.StateMaster {
				h.masters = append(h.masters, n.name)
			}
			if in.VIPPresent && !n.vipUnknown[in.Name] {
				h.holders = append(h.holders, n.name)
			}
		}
	}
	return out
}

// pairHealth grades a pair for its tab and the list of pairs.
func pairHealth(nodes []*nodeState, probe *probeState) (level, string) {
	lvl, why := levelGood, "ok"
	for _, h := range analyze(nodes) {
		switch {
		case h.splitBrain():
			return levelBad, "SPLIT BRAIN " + h.name
		case h.noMaster():
			lvl, why = levelBad, "NO MASTER "+h.name
		}
	}
	if lvl == levelBad {
		return lvl, why
	}
	for _, n := range nodes {
		if !n.live() {
			return levelWarn, n.name + " down"
		}
	}
	if probe != nil && probe.failRun > 0 {
		return levelWarn, "probe failing"
	}
	return lvl, why
}

// vipMatches reports whether vip ("198.51.100.100") is one of vips
// (configured as "198.51.100.100/24").
func vipMatches(vips []string, vip string) bool {
	for _, v := range vips {
		if addr, _, _ := strings.Cut(v, "/"); addr == vip || v == vip {
			return true
		}
	}
	return false
}

func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
