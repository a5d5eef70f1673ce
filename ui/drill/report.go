package drill

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/report"
)

// Report is what a drill did and found. Its JSON is the report's machine
// form; Markdown writes the same for people.
type Report struct {
	Title    string    `json:"title"`
	Pair     string    `json:"pair"`
	Scenario Scenario  `json:"scenario"`
	Mode     string    `json:"mode"` // "unattended (--yes)" or "interactive"
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended"`
	Passed   bool      `json:"passed"`
	Aborted  string    `json:"aborted,omitempty"`
	// VIPCheck says how the VIP's new home was checked after a failover.
	VIPCheck    string     `json:"vip_check"`
	Steps       []Step     `json:"steps"`
	Restored    []Restored `json:"restored,omitempty"`
	Outstanding []string   `json:"outstanding,omitempty"` // what could not be restored
	Final       Final      `json:"final_state"`
}

// Step is one step of the report.
type Step struct {
	N            int           `json:"n"`
	Title        string        `json:"title"`
	Explain      string        `json:"explain"`
	Action       ui.ActionKind `json:"action"`
	Node         string        `json:"node,omitempty"`
	Peer         string        `json:"peer,omitempty"`
	Result       string        `json:"result"` // pass, fail, refused, cancelled, or "not run"
	Why          string        `json:"why,omitempty"`
	Remedy       string        `json:"remedy,omitempty"`
	Confirmed    string        `json:"confirmed,omitempty"`
	Attempts     int           `json:"attempts,omitempty"`
	Start        time.Time     `json:"start,omitzero"`
	End          time.Time     `json:"end,omitzero"`
	DurationMS   int64         `json:"duration_ms"`
	Probe        Probe         `json:"probe"`
	NoHolder     *NoHolder     `json:"no_holder,omitempty"` // by the nodes' events, when they showed a change of holder
	Expectations []Expect      `json:"expectations,omitempty"`
	Timeline     []Entry       `json:"timeline,omitempty"`
}

// Probe is the outage the VIP's probe measured during a step.
type Probe struct {
	Probed    bool  `json:"probed"`
	Requests  int   `json:"requests"`
	Failed    int   `json:"failed"`
	Blips     int   `json:"blips"`      // failed, but only slow answers (not in the outage)
	BlipMS    int64 `json:"blip_ms"`    // the time they took
	OutageMS  int64 `json:"outage_ms"`  // failed runs summed
	LongestMS int64 `json:"longest_ms"` // the longest run
	// PaceMS is the probe's interval around the failures: the figure's
	// resolution (dense while a step runs).
	PaceMS       float64   `json:"pace_ms"`
	Figure       string    `json:"figure"` // "outage 62ms (probe, 5ms)"
	Counts       string    `json:"counts"` // "812 requests, none failed"
	FirstFailure time.Time `json:"first_failure,omitzero"`
	FirstError   string    `json:"first_error,omitempty"`
}

// NoHolder is how long no node was MASTER during a step, by the nodes' own
// transition events.
type NoHolder struct {
	MS *int64 `json:"ms,omitempty"` // absent when unknown
	// Source says whose times MS is between: "node events" (the nodes'
	// timestamps, their clocks agreeing) or "node events, arrival times"
	// (when they reached the console).
	Source string `json:"source"`
	Open   bool   `json:"open,omitempty"` // no holder at the step's end
	From   string `json:"from,omitempty"` // "n1 MASTER -> FAULT at 12:00:01.618"
	To     string `json:"to,omitempty"`
	Figure string `json:"figure"` // "no holder for 63ms (node events)"
	Detail string `json:"detail"`
}

// Expect is one expectation's verdict.
type Expect struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Entry is one line of a step's timeline: a command run, or what a node or
// the probe reported.
type Entry struct {
	Time time.Time `json:"time"`
	Node string    `json:"node,omitempty"` // "" for the probe
	Text string    `json:"text"`
}

