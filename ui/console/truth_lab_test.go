//go:build linux

package console_test

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// The console held against ground truth on the namespace lab (real sshd,
// vipd and nginx; demo.Lab). Every frame the console draws is checked
// against the VIP as the nodes' kernels hold it (`ip -n NS addr`, read
// every ~15 ms):
//
//   - a split-brain banner only when a read at most truthWindow before the
//     frame (or within readSlack after it: the readings' resolution) found
//     the VIP on both nodes;
//   - a node's card or the VIP line saying a node holds the VIP (or does
//     not) only when a read agrees within truthWindow of that node's last
//     report (its last status or event, as the model took it);
//   - a node whose last report is more than unknownWithin old shown as
//     unknown, never with a state of its own.
//
// Each test logs its timeline: the console's frames against ground truth,
// in ms from the fault it injects.
const (
	truthWindow   = 200 * time.Millisecond
	unknownWithin = 500 * time.Millisecond
	truthTimeout  = 2 * time.Minute
	// readSlack is the readings' own resolution (one every ~20 ms, each
	// taking a few): a console that shows a change before the next
	// reading finds it is quick, not wrong.
	readSlack = 50 * time.Millisecond
)

// TestLabTruthLinkCut: the MASTER's link is cut (`ip -n NS link set eth0
// down`), then restored. The node gives the VIP up and cannot say so; the
// peer takes it. No split-brain banner while at most one node holds the
// VIP; the cut node unknown within 500 ms of its last word, and known
// again after the link is back.
func TestLabTruthLinkCut(t *testing.T) { runTruth(t, labConsole, linkCut, linkCutJudged) }

// TestLabTruthLinkCutDefaultKeepAlive is the link cut seen by a second
// console, as an operator runs one: SSH keepalives at their defaults
// (15 s, 3 missed), so the link stays "up" for most of a minute. The
// console's freshness does not wait for them.
func TestLabTruthLinkCutDefaultKeepAlive(t *testing.T) {
	runTruth(t, func(l *demo.Lab) *console.Console {
		cfg := l.SSH()
		cfg.KeepAlive, cfg.KeepAliveMax = 0, 0
		return console.New(l.Cluster(), console.Options{SSH: cfg, ProbeDial: l.DialVIP, RetryMax: time.Second})
	}, linkCut, linkCutJudged)
}

func labConsole(l *demo.Lab) *console.Console { return l.Console(console.Options{}) }

func linkCut(tr *truthRun) {
	m := tr.master
	link := func(state string) {
		out, err := exec.CommandContext(tr.ctx, "ip", "-n", tr.lab.Node(m).NS, "link", "set", tr.lab.Node(m).Ifname, state).CombinedOutput()
		if err != nil {
			tr.fatal("ip link set %s %s on %s: %v: %s", tr.lab.Node(m).Ifname, state, m, err, out)
		}
	}
	tr.fault("link of "+m+" down", func() { link("down") })
	tr.watch(3 * time.Second)
	tr.mark("link of "+m+" up", func() { link("up") })
	tr.watch(8 * time.Second)
}

func linkCutJudged(tr *truthRun) {
	m, o := tr.master, tr.other
	tr.never("a split-brain banner", func(v view) bool { return v.banner != "" })
	cut := tr.marks[0].at
	unknown := tr.firstFrame(cut, func(v view) bool { return !v.current(m) })
	last := tr.lastWord(m, unknown.At)
	tr.figure("%s's last word before the cut: %s", m, tr.ms(last))
	tr.figure("%s unknown on the console: %s, %s after its last word", m, tr.ms(unknown.At), unknown.At.Sub(last).Round(time.Millisecond))
	if unknown.At.Sub(last) > unknownWithin {
		tr.t.Errorf("%s unknown %v after its last word, want within %v", m, unknown.At.Sub(last), unknownWithin)
	}
	tr.truthFigure(cut, m, false)
	held := tr.truthFigure(cut, o, true)
	shown := tr.firstFrame(cut, func(v view) bool { return slices.Equal(v.heldBy, []string{o}) })
	tr.figure("the console shows %s holding it: %s, %s after the kernel", o, tr.ms(shown.At), shown.At.Sub(held).Round(time.Millisecond))
	up := tr.marks[1].at
	// How soon depends on TCP's retransmission after the cut and on how
	// fast the console drains what the link held (a loaded host under
	// the race detector: seconds); meanwhile it says "catching up".
	if back := tr.maybeFrame(up, func(v view) bool { return v.current(m) }); back != nil {
		tr.figure("%s known again: %s, %s after its link came back", m, tr.ms(back.At), back.At.Sub(up).Round(time.Millisecond))
	} else {
		tr.figure("%s not known again by the end; its card says: %s", m, tr.frames[len(tr.frames)-1].view().cards[m].text)
	}
}

