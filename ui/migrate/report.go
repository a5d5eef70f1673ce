package migrate

import (
	"encoding/json"
	"fmt"
	"github.com/vipkit/vip/ui/report"
	"io"
	"strconv"
	"strings"
	"time"
)

// Step results.
const (
	resultPass = "pass"
	resultFail = "fail"
)

// Report is what a migration did and found, like a drill's: its JSON is
// the machine form, Markdown the same for people.
type Report struct {
	Pair    string    `json:"pair"`
	VIP     string    `json:"vip"`
	Mode    string    `json:"mode"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	Passed  bool      `json:"passed"`
	Result  string    `json:"result"`
	Aborted string    `json:"aborted,omitempty"`
	// Refused says why nothing was changed (pre-flight).
	Refused    []string     `json:"refused,omitempty"`
	Preflight  []Expect     `json:"preflight,omitempty"`
	Nodes      []NodeReport `json:"nodes"`
	Steps      []*Step      `json:"steps"`
	RolledBack bool         `json:"rolled_back,omitempty"`
	// Outstanding is what the migration could not put right.
	Outstanding []string `json:"outstanding,omitempty"`
	// Probe is the whole run's, and FailedOutsideHandover the lost
	// requests (slow answers left out) outside the planned handover.
	Probe                 Probe       `json:"probe"`
	FailedOutsideHandover int         `json:"failed_outside_handover"`
	Final                 []NodeFinal `json:"final_state"`
	Summary               string      `json:"summary"`
}

// NodeReport is what migrate found on a node and put there.
type NodeReport struct {
	Name     string   `json:"name"`
	Arch     string   `json:"arch"`
	OS       string   `json:"os"`
	Vipd     string   `json:"vipd"`   // the build installed
	Source   string   `json:"source"` // the node's keepalived.conf (and includes)
	Conf     string   `json:"conf"`   // vipd's own file
	Changes  []string `json:"changes,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Stage    string   `json:"stage"` // the scripts and their logs
}

