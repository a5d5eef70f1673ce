package ui

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
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

	err error // why the stream or poll failed; cleared by a status
	// keepalived: the node runs keepalived (read without an agent), as
	// its last status or error said; it stays so while keepalived is
	// stopped.
	keepalived bool
	closed     bool // the feed ended

	fresh      freshness
	freshArmed bool // a freshMsg is on its way

	// holdSince is, by instance, when the status that first showed its
	// VIPs present since they were last absent or unknown was taken
	// (freshness.taken): another node whose last status was taken before
	// it cannot still be known to hold them (superseded), however late
	// that status arrived.
	holdSince map[string]time.Time
	// superseded names the node that took the VIP after this node's
	// last status, and when: set by sweep.
	superseded   string
	supersededAt time.Time
	unknownNoted bool // the timeline says it is unknown

	// version counts changes of what an operator decides an action on
	// (link, vipd's word, roles, VIPs, guard verdicts), not counters: the
	// gate refuses an action confirmed on an older version.
	version uint64
	fp      string // the fingerprint version was counted on
	fpBuf   []byte // the last fingerprint's bytes, reused

	// recovered is when vipd's guard last brought nginx back (a restart
	// re-check passed), on the node's clock; recoveredAt and nginxOKAt
	// are when the console heard of that and of the last passing nginx
	// check, on its own clock, which post-checks compare with.
	recovered   time.Time
	recoveredAt time.Time
	nginxOKAt   time.Time
}

// bump counts a new version if the fingerprint changed. It runs for
// every node on every message (sweep): the fingerprint is appended to a
// buffer kept for the next one, and a string made only when it changed.
func (n *nodeState) bump() {
	n.fpBuf = n.appendFingerprint(n.fpBuf[:0])
	if string(n.fpBuf) != n.fp {
		n.fp = string(n.fpBuf)
		n.version++
	}
}

// appendFingerprint appends what version counts changes of.
func (n *nodeState) appendFingerprint(b []byte) []byte {
	b = append(b, "link="...)
	b = strconv.AppendBool(b, n.connected())
	b = append(b, " err="...)
	b = strconv.AppendBool(b, n.err != nil)
	b = append(b, " closed="...)
	b = strconv.AppendBool(b, n.closed)
	b = append(b, " status="...)
	b = strconv.AppendBool(b, n.status != nil)
	b = append(b, " live="...)
	b = strconv.AppendBool(b, n.live())
	if n.status == nil {
		return b
	}
	for _, in := range n.status.Instances {
		b = append(b, ' ')
		b = append(b, in.Name...)
		b = append(b, '=')
		b = append(b, in.State...)
		b = append(b, '/')
		b = strconv.AppendBool(b, in.VIPPresent)
		b = append(b, '/')
		b = strconv.AppendBool(b, n.vipUnknown[in.Name])
		b = append(b, '/')
		b = strconv.AppendBool(b, in.EffectivePriority == 0)
	}
	if g := n.status.Nginx; g != nil {
		b = append(b, " nginx="...)
		b = append(b, g.Verdict...)
	}
	for _, g := range n.status.Scripts {
		b = append(b, ' ')
		b = append(b, g.Name...)
		b = append(b, '=')
		b = append(b, g.Verdict...)
	}
	return b
}

// isKeepalived says whether a node runs keepalived from its new status
// (keepalived's version line, as the keepalived feed sets it) or error,
// else as it was.
func isKeepalived(st *control.Status, err error, was bool) bool {
	switch {
	case st != nil:
		return strings.HasPrefix(st.VipdVersion, "Keepalived")
	case errors.Is(err, ErrKeepalivedStopped), errors.Is(err, ErrKeepalivedUnreadable):
		return true
	case errors.Is(err, ErrVipdStopped):
		return false
	}
	return was
}

// connected reports whether the link is up (or not reported at all).
func (n *nodeState) connected() bool { return !n.connKnown || n.conn.Connected }

// live reports whether what the console shows of the node is current: its
// link up, its stream unbroken, its last word recent (sweep), and no other
// node known to have taken its VIP since. A node that is not live is shown
// as unknown, with its last known state labelled so, and is left out of
// pair health, banners and the gate's checks.
func (n *nodeState) live() bool {
	return n.reporting() && !n.fresh.silent && n.superseded == ""
}