// TestLabTruthSSHDKilled: every sshd process of the MASTER is killed (the
// listener and the console's sessions). vipd and the VIP carry on there:
// the console shows the node unknown (disconnected), never claims that no
// node holds the VIP, and shows no split brain.
func TestLabTruthSSHDKilled(t *testing.T) {
	runTruth(t, labConsole, func(tr *truthRun) {
		tr.fault("sshd of "+tr.master+" killed", func() {
			pids, err := tr.lab.Node(tr.master).KillAll("sshd")
			if err != nil {
				tr.fatal("%v", err)
			}
			tr.t.Logf("killed sshd on %s: pids %v", tr.master, pids)
		})
		tr.watch(4 * time.Second)
	}, func(tr *truthRun) {
		m := tr.master
		tr.never("a split-brain banner", func(v view) bool { return v.banner != "" })
		tr.never("\"held by no node\" while "+m+" holds it", func(v view) bool { return v.noneHeld })
		kill := tr.marks[0].at
		unknown := tr.firstFrame(kill, func(v view) bool { return !v.current(m) })
		tr.figure("%s unknown on the console: %s (%q), %s after its last word", m, tr.ms(unknown.At), unknown.view().cards[m].title,
			unknown.At.Sub(tr.lastWord(m, unknown.At)).Round(time.Millisecond))
		if c := tr.frames[len(tr.frames)-1].view().cards[m]; c.title != "DISCONNECTED" {
			tr.t.Errorf("%s's card says %q at the end, want DISCONNECTED", m, c.title)
		}
		if rounds := tr.roundsSince(kill); len(rounds) == 0 || !rounds[len(rounds)-1].held[m] {
			tr.t.Errorf("%s lost the VIP without its sshd", m)
		}
	})
}

// TestLabTruthVipdStopped: vipd is stopped on the MASTER (`labctl vipd
// stop`, as the console's drill does): it gives the VIP up, the peer takes
// it, and the card says vipd stopped, plainly.
func TestLabTruthVipdStopped(t *testing.T) {
	runTruth(t, labConsole, func(tr *truthRun) {
		tr.fault("vipd of "+tr.master+" stopped", func() {
			if out, err := tr.lab.Ctl(tr.ctx, tr.master, "vipd", "stop"); err != nil {
				tr.fatal("%v", err)
			} else {
				tr.t.Logf("labctl: %s", strings.TrimSpace(out))
			}
		})
		tr.watch(4 * time.Second)
	}, func(tr *truthRun) {
		m, o := tr.master, tr.other
		tr.never("a split-brain banner", func(v view) bool { return v.banner != "" })
		tr.never("an error look on "+m, func(v view) bool {
			c := v.cards[m]
			return c.title == "NO DATA" || strings.Contains(c.text, "stream failed") || strings.Contains(c.text, "retrying")
		})
		stop := tr.marks[0].at
		tr.truthFigure(stop, m, false)
		held := tr.truthFigure(stop, o, true)
		shown := tr.firstFrame(stop, func(v view) bool { return slices.Equal(v.heldBy, []string{o}) })
		tr.figure("the console shows %s holding it: %s, %s after the kernel", o, tr.ms(shown.At), shown.At.Sub(held).Round(time.Millisecond))
		said := tr.firstFrame(stop, func(v view) bool { return v.cards[m].title == "vipd stopped" })
		tr.figure("%s's card says \"vipd stopped\": %s", m, tr.ms(said.At))
		if c := tr.frames[len(tr.frames)-1].view().cards[m]; c.title != "vipd stopped" || !strings.Contains(c.text, "not running") {
			tr.t.Errorf("%s's card at the end: %q\n%s", m, c.title, c.text)
		}
	})
}