// Step is one step of the report.
type Step struct {
	N        int       `json:"n"`
	Title    string    `json:"title"`
	Kind     string    `json:"kind"` // baseline, to-vipd, handover, to-keepalived
	Node     string    `json:"node,omitempty"`
	Peer     string    `json:"peer,omitempty"`
	Rollback bool      `json:"rollback,omitempty"`
	Result   string    `json:"result"`
	Why      string    `json:"why,omitempty"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// BoundMS is the handover's outage bound, Skew_Time + 50 ms.
	BoundMS      int64    `json:"bound_ms,omitempty"`
	Probe        Probe    `json:"probe"`
	Expectations []Expect `json:"expectations,omitempty"`
	Timeline     []Entry  `json:"timeline,omitempty"`
}

// Probe is what the VIP's probe measured, as in a drill's report.
type Probe struct {
	Probed   bool `json:"probed"`
	Requests int  `json:"requests"`
	Failed   int  `json:"failed"`
	Blips    int  `json:"blips"` // slow answers: no failure to a client
	// Lost is the failed requests that show an outage (the others are
	// blips, or a run still undecided at the step's end).
	Lost         int       `json:"lost"`
	OutageMS     int64     `json:"outage_ms"`
	LongestMS    int64     `json:"longest_ms"`
	PaceMS       float64   `json:"pace_ms"`
	Figure       string    `json:"figure"`
	Counts       string    `json:"counts"`
	FirstFailure time.Time `json:"first_failure,omitzero"`
	FirstError   string    `json:"first_error,omitempty"`
}

// Expect is one expectation's verdict.
type Expect struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// Entry is one line of a step's timeline: what vipctl did, what a node's
// script noted (by the node's clock: NodeClock), what the probe saw.
type Entry struct {
	Time      time.Time `json:"time"`
	Node      string    `json:"node"` // "vipctl", "VIP" (the probe) or a node
	Text      string    `json:"text"`
	NodeClock bool      `json:"node_clock,omitempty"`
}

// NodeFinal is a node at the end.
type NodeFinal struct {
	Name   string `json:"name"`
	Daemon string `json:"daemon"` // keepalived, vipd, both, none, unknown
	State  string `json:"state,omitempty"`
	VIP    bool   `json:"vip"`
	Error  string `json:"error,omitempty"`
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
	switch {
	case r.Aborted != "":
		verdict = "INTERRUPTED"
	case len(r.Refused) > 0:
		verdict = "REFUSED"
	case !r.Passed:
		verdict = "FAILED"
	}
	clock := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format("15:04:05.000")
	}
	fmt.Fprintf(&b, "# vipctl migrate: pair %s, keepalived to vipd: %s\n\n", r.Pair, verdict)
	fmt.Fprintf(&b, "- Started %s, took %s, %s.\n", r.Started.Format("2006-01-02 15:04:05 MST"), r.Ended.Sub(r.Started).Round(100*time.Millisecond), r.Mode)
	fmt.Fprintf(&b, "- Result: %s.\n", r.Result)
	if r.Probe.Probed {
		fmt.Fprintf(&b, "- The VIP %s, probed throughout: %s; %s; failed outside the handover: %d.\n", r.VIP, r.Probe.Counts, r.Probe.Figure, r.FailedOutsideHandover)
	}
	if r.Aborted != "" {
		fmt.Fprintf(&b, "- %s.\n", r.Aborted)
	}
	for _, x := range r.Refused {
		fmt.Fprintf(&b, "- Refused: %s\n", x)
	}
	if len(r.Preflight) > 0 {
		b.WriteString("\nPre-flight:\n\n")
		writeExpect(&b, r.Preflight)
	}
	if len(r.Nodes) > 0 {
		b.WriteString("\n| node | arch | system | vipd | from | vipd's file |\n|---|---|---|---|---|---|\n")
		for _, n := range r.Nodes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", n.Name, n.Arch, n.OS, n.Vipd, n.Source, n.Conf)
		}
		for _, n := range r.Nodes {
			if len(n.Changes)+len(n.Warnings) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\n%s's file, against keepalived's:\n\n", n.Name)
			for _, c := range n.Changes {
				fmt.Fprintf(&b, "- %s\n", c)
			}
			for _, c := range n.Warnings {
				fmt.Fprintf(&b, "- warning: %s\n", c)
			}
		}
	}
	if len(r.Steps) > 0 {
		b.WriteString("\n| # | step | node | result | outage (probe) | failed requests | took |\n|---|---|---|---|---|---|---|\n")
		for _, s := range r.Steps {
			outage, failed := "-", "-"
			if s.Probe.Probed {
				outage = fmtMS(s.Probe.OutageMS)
				if s.Probe.PaceMS > 0 {
					outage += fmt.Sprintf(" (every %sms)", strconv.FormatFloat(s.Probe.PaceMS, 'f', -1, 64))
				}
				failed = fmt.Sprintf("%d of %d", s.Probe.Failed, s.Probe.Requests)
				if s.Probe.Blips > 0 {
					failed += fmt.Sprintf(" (%d slow)", s.Probe.Blips)
				}
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", s.N, s.Title, orDash(s.Node), strings.ToUpper(s.Result), outage, failed, fmtMS(s.End.Sub(s.Start).Milliseconds()))
		}
	}
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "\n## %d. %s: %s\n\n", s.N, s.Title, strings.ToUpper(s.Result))
		fmt.Fprintf(&b, "- From %s to %s.\n", clock(s.Start), clock(s.End))
		if s.Probe.Probed {
			fmt.Fprintf(&b, "- Probe: %s; %s", s.Probe.Counts, s.Probe.Figure)
			if s.Probe.FirstError != "" {
				fmt.Fprintf(&b, "; longest %s; first failure %s: %s", fmtMS(s.Probe.LongestMS), clock(s.Probe.FirstFailure), s.Probe.FirstError)
			}
			b.WriteString(".\n")
		}
		if s.Why != "" {
			fmt.Fprintf(&b, "- What is wrong: %s\n", s.Why)
		}
		if len(s.Expectations) > 0 {
			b.WriteString("\nExpectations:\n\n")
			writeExpect(&b, s.Expectations)
		}
		if len(s.Timeline) > 0 {
			b.WriteString("\nTimeline (node lines by the node's clock):\n\n```\n")
			for _, e := range s.Timeline {
				fmt.Fprintf(&b, "%s %-8s %s\n", clock(e.Time), e.Node, e.Text)
			}
			b.WriteString("```\n")
		}
	}
	for _, x := range r.Outstanding {
		fmt.Fprintf(&b, "\n- still to check by hand: %s\n", x)
	}
	if r.Summary != "" {
		fmt.Fprintf(&b, "\nFinal state: %s\n", r.Summary)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeExpect(b *strings.Builder, ex []Expect) {
	for _, e := range ex {
		mark := "x"
		if !e.OK {
			mark = " "
		}
		fmt.Fprintf(b, "- [%s] %s%s\n", mark, e.Name, prefixed(": ", e.Detail))
	}
}

var (
	fmtMS  = report.MS
	orDash = report.OrDash
)