// Restored is what the drill did to put the pair back after it.
type Restored struct {
	Node     string   `json:"node"`
	What     string   `json:"what"`
	Commands []string `json:"commands,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// Final is the pair as the drill left it, from each node's vipd.
type Final struct {
	Safe    bool        `json:"safe"`
	Summary string      `json:"summary"`
	Nodes   []NodeFinal `json:"nodes"`
}

// NodeFinal is one node's state at the end.
type NodeFinal struct {
	Name  string `json:"name"`
	State string `json:"state,omitempty"`
	VIP   bool   `json:"vip"`
	Nginx string `json:"nginx,omitempty"`
	Error string `json:"error,omitempty"`
}

// report turns the console's report into the drill's.
func (d *runner) report(r ui.DrillReport, verified map[int][]ui.Expectation, started time.Time) *Report {
	rep := &Report{
		Title: d.Title(), Pair: r.Pair, Scenario: d.opts.Scenario, Mode: "interactive",
		Started: r.Started, Ended: r.Ended, Aborted: r.Aborted, Passed: r.Passed(),
		VIPCheck: "the probe (the node its X-Served-By header or the VIP's MAC names; no node when neither does)",
	}
	if rep.Pair == "" {
		rep.Pair = d.opts.Pair
	}
	if rep.Started.IsZero() {
		rep.Started = started
	}
	if d.opts.Yes {
		rep.Mode = "unattended (--yes)"
	}
	if d.opts.VerifyHow != "" {
		rep.VIPCheck += "; and " + d.opts.VerifyHow
	}
	for i, st := range d.plan {
		s := Step{N: i + 1, Title: st.Title, Explain: st.Explain, Action: st.Kind, Result: "not run"}
		var o *ui.Outcome
		if i < len(r.Steps) {
			o = r.Steps[i].Outcome
			s.Attempts = r.Steps[i].Attempts
		}
		if o != nil {
			s.Node, s.Peer, s.Result, s.Why, s.Remedy, s.Confirmed = o.Target, o.Peer, string(o.Result), o.Why, o.Remedy, o.Confirmed
			s.Start, s.End, s.DurationMS = o.Start, o.End, o.End.Sub(o.Start).Milliseconds()
			s.Probe = Probe{Probed: o.Probe.Probed, Requests: o.Probe.Samples, Failed: o.Probe.Failures, Blips: o.Probe.Blips, BlipMS: o.Probe.BlipTime.Milliseconds(),
				Counts: o.Probe.Counts(), OutageMS: o.Probe.Outage.Milliseconds(), LongestMS: o.Probe.Longest.Milliseconds(),
				PaceMS: float64(o.Probe.Pace) / float64(time.Millisecond), Figure: o.Probe.Figure(),
				FirstFailure: o.Probe.FirstFailure, FirstError: o.Probe.FirstError}
			s.NoHolder = noHolder(o.Holders)
			for _, e := range o.Expectations {
				s.Expectations = append(s.Expectations, Expect{Name: e.Name, OK: e.OK, Detail: e.Detail})
			}
			for _, e := range verified[i] {
				s.Expectations = append(s.Expectations, Expect{Name: e.Name, OK: e.OK, Detail: e.Detail})
				if !e.OK && s.Result == string(ui.ResultPass) {
					s.Result, s.Why = string(ui.ResultFail), "not so: "+e.Name+": "+e.Detail
					rep.Passed = false
				}
			}
			s.Timeline = timeline(o)
		}
		rep.Steps = append(rep.Steps, s)
	}
	return rep
}

func noHolder(g ui.HolderGap) *NoHolder {
	if !g.Seen {
		return nil
	}
	n := &NoHolder{Source: "node events", Open: g.Open, From: g.From, To: g.To, Figure: g.Figure(), Detail: g.Detail()}
	if g.Arrival {
		n.Source = "node events, arrival times"
	}
	if g.Unknown == "" {
		ms := g.Gap.Milliseconds()
		n.MS = &ms
	}
	return n
}

// timeline merges a step's commands and events in time order.
func timeline(o *ui.Outcome) []Entry {
	var out []Entry
	for _, st := range o.Steps {
		text := fmt.Sprintf("ran `%s`: ", st.Command)
		switch {
		case st.Error != "" && st.Check:
			text += "no: " + st.Error // a check that says no is no failure
		case st.Error != "":
			text += "FAILED: " + st.Error
		case st.Output != "":
			text += "ok: " + firstLine(st.Output)
		default:
			text += "ok"
		}
		out = append(out, Entry{Time: st.Start, Node: st.Node, Text: text + fmt.Sprintf(" (%s)", fmtMS(st.Duration.Milliseconds()))})
	}
	for _, ev := range o.Events {
		out = append(out, Entry{Time: ev.Time, Node: ev.Node, Text: ev.Text})
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return a.Time.Compare(b.Time) })
	return out
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// JSON writes the report as indented JSON.
func (r *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Markdown writes the report for people.
func (r *Report) Markdown(w io.Writer) error {
	var b strings.Builder
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
		if r.Aborted != "" {
			verdict = "ABORTED"
		}
	}
	clock := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format("15:04:05.000")
	}
	fmt.Fprintf(&b, "# vipctl drill: %s on pair %s: %s\n\n", r.Title, r.Pair, verdict)
	fmt.Fprintf(&b, "- Started %s, took %s, %s.\n", r.Started.Format("2006-01-02 15:04:05 MST"), r.Ended.Sub(r.Started).Round(100*time.Millisecond), r.Mode)
	fmt.Fprintf(&b, "- Failover scenario: %s.\n", r.Scenario)
	fmt.Fprintf(&b, "- Where the VIP went: checked by %s.\n", r.VIPCheck)
	if r.Aborted != "" {
		fmt.Fprintf(&b, "- Aborted: %s.\n", r.Aborted)
	}
	b.WriteString("\n| # | step | node | result | outage (probe) | no holder (node events) | failed requests | took |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range r.Steps {
		outage, failed, gap := "-", "-", "-"
		if s.Probe.Probed && s.Result != "not run" {
			outage = fmtMS(s.Probe.OutageMS)
			if s.Probe.PaceMS > 0 {
				outage += fmt.Sprintf(" (every %sms)", strconv.FormatFloat(s.Probe.PaceMS, 'f', -1, 64))
			}
			failed = fmt.Sprintf("%d of %d", s.Probe.Failed, s.Probe.Requests)
			if s.Probe.Blips > 0 {
				failed += fmt.Sprintf(" (%d slow)", s.Probe.Blips)
			}
		}
		if h := s.NoHolder; h != nil {
			gap = "unknown"
			if h.MS != nil {
				gap = fmtMS(*h.MS)
			}
			if h.Source != "node events" {
				gap += " (arrival times)"
			}
		}
		took := "-"
		if !s.Start.IsZero() {
			took = fmtMS(s.DurationMS)
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", s.N, s.Title, orDash(s.Node), strings.ToUpper(s.Result), outage, gap, failed, took)
	}
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "\n## %d. %s: %s\n\n%s\n", s.N, s.Title, strings.ToUpper(s.Result), s.Explain)
		if s.Result == "not run" {
			continue
		}
		b.WriteString("\n")
		if s.Node != "" {
			fmt.Fprintf(&b, "- On %s", s.Node)
			if s.Peer != "" {
				fmt.Fprintf(&b, " (peer %s)", s.Peer)
			}
			fmt.Fprintf(&b, ", from %s to %s", clock(s.Start), clock(s.End))
			if s.Confirmed != "" {
				fmt.Fprintf(&b, ", confirmed by %s", s.Confirmed)
			}
			b.WriteString(".\n")
		}
		if s.Probe.Probed {
			fmt.Fprintf(&b, "- Probe: %s; %s", s.Probe.Counts, s.Probe.Figure)
			if s.Probe.FirstError != "" {
				fmt.Fprintf(&b, "; longest %s; first failure %s: %s", fmtMS(s.Probe.LongestMS), clock(s.Probe.FirstFailure), s.Probe.FirstError)
			}
			b.WriteString(".\n")
		}
		if s.NoHolder != nil {
			fmt.Fprintf(&b, "- VIP holders: %s.\n", s.NoHolder.Detail)
		}
		if s.Why != "" {
			fmt.Fprintf(&b, "- What is wrong: %s\n", s.Why)
		}
		if s.Remedy != "" {
			fmt.Fprintf(&b, "- To return to a safe state: %s\n", s.Remedy)
		}
		if len(s.Expectations) > 0 {
			b.WriteString("\nExpectations:\n\n")
			for _, e := range s.Expectations {
				mark := "x"
				if !e.OK {
					mark = " "
				}
				fmt.Fprintf(&b, "- [%s] %s", mark, e.Name)
				if e.Detail != "" {
					fmt.Fprintf(&b, ": %s", e.Detail)
				}
				b.WriteString("\n")
			}
		}
		if len(s.Timeline) > 0 {
			b.WriteString("\nTimeline:\n\n```\n")
			for _, e := range s.Timeline {
				fmt.Fprintf(&b, "%s %-8s %s\n", clock(e.Time), orVIP(e.Node), e.Text)
			}
			b.WriteString("```\n")
		}
	}
	b.WriteString("\n## After the drill\n\n")
	if len(r.Restored) == 0 {
		b.WriteString("Nothing to restore: the drill left nothing broken.\n")
	}
	for _, x := range r.Restored {
		fmt.Fprintf(&b, "- %s: %s", x.Node, x.What)
		if len(x.Commands) > 0 {
			fmt.Fprintf(&b, " (`%s`)", strings.Join(x.Commands, "`; `"))
		}
		if x.Error != "" {
			fmt.Fprintf(&b, ": FAILED: %s", x.Error)
		}
		b.WriteString("\n")
	}
	for _, x := range r.Outstanding {
		fmt.Fprintf(&b, "- still broken: %s: repair it by hand\n", x)
	}
	fmt.Fprintf(&b, "\nFinal state: %s\n", r.Final.Summary)
	_, err := io.WriteString(w, b.String())
	return err
}

var (
	fmtMS  = report.MS
	orDash = report.OrDash
)

func orVIP(s string) string {
	if s == "" {
		return "VIP"
	}
	return s
}