// TestLabTruthPartition: the nodes stop hearing each other (bridge port
// isolation) while both still reach the console: both hold the VIP, and
// the banner says so within 200 ms; once healed, one gives it up and the
// banner goes.
func TestLabTruthPartition(t *testing.T) {
	runTruth(t, labConsole, func(tr *truthRun) {
		n := tr.lab.Net()
		tr.fault("partition", func() {
			if err := n.Partition(n.Nodes[0], n.Nodes[1]); err != nil {
				tr.fatal("%v", err)
			}
		})
		tr.watch(3 * time.Second)
		tr.mark("healed", func() {
			if err := n.Heal(n.Nodes[0], n.Nodes[1]); err != nil {
				tr.fatal("%v", err)
			}
		})
		tr.watch(3 * time.Second)
	}, func(tr *truthRun) {
		cut := tr.marks[0].at
		both := tr.firstRound(cut, func(r round) bool { return r.held[tr.master] && r.held[tr.other] })
		tr.figure("the kernels hold the VIP on both: %s", tr.ms(both.at))
		banner := tr.firstFrame(cut, func(v view) bool { return v.banner != "" })
		tr.figure("split-brain banner: %s, %s after both held it (%q)", tr.ms(banner.At), banner.At.Sub(both.at).Round(time.Millisecond), banner.view().banner)
		if d := banner.At.Sub(both.at); d > truthWindow {
			tr.t.Errorf("the banner came %v after both nodes held the VIP, want within %v", d, truthWindow)
		}
		healed := tr.marks[1].at
		one := tr.firstRound(healed, func(r round) bool { return r.held[tr.master] != r.held[tr.other] })
		gone := tr.firstFrame(healed, func(v view) bool { return v.banner == "" })
		tr.figure("after healing one node holds it: %s; the banner gone: %s", tr.ms(one.at), tr.ms(gone.At))
	})
}

// truthRun is one test: the lab, the console, what they did.
type truthRun struct {
	t      *testing.T
	ctx    context.Context
	lab    *demo.Lab
	master string
	other  string
	nodes  []string
	origin time.Time // the fault: 0 ms in the timeline
	since  time.Time // recording started

	mu     sync.Mutex
	frames []frame
	heard  map[string][]time.Time // reports by node: statuses and events
	status []heardStatus          // every status the model took, in order
	rounds []round
	marks  []mark
	errs   []string
	figs   []string
}

// heardStatus is a node's status and when the model took it.
type heardStatus struct {
	at     time.Time
	node   string
	status *control.Status
}

type frame struct {
	console.Frame
	v *view
}

func (f *frame) view() view {
	if f.v == nil {
		v := parseView(f.Screen)
		f.v = &v
	}
	return *f.v
}

// round is one reading of ground truth: the VIP on each node, each read
// between its start and end.
type round struct {
	at    time.Time // when the reading ended
	held  map[string]bool
	start map[string]time.Time // when each node's read started
}

type mark struct {
	at   time.Time
	what string
}

// runTruth brings a lab and its console (newCon) up, waits for a settled
// pair, records, runs act, and then checks every frame and runs judge.
func runTruth(t *testing.T, newCon func(*demo.Lab) *console.Console, act, judge func(*truthRun)) {
	runTruthOn(t, demo.LabOptions{}, newCon, act, judge)
}

