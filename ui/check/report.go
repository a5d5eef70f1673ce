package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"

	"github.com/vipkit/vip/node/config"
)

// Exit codes of Report.ExitCode, for scripts and CI.
const (
	ExitConsistent = 0 // no mismatch (warnings allowed)
	ExitMismatch   = 1 // at least one mismatch
	ExitUnreadable = 2 // a node's configuration could not be read
)

// Kind says whether a Finding breaks the pair.
type Kind int

// Kinds of findings.
const (
	Mismatch Kind = iota + 1 // breaks the pair
	Warning                  // advice
)

func (k Kind) String() string {
	switch k {
	case Mismatch:
		return "MISMATCH"
	case Warning:
		return "warning"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Place is where a finding is on one side.
type Place struct {
	Pos config.Pos // zero: nothing on that side
	// Default says the keyword is not written: Pos is its block's, and the
	// value is the default.
	Default bool
}

// IsZero reports whether the finding has nothing on this side.
func (p Place) IsZero() bool { return p.Pos == config.Pos{} }

func (p Place) String() string {
	switch {
	case p.IsZero():
		return "-"
	case p.Default:
		return p.Pos.String() + " (not set: default)"
	}
	return p.Pos.String()
}

// Finding is one mismatch or warning.
type Finding struct {
	Kind Kind
	// Instance names the instances concerned ("VI_1 (VRID 60 on eth0)");
	// "" when the finding is about a node's files as a whole.
	Instance string
	Topic    string // the setting: "advert_int", "virtual_ipaddress", "unicast_peer", ...
	Msg      string // what is wrong and what it does to the pair, with both values
	A, B     Place  // where on each node
}

func (f Finding) String() string {
	s := f.Kind.String() + ": "
	if f.Instance != "" {
		s += f.Instance + ": "
	}
	return s + f.Msg
}

// Node is one node's effective configuration, as a Source read it.
type Node struct {
	Name   string // as the console shows it ("nginx-01")
	Daemon string // "vipd" or "keepalived"
	Path   string // the main file the running daemon loaded
	// Config is what node/config parsed: possibly partial when Problems
	// holds errors.
	Config *config.Config
	// Problems are the errors node/config found; keepalived may accept
	// what vipd refuses, so they are warnings here, not a reason to stop.
	Problems []config.Diagnostic
	// Addrs are the node's addresses by interface, where known: what
	// the peer's unicast_peer must name when this node has no
	// unicast_src_ip. Nil when not read.
	Addrs map[string][]netip.Addr
	// Drift says where the files on disk may differ from what the daemon
	// runs (the check reads the disk): each is a warning on this side.
	Drift []Drift
}

// Drift is a file that may differ from what the daemon loaded.
type Drift struct {
	File string
	Msg  string // what is known, and what is not
}

// Source reads one node's effective configuration.
type Source interface {
	Read(ctx context.Context) (Node, error)
}

// SourceFunc makes a function a Source.
type SourceFunc func(ctx context.Context) (Node, error)

// Read calls f.
func (f SourceFunc) Read(ctx context.Context) (Node, error) { return f(ctx) }

// Report is the result of checking a pair.
type Report struct {
	A, B     Node
	Findings []Finding // mismatches first, then warnings, each in the order found
	// ErrA and ErrB say why a node could not be read; then there are no
	// findings.
	ErrA, ErrB error
}

// Pair reads both nodes at once and compares them. The error is the nodes'
// that could not be read (the Report then says which, and its ExitCode is
// ExitUnreadable).
func Pair(ctx context.Context, a, b Source) (Report, error) {
	var r Report
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.A, r.ErrA = a.Read(ctx) }()
	go func() { defer wg.Done(); r.B, r.ErrB = b.Read(ctx) }()
	wg.Wait()
	if r.ErrA != nil || r.ErrB != nil {
		return r, errors.Join(r.ErrA, r.ErrB)
	}
	return Compare(r.A, r.B), nil
}

// ExitCode is vipctl check's exit status for r.
func (r Report) ExitCode() int {
	switch {
	case r.ErrA != nil || r.ErrB != nil:
		return ExitUnreadable
	case len(r.Mismatches()) > 0:
		return ExitMismatch
	}
	return ExitConsistent
}

// Mismatches are the findings that break the pair.
func (r Report) Mismatches() []Finding { return r.kind(Mismatch) }

// Warnings are the findings that are advice.
func (r Report) Warnings() []Finding { return r.kind(Warning) }

func (r Report) kind(k Kind) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Kind == k {
			out = append(out, f)
		}
	}
	return out
}