// reporting is live without the judgements of time: the link and the
// stream are up and a status arrived.
func (n *nodeState) reporting() bool {
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
	for _, in := range c.Instances {
		switch {
		case !in.VIPPresent:
			delete(n.holdSince, in.Name)
		case n.holdSince[in.Name].IsZero():
			if n.holdSince == nil {
				n.holdSince = make(map[string]time.Time)
			}
			n.holdSince[in.Name] = n.fresh.taken(s.Time, now)
		}
	}
}

// note is a timeline entry before it is placed.
type note struct {
	at    time.Time
	text  string
	level level
	role  control.State // for transitions: styled in the role's colour
	// keep marks what must not drop out of the timeline: transitions,
	// verdicts and operator actions.
	keep bool
}

// apply applies an Update and returns what the timeline should show.
func (n *nodeState) apply(u Update, now time.Time) []note {
	var notes []note
	if u.Conn != nil {
		notes = append(notes, n.applyConn(*u.Conn, now)...)
	}
	if u.Status != nil {
		notes = append(notes, n.fresh.word(u.Status.Time, now, true)...)
		n.setStatus(u.Status, now)
	}
	st := u.Status
	if u.Event != nil && u.Event.Type == control.EventSnapshot {
		st = u.Event.Snapshot
	}
	n.keepalived = isKeepalived(st, u.Err, n.keepalived)
	if u.Event != nil {
		if u.Event.Type == control.EventSnapshot {
			n.fresh.restart(u.StatusEvery)
		}
		at, status := u.Event.Time, false
		if st := u.Event.Snapshot; u.Event.Type == control.EventSnapshot && st != nil {
			at, status = st.Time, true
		}
		notes = append(notes, n.fresh.word(at, now, status)...)
		notes = append(notes, n.applyEvent(u.Event, now)...)
	}
	if u.Err != nil {
		if n.err == nil || n.err.Error() != u.Err.Error() {
			text := shortErr(u.Err)
			if d := diagnose(u.Err); d.title != "" && !strings.HasPrefix(text, d.title) {
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
		return []note{{at: at, text: "connected", level: levelGood, keep: true}} // the link's transitions stay
	case !s.Connected && (!known || prev.Connected):
		text := "disconnected"
		if s.LastErr != nil {
			text += ": " + shortErr(s.LastErr)
		}
		return []note{{at: at, text: text, level: levelBad, keep: true}}
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
	at := n.fresh.local(ev.Time)
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
		n.holdSince = nil // unseen since the last stream: a new tenure
		n.setStatus(ev.Snapshot, now)
		text := "watching vipd"
		if v := ev.Snapshot.VipdVersion; strings.HasPrefix(v, "Keepalived") {
			text = "watching " + v + " (no agent)"
		} else if v != "" {
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
			delete(n.holdSince, ev.Instance) // the next status starts a new tenure
		}
		text := fmt.Sprintf("%s%s -> %s", prefix, ev.From, ev.To)
		if ev.Reason != "" {
			text += ": " + ev.Reason
		}
		lvl := levelInfo
		if ev.To == control.StateFault {
			lvl = levelBad
		}
		return []note{{at: at, text: text, level: lvl, role: ev.To, keep: true}}

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
		why := ev.Check.Error
		if g := n.guard(ev.Guard); g != nil && g.URL != "" {
			why = strings.TrimPrefix(why, "GET "+g.URL+": ") // the panel names the URL: the line keeps to what failed
		}
		return []note{{at: at, text: fmt.Sprintf("%s check failed: %s", ev.Guard, why), level: levelWarn}}

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
		return []note{{at: at, text: text, level: lvl, keep: true}}

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
		return []note{{at: at, text: text, level: levelWarn, keep: true}}

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
	// reconnect, if set, says what reconnecting then does: the remedy
	// ends with the reconnect key (remedyText).
	reconnect string
}

// remedyText is the remedy, ending with the key that reconnects (key;
// "" when the node's feed cannot reconnect).
func (d diagnosis) remedyText(key string) string {
	if d.reconnect == "" {
		return d.remedy
	}
	how := "reconnect" + d.reconnect
	if key != "" {
		how = "press " + key + " to " + how
	}
	if d.remedy == "" {
		return how
	}
	return d.remedy + ", then " + how
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
		d.remedy = "if the change is expected, run " + changed.Remedy()
		d.reconnect = " and check the new key's fingerprint"
	case errors.Is(err, ErrKeepalivedStopped):
		d.title = "keepalived stopped"
		if rest, ok := strings.CutPrefix(d.detail, "keepalived stopped on "); ok {
			if _, evidence, ok := strings.Cut(rest, ": "); ok {
				d.detail = evidence
			}
		}
		d.remedy = "start keepalived on the node (systemctl start keepalived); the console sees it back by itself"
	case errors.Is(err, ErrKeepalivedUnreadable):
		d.title = "keepalived unreadable"
		d.remedy = "the console keeps reading; fix what the detail names on the node"
	case errors.Is(err, ErrNoDaemon):
		d.title = "no vipd, no keepalived"
		d.remedy = "start vipd or keepalived on the node; the console finds either by itself"
	case errors.Is(err, ErrVipdStopped):
		d.title = "vipd stopped"
		if rest, ok := strings.CutPrefix(d.detail, "vipd stopped on "); ok {
			if _, evidence, ok := strings.Cut(rest, ": "); ok {
				d.detail = evidence // the title says the rest
			}
		}
		d.remedy = "start vipd on the node (systemctl start vipd); the console sees it back by itself"
	case errors.Is(err, ErrWatchEnded):
		d.title = "vipd ended the watch"
		d.remedy = "watching again, which says whether vipd runs"
	case errors.Is(err, ErrUnreadable):
		d.title = "unreadable output"
		d.remedy = "the console watches again; if it persists, check what prints into SSH sessions on the node (banners, shell rc files)"
	case errors.Is(err, ssh.ErrHostKeyUnknown):
		d.title = "host key not trusted"
		d.detail = strings.Replace(d.detail, ssh.ErrHostKeyUnknown.Error()+": ", "", 1) // the title says it
		d.reconnect = ": it shows the key's fingerprint to check and trust"
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
		d.reconnect = " now"
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

	// turns are the nodes that answered in turn within the last
	// probeTurns (sweep): split-brain evidence independent of the
	// nodes' word, when answers alternate (A, B, A).
	turns []string
}

const (
	flapQuiet = 5 * time.Second
	// probeTurns is how recent alternating answers must be to count.
	probeTurns = time.Second
)

// sweep finds, at now, the nodes that answered in turn lately: at least
// two changes of the answering node among the answers of the last
// probeTurns. One change is a failover.
func (p *probeState) sweep(now time.Time) {
	p.turns = nil
	var last string
	changes := 0
	seen := map[string]bool{}
	for _, s := range p.samples {
		if !s.OK || s.Backend == "" || now.Sub(s.Time) > probeTurns {
			continue
		}
		if last != "" && s.Backend != last {
			changes++
		}
		last = s.Backend
		seen[s.Backend] = true
	}
	if changes >= 2 {
		p.turns = slices.Sorted(maps.Keys(seen))
	}
}

// add records s and returns what the timeline should show: a change of the
// node that answers, the start and the end of a run of failures.
func (p *probeState) add(s ProbeSample) []note {
	if s.FollowUp {
		return nil // the action's meter takes it; here its request counted as it was
	}
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
	if s.Backend != "" && s.Backend != p.lastOK { // an unknown answer changes nothing known
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
			if x.Backend != "" {
				s.backends[x.Backend]++
			}
		}
	}
	return s, true
}

// sweep judges the freshness of a pair's nodes at now: which are silent,
// and which are superseded (their last status, saying they hold a VIP,
// was taken before another node's status showing it taking it: on a paced
// stream, a node still holding would have said so since). It counts new
// versions. It returns what the timeline should show, by node index: a reporting
// node turning unknown, and current again.
func sweep(nodes []*nodeState, now time.Time) map[int]note {
	for _, n := range nodes {
		n.fresh.sweep(now)
	}
	for _, n := range nodes {
		n.superseded, n.supersededAt = "", time.Time{}
		if !n.fresh.paced() || !n.reporting() || n.fresh.silent {
			continue
		}
		for _, in := range n.status.Instances {
			if !in.VIPPresent || n.vipUnknown[in.Name] {
				continue
			}
			for _, m := range nodes {
				if m == n || !m.holding(in.Name) {
					continue
				}
				if since := m.holdSince[in.Name]; since.After(n.fresh.statusTaken) && since.After(n.supersededAt) {
					n.superseded, n.supersededAt = m.name, since
				}
			}
		}
	}
	notes := map[int]note{}
	for i, n := range nodes {
		n.bump()
		unknown := n.reporting() && !n.live()
		switch {
		case !n.reporting():
			// The link or the stream broke: their own notes say so.
		case unknown && !n.unknownNoted:
			notes[i] = n.unknownNote(now)
		case !unknown && n.unknownNoted:
			notes[i] = note{at: now, text: "reporting on time again", level: levelGood}
		}
		n.unknownNoted = unknown
	}
	return notes
}

// unknownNote says why a reporting node is unknown.
func (n *nodeState) unknownNote(now time.Time) note {
	f := &n.fresh
	switch {
	case n.superseded != "":
		return note{at: n.supersededAt, text: "unknown: " + n.superseded + " took the VIP after this node's last status", level: levelWarn}
	case f.late > 0:
		return note{at: now, text: "unknown: its reports arrive " + fmtDur(f.late) + " late", level: levelWarn}
	}
	return note{at: f.heard.Add(f.window()), text: "unknown: no word from vipd for " + fmtDur(f.window()), level: levelWarn}
}

// holding reports whether n's current word (reporting, not silent) is
// that it holds instance's VIPs, confirmed by a status.
func (n *nodeState) holding(instance string) bool {
	if !n.reporting() || n.fresh.silent {
		return false
	}
	in := n.instance(instance)
	return in != nil && in.VIPPresent && !n.vipUnknown[instance]
}

// instanceHealth is the verdict on one VRRP instance across a pair.
type instanceHealth struct {
	name    string
	masters []string // live nodes in MASTER
	holders []string // live nodes holding its VIPs
	vips    []string
	allLive bool
	// answering are the nodes the probe heard answer in turn, when
	// answers alternated between nodes (probeState.turns) while some
	// node's word is not current.
	answering []string
}

// splitBrain needs current evidence from both sides: two live nodes whose
// statuses say they hold the VIP (live: neither is silent nor has been
// superseded by the other since), or answers that alternate between
// nodes. Two MASTER claims alone are no split brain: a node that has just
// taken over shows MASTER before its status confirms the VIP, while the
// one it replaced may be the one that is gone.
func (h instanceHealth) splitBrain() bool { return len(h.holders) > 1 || len(h.answering) > 1 }

// noMaster needs every node live: a node we cannot see may be the master.
func (h instanceHealth) noMaster() bool {
	return h.allLive && len(h.masters) == 0 && len(h.holders) == 0
}

// analyze judges every instance any live node knows, in configuration
// order. probe may be nil; its alternating answers count for the
// instance that carries vip.
func analyze(nodes []*nodeState, probe *probeState, vip string) []instanceHealth {
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
			// The probe speaks for the nodes the console cannot hear:
			// where every node's word is current, its older answers
			// would only repeat (or contradict) it.
			if probe != nil && !allLive && len(h.answering) == 0 && (vip == "" || vipMatches(in.VIPs, vip)) {
				h.answering = probe.turns
			}
		}
	}
	return out
}

// pairHealth grades a pair for its tab and the list of pairs.
func pairHealth(nodes []*nodeState, probe *probeState, vip string) (level, string) {
	lvl, why := levelGood, "ok"
	for _, h := range analyze(nodes, probe, vip) {
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
		switch {
		case n.reporting() && !n.live():
			return levelWarn, n.name + " unknown"
		case errors.Is(n.err, ErrKeepalivedStopped):
			return levelWarn, n.name + " keepalived stopped"
		case errors.Is(n.err, ErrVipdStopped):
			return levelWarn, n.name + " vipd stopped"
		case !n.live():
			return levelWarn, n.name + " down"
		}
	}
	// The pair is "ok" only while every node could take the VIP: a node in
	// FAULT (an operator's, a failed nginx) leaves it without redundancy.
	for _, n := range nodes {
		for _, in := range n.status.Instances {
			if in.State == control.StateFault || in.State == control.StateInit {
				return levelWarn, fmt.Sprintf("no redundancy: %s %s %s", n.name, in.Name, in.State)
			}
		}
		if why := nginxProblem(n); why != "" {
			return levelWarn, "no redundancy: " + why
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