// runTruthOn is runTruth on a lab made with lopts (the keepalived lab).
func runTruthOn(t *testing.T, lopts demo.LabOptions, newCon func(*demo.Lab) *console.Console, act, judge func(*truthRun)) {
	netns.Require(t)
	netns.RequireBinary(t, "nginx")
	netns.RequireBinary(t, "unshare")
	timer := time.AfterFunc(truthTimeout, func() { panic(fmt.Sprintf("%s did not finish within %v", t.Name(), truthTimeout)) })
	defer timer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), truthTimeout-10*time.Second)
	defer cancel()
	l, err := demo.NewLab(ctx, lopts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("failed to close the lab: %v", err)
		}
	})
	con := newCon(l)
	tr := &truthRun{t: t, lab: l, heard: map[string][]time.Time{}, nodes: []string{"n1", "n2"}}
	err = con.RunHeadless(ctx, 100, 30, func(ctx context.Context, h *console.Headless) error {
		tr.ctx = ctx
		sctx, scancel := context.WithTimeout(ctx, 30*time.Second)
		defer scancel()
		master, err := h.Settled(sctx, demo.LabPairName)
		if err != nil {
			return fmt.Errorf("the pair did not settle: %w", err)
		}
		tr.master, tr.other = master, "n1"
		if master == "n1" {
			tr.other = "n2"
		}
		rctx, stopTruth := context.WithCancel(ctx)
		var wg sync.WaitGroup
		wg.Go(func() { tr.readTruth(rctx) })
		tr.since = time.Now()
		stop := h.Record(tr.addFrame, tr.addHeard)
		tr.watch(time.Second) // a baseline
		func() {
			defer func() {
				if r := recover(); r != nil && r != errStop {
					panic(r)
				}
			}()
			act(tr)
		}()
		stop()
		stopTruth()
		wg.Wait()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range tr.errs {
		t.Error(e)
	}
	if t.Failed() {
		return
	}
	defer tr.logTimeline() // also when judge fails
	tr.checkFrames()
	judge(tr)
}

var errStop = new(int)

func (tr *truthRun) fatal(format string, args ...any) {
	tr.mu.Lock()
	tr.errs = append(tr.errs, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
	panic(errStop)
}

func (tr *truthRun) addFrame(f console.Frame) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.frames = append(tr.frames, frame{Frame: f})
}

func (tr *truthRun) addHeard(h console.Heard) {
	if h.Update.Status == nil && h.Update.Event == nil {
		return // the link's state or an error: no report of the node's
	}
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.heard[h.Node] = append(tr.heard[h.Node], h.At)
	if h.Update.Status != nil {
		tr.status = append(tr.status, heardStatus{h.At, h.Node, h.Update.Status})
	}
}

// readTruth reads the VIP on every node until ctx ends.
func (tr *truthRun) readTruth(ctx context.Context) {
	for ctx.Err() == nil {
		r := round{held: map[string]bool{}, start: map[string]time.Time{}}
		for _, n := range tr.nodes {
			r.start[n] = time.Now()
			held, err := tr.lab.Node(n).HasAddr(tr.lab.VIPPrefix())
			if err != nil {
				if ctx.Err() == nil {
					tr.mu.Lock()
					tr.errs = append(tr.errs, fmt.Sprintf("reading the VIP on %s: %v", n, err))
					tr.mu.Unlock()
				}
				return
			}
			r.held[n] = held
		}
		r.at = time.Now()
		tr.mu.Lock()
		tr.rounds = append(tr.rounds, r)
		tr.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fault injects the test's fault: 0 ms of the timeline.
func (tr *truthRun) fault(what string, do func()) {
	tr.origin = time.Now()
	tr.mark(what, do)
}

func (tr *truthRun) mark(what string, do func()) {
	start := time.Now()
	do()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.marks = append(tr.marks, mark{at: start, what: fmt.Sprintf("%s (took %v)", what, time.Since(start).Round(time.Millisecond))})
}

func (tr *truthRun) watch(d time.Duration) {
	select {
	case <-time.After(d):
	case <-tr.ctx.Done():
		tr.fatal("%s: %v", tr.t.Name(), tr.ctx.Err())
	}
}

func (tr *truthRun) ms(at time.Time) string {
	return fmt.Sprintf("%+dms", at.Sub(tr.origin).Milliseconds())
}

func (tr *truthRun) figure(format string, args ...any) {
	tr.figs = append(tr.figs, fmt.Sprintf(format, args...))
}

// lastWord is when the model took the node's last report before at.
func (tr *truthRun) lastWord(node string, at time.Time) time.Time {
	hs := tr.heard[node]
	i, _ := slices.BinarySearchFunc(hs, at, func(h, at time.Time) int { return h.Compare(at) })
	if i == 0 {
		return time.Time{}
	}
	return hs[i-1]
}

// truthAgrees reports whether reading nodes in one round, all between
// from and to, agreed with ok. A read counts from its start: the kernel
// answered at some moment of it, and a console may be as quick.
//
// A loaded host may hold the readings up: with none in the window the
// frame cannot be judged (read is false), which checkFrames counts.
func (tr *truthRun) truthAgrees(from, to time.Time, ok func(round) bool, nodes ...string) (agrees, read bool) {
	for _, r := range tr.rounds {
		in := true
		for _, n := range nodes {
			in = in && !r.at.Before(from) && !r.start[n].After(to)
		}
		if in {
			read = true
			if ok(r) {
				return true, true
			}
		}
	}
	return false, read
}

// checkFrames holds every frame against ground truth.
func (tr *truthRun) checkFrames() {
	if len(tr.rounds) == 0 {
		tr.t.Fatal("no reading of ground truth")
	}
	// Readings and reports cover frames from here.
	start := tr.rounds[0].at.Add(truthWindow)
	if s := tr.since.Add(unknownWithin); s.After(start) {
		start = s
	}
	var bad []string
	report := func(f *frame, format string, args ...any) {
		bad = append(bad, fmt.Sprintf("%s: %s\n%s", tr.ms(f.At), fmt.Sprintf(format, args...), f.Screen))
	}
	checked, unjudged := 0, 0
	judged := func(agrees, read bool) bool {
		if !read {
			unjudged++
		}
		return agrees || !read
	}
	for i := range tr.frames {
		f := &tr.frames[i]
		if f.At.Before(start) {
			continue
		}
		checked++
		v := f.view()
		if v.banner != "" && !judged(tr.truthAgrees(f.At.Add(-truthWindow), f.At.Add(readSlack), func(r round) bool { return r.held[tr.master] && r.held[tr.other] }, tr.nodes...)) {
			report(f, "%q while no reading within %v found the VIP on both nodes", v.banner, truthWindow)
		}
		claim := func(node string, held bool, where string) {
			w := tr.lastWord(node, f.At)
			if !judged(tr.truthAgrees(w.Add(-truthWindow), f.At.Add(readSlack), func(r round) bool { return r.held[node] == held }, node)) {
				report(f, "%s says %s holds the VIP: %v; no reading from %v before its last report (%s) agrees",
					where, node, held, truthWindow, tr.ms(w))
			}
		}
		for _, n := range tr.nodes {
			c := v.cards[n]
			if !v.current(n) {
				continue
			}
			if w := tr.lastWord(n, f.At); f.At.Sub(w) > unknownWithin {
				report(f, "%s shown as %q %v after its last report (%s)", n, c.title, f.At.Sub(w).Round(time.Millisecond), tr.ms(w))
			}
			switch c.vip {
			case "held":
				claim(n, true, "its card")
			case "none":
				claim(n, false, "its card")
			}
		}
		for _, n := range v.heldBy {
			claim(n, true, "the VIP line")
		}
		if v.noneHeld {
			for _, n := range tr.nodes {
				claim(n, false, "the VIP line")
			}
		}
	}
	tr.figure("%d frames checked against %d readings of ground truth (one every %v on average); %d claims not judged, no reading near them",
		checked, len(tr.rounds), (tr.rounds[len(tr.rounds)-1].at.Sub(tr.rounds[0].at) / time.Duration(max(len(tr.rounds)-1, 1))).Round(time.Millisecond),
		unjudged)
	if unjudged*10 > checked {
		tr.t.Errorf("%d of %d frames could not be judged: the readings were held up", unjudged, checked)
	}
	for i, b := range bad {
		if i == 5 {
			tr.t.Errorf("... and %d more", len(bad)-5)
			break
		}
		tr.t.Errorf("frame %s", b)
	}
}

// never fails the test if any frame shows what.
func (tr *truthRun) never(what string, shows func(view) bool) {
	for i := range tr.frames {
		if f := &tr.frames[i]; shows(f.view()) {
			tr.t.Errorf("%s: %s:\n%s", tr.ms(f.At), what, f.Screen)
			return
		}
	}
}

// neverBefore fails the test if a frame before t shows what.
func (tr *truthRun) neverBefore(t time.Time, what string, shows func(view) bool) {
	for i := range tr.frames {
		if f := &tr.frames[i]; f.At.Before(t) && shows(f.view()) {
			tr.t.Errorf("%s: %s:\n%s", tr.ms(f.At), what, f.Screen)
			return
		}
	}
}

// firstFrame is the first frame from since on that matches; the test
// fails without one.
func (tr *truthRun) firstFrame(since time.Time, ok func(view) bool) *frame {
	f := tr.maybeFrame(since, ok)
	if f == nil {
		tr.t.Fatalf("no frame after %s matches; the last one:\n%s", tr.ms(since), tr.frames[len(tr.frames)-1].Screen)
	}
	return f
}

func (tr *truthRun) maybeFrame(since time.Time, ok func(view) bool) *frame {
	for i := range tr.frames {
		if f := &tr.frames[i]; !f.At.Before(since) && ok(f.view()) {
			return f
		}
	}
	return nil
}

func (tr *truthRun) firstRound(since time.Time, ok func(round) bool) round {
	for _, r := range tr.rounds {
		if !r.at.Before(since) && ok(r) {
			return r
		}
	}
	tr.t.Fatalf("no reading of ground truth after %s matches", tr.ms(since))
	return round{}
}

func (tr *truthRun) roundsSince(t time.Time) []round {
	i := slices.IndexFunc(tr.rounds, func(r round) bool { return !r.at.Before(t) })
	if i < 0 {
		return nil
	}
	return tr.rounds[i:]
}

// truthFigure notes when node's VIP first became held (or not) after
// since, by the kernel, and returns that time.
func (tr *truthRun) truthFigure(since time.Time, node string, held bool) time.Time {
	r := tr.firstRound(since, func(r round) bool { return r.held[node] == held })
	what := "holds the VIP"
	if !held {
		what = "has no VIP"
	}
	tr.figure("%s %s by its kernel: %s", node, what, tr.ms(r.at))
	return r.at
}

// logTimeline logs the figures, then every change of what the console
// shows and of ground truth, in ms from the fault.
func (tr *truthRun) logTimeline() {
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, m := range tr.marks {
		lines = append(lines, line{m.at, "ACTION  " + m.what})
	}
	prev := ""
	for _, r := range tr.rounds {
		var held []string
		for _, n := range tr.nodes {
			if r.held[n] {
				held = append(held, n)
			}
		}
		s := "VIP on " + strings.Join(held, "+")
		if len(held) == 0 {
			s = "VIP on no node"
		}
		if s != prev {
			lines = append(lines, line{r.at, "KERNEL  " + s})
			prev = s
		}
	}
	prev = ""
	for i := range tr.frames {
		f := &tr.frames[i]
		if s := f.view().summary(tr.nodes); s != prev {
			lines = append(lines, line{f.At, "CONSOLE " + s})
			prev = s
		}
	}
	slices.SortStableFunc(lines, func(a, b line) int { return a.at.Compare(b.at) })
	var b strings.Builder
	fmt.Fprintf(&b, "%s: master %s, peer %s\n", tr.t.Name(), tr.master, tr.other)
	for _, f := range tr.figs {
		fmt.Fprintf(&b, "  %s\n", f)
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "  %7s %s\n", tr.ms(l.at), l.text)
	}
	tr.t.Log("\n" + b.String())
}

// view is what a frame says, read from its text as an operator reads it.
type view struct {
	banner   string          // a SPLIT BRAIN line
	banners  []string        // every line above the cards but the header
	lane     string          // the VIP line
	heldBy   []string        // "held by X [and Y]"
	noneHeld bool            // "held by no node": every node known, none holding
	cards    map[string]card // by node
}

type card struct {
	title     string // what the title line says of the node: connected, UNKNOWN, DISCONNECTED, vipd stopped, ...
	lastKnown bool   // its state is labelled "last known at"
	vip       string // "held", "none", "unconfirmed" or ""
	text      string
}

// current reports whether the frame shows node's state as current.
func (v view) current(node string) bool {
	c := v.cards[node]
	return c.title == "connected" && !c.lastKnown
}

// bannerWith is the first banner line that says s, or "".
func (v view) bannerWith(s string) string {
	for _, b := range v.banners {
		if strings.Contains(b, s) {
			return b
		}
	}
	return ""
}

func (v view) summary(nodes []string) string {
	var parts []string
	if v.banner != "" {
		parts = append(parts, "BANNER")
	}
	for _, kind := range []string{"STRANGER", "VIP LIST MISMATCH"} {
		if b := v.bannerWith(kind); b != "" {
			parts = append(parts, "["+b+"]")
		}
	}
	parts = append(parts, "lane["+v.lane+"]")
	for _, n := range nodes {
		c := v.cards[n]
		s := c.title
		if c.vip != "" {
			s += " " + c.vip
		}
		if c.lastKnown {
			s += " (last known)"
		}
		parts = append(parts, n+"["+s+"]")
	}
	return strings.Join(parts, " ")
}

var (
	laneHeld = regexp.MustCompile(`held by ([a-z0-9-]+(?: and [a-z0-9-]+)*)`)
	laneTail = regexp.MustCompile(`^VIP\s+\S+(?:\s+VI_\S+)?\s+(.*)$`)
)

// parseView reads a 100-column frame: banners above the cards, two cards
// side by side (50 columns each), the VIP line under them.
func parseView(screen string) view {
	v := view{cards: map[string]card{}}
	lines := strings.Split(screen, "\n")
	i := 1 // the header
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "╭"); i++ {
		v.banners = append(v.banners, strings.TrimSpace(lines[i]))
		if strings.Contains(lines[i], "SPLIT BRAIN") && v.banner == "" {
			v.banner = strings.TrimSpace(lines[i])
		}
	}
	var cols [2][]string
	for i++; i < len(lines) && !strings.HasPrefix(lines[i], "╰"); i++ {
		r := []rune(lines[i])
		for c := range cols {
			lo, hi := min(50*c, len(r)), min(50*(c+1), len(r))
			cols[c] = append(cols[c], strings.Trim(string(r[lo:hi]), "│ "))
		}
	}
	for _, col := range cols {
		if len(col) == 0 {
			continue
		}
		f := strings.Fields(col[0])
		if len(f) == 0 {
			continue
		}
		c := card{title: strings.Join(f[1:], " "), text: strings.Join(col, "\n")}
		for _, l := range col[1:] {
			switch {
			case strings.HasPrefix(l, "last known at"):
				c.lastKnown = true
			case strings.HasPrefix(l, "VIP held"):
				c.vip = "held"
			case strings.HasPrefix(l, "no VIP"):
				c.vip = "none"
			case strings.HasPrefix(l, "VIP unconfirmed"):
				c.vip = "unconfirmed"
			}
		}
		v.cards[f[0]] = c
	}
	for ; i < len(lines); i++ {
		if m := laneTail.FindStringSubmatch(strings.TrimSpace(lines[i])); m != nil && strings.HasPrefix(lines[i], "VIP") {
			v.lane = strings.TrimSpace(m[1])
			break
		}
	}
	switch {
	case strings.HasPrefix(v.lane, "held by no node known"):
	case strings.HasPrefix(v.lane, "held by no node"):
		v.noneHeld = true
	default:
		if m := laneHeld.FindStringSubmatch(v.lane); m != nil && strings.HasPrefix(v.lane, "held by") {
			v.heldBy = strings.Split(m[1], " and ")
		}
	}
	return v
}