// Summary is the report in one line, for the console's banner.
func (r Report) Summary() string {
	switch m, w := len(r.Mismatches()), len(r.Warnings()); {
	case r.ErrA != nil || r.ErrB != nil:
		return "config check: " + strings.Join(r.unreadable(), "; ")
	case m > 0:
		s := fmt.Sprintf("config mismatch (%s): %s", plural(m, "mismatch"), r.Mismatches()[0].Msg)
		return s
	case w > 0:
		return fmt.Sprintf("configs consistent, %s", plural(w, "warning"))
	}
	return "configs consistent"
}

func (r Report) unreadable() []string {
	var s []string
	for _, e := range []struct {
		name string
		err  error
	}{{r.A.Name, r.ErrA}, {r.B.Name, r.ErrB}} {
		if e.err != nil {
			s = append(s, fmt.Sprintf("cannot read %s: %v", orNode(e.name), e.err))
		}
	}
	return s
}

func orNode(name string) string {
	if name == "" {
		return "a node"
	}
	return name
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	if strings.HasSuffix(word, "ch") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Lines is the report as vipctl check prints it: the nodes, each finding
// with its place on each side, and a verdict. The console's details show
// the same lines.
func (r Report) Lines() []string {
	var out []string
	for _, n := range []struct {
		n   Node
		err error
	}{{r.A, r.ErrA}, {r.B, r.ErrB}} {
		switch {
		case n.err != nil:
			out = append(out, fmt.Sprintf("%s: cannot read: %v", orNode(n.n.Name), n.err))
		default:
			out = append(out, fmt.Sprintf("%s: %s, %s", n.n.Name, n.n.Daemon, n.n.Path))
		}
	}
	for _, f := range r.Findings {
		out = append(out, f.String())
		out = append(out, fmt.Sprintf("    %s: %s", r.A.Name, f.A), fmt.Sprintf("    %s: %s", r.B.Name, f.B))
	}
	switch r.ExitCode() {
	case ExitUnreadable:
		out = append(out, "not checked: a node's configuration could not be read")
	case ExitMismatch:
		out = append(out, fmt.Sprintf("%s, %s: the pair is broken", plural(len(r.Mismatches()), "mismatch"), plural(len(r.Warnings()), "warning")))
	default:
		out = append(out, fmt.Sprintf("consistent, %s", plural(len(r.Warnings()), "warning")))
	}
	return out
}

// WriteTo writes Lines, one a line.
func (r Report) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, l := range r.Lines() {
		k, err := fmt.Fprintln(w, l)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// WithVIP is r with a warning when vip, the address the console probes
// (the cluster's), is in no instance on either node: the console would be
// watching an address this pair does not serve. A VIP on one node only is
// a mismatch already.
func (r Report) WithVIP(vip netip.Addr) Report {
	if !vip.IsValid() || r.A.Config == nil || r.B.Config == nil {
		return r
	}
	for _, c := range []*config.Config{r.A.Config, r.B.Config} {
		for _, in := range c.Instances {
			for _, v := range in.VIPs {
				if v.Prefix.Addr() == vip {
					return r
				}
			}
		}
	}
	out := r
	out.Findings = append(append([]Finding(nil), r.Findings...), Finding{
		Kind: Warning, Topic: "vip",
		Msg: fmt.Sprintf("the pair's VIP %s (the cluster's, which the console probes) is in no virtual_ipaddress on %s or %s", vip, r.A.Name, r.B.Name),
		A:   Place{Pos: config.Pos{File: r.A.Path}}, B: Place{Pos: config.Pos{File: r.B.Path}},
	})
	return out
}
