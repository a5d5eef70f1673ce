//go:build linux

package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/ui"
	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

// labLimit bounds each lab test: past it the test panics, naming itself,
// rather than wait for go test's global timeout.
const labLimit = 3 * time.Minute

// requireLab skips without root (fails under CI=true) and arms the
// deadline.
func requireLab(t *testing.T) {
	t.Helper()
	netns.Require(t)
	netns.RequireBinary(t, "nginx")
	netns.RequireBinary(t, "unshare")
	name := t.Name()
	timer := time.AfterFunc(labLimit, func() { panic(fmt.Sprintf("%s did not finish within %v", name, labLimit)) })
	t.Cleanup(func() { timer.Stop() })
}

// labExtra are the lab's own checks after the failover: the nodes'
// interfaces, and the client's ARP cache as a third host's.
func labExtra(_, backup string) map[int][]string {
	return map[int][]string{3: {"only " + backup + "'s interface holds the VIP", "the VIP resolves to " + backup + " from a third host"}}
}

// The whole drill, unattended, as an operator runs `vipctl drill --lab
// --yes --scenario S`: a namespace lab with real nginx, sshd and vipd is
// made, drilled and removed, and the report's files say every step
// passed: the VIP on the peer after the failover (the probe, the nodes'
// interfaces, the client's ARP entry), and not one failed request while
// the repaired node rejoined.
func TestDrillLab(t *testing.T) {
	for _, s := range []Scenario{ScenarioNginx, ScenarioVipd, ScenarioFault} {
		t.Run(string(s), func(t *testing.T) {
			if testing.Short() && s != ScenarioNginx {
				t.Skip("one scenario in -short")
			}
			requireLab(t)
			dir := t.TempDir()
			prefix := filepath.Join(dir, "drill")
			var stdout, stderr strings.Builder
			start := time.Now()
			code := Main(nil, []string{"--lab", "--yes", "--scenario", string(s), "--report", prefix, "--audit", filepath.Join(dir, "audit.jsonl")},
				strings.NewReader(""), &stdout, &stderr)
			t.Logf("vipctl drill --lab took %v; stderr:\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
			if code != 0 {
				t.Errorf("exit %d; stdout:\n%s", code, stdout.String())
			}
			b, err := os.ReadFile(prefix + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var rep Report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("the JSON report does not read back: %v", err)
			}
			if rep.Pair != demo.LabPairName || rep.Scenario != s {
				t.Errorf("pair %q, scenario %q", rep.Pair, rep.Scenario)
			}
			md := checkReport(t, &rep, labExtra)
			if t.Failed() {
				t.Logf("report:\n%s", md.String())
			}
			backup := rep.Steps[0].Peer
			for _, e := range rep.Steps[2].Expectations {
				if strings.HasPrefix(e.Name, "the VIP resolves to ") {
					t.Logf("%s: %s", e.Name, e.Detail)
					if !strings.Contains(e.Detail, "`ip neigh show 198.51.100.100` in the lab's client namespace: 02:00:00:00:00:") || !strings.Contains(e.Detail, backup+"'s MAC") {
						t.Errorf("the ARP check says %q", e.Detail)
					}
				}
			}
			for _, w := range []string{"lab up after", "report: " + prefix + ".md"} {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q", w)
				}
			}
			if !strings.Contains(stdout.String(), "- [x] the VIP resolves to "+backup+" from a third host") {
				t.Errorf("the printed report lacks the ARP check:\n%s", stdout.String())
			}
			noLabLeft(t)
		})
	}
}

// The outage figures of the drill agree with an independent client: a
// probe of the test's own in the lab's client namespace, every 5 ms with a
// 10 ms timeout (as the benchmark's client), read over each step's window.
// On each failover the console's probe figure (the verdict's outage, from
// a probe dense while the step runs) is within 50 ms of it, and the nodes'
// events' figure (no holder) is never more than 50 ms above it (clients
// may fail longer than no node holds the VIP: from nginx's death when it
// fails, while ARP caches catch up). On the other steps the console
// reports no more outage than the independent client saw, plus 50 ms:
// it leaves out slow answers it followed up, which a 10 ms client counts
// as failures (and a busy test host makes many). One lab, the three
// scenarios one after the other. The client's neighbour table, as the
// console's probe reads it, names the new MASTER's MAC.
func TestDrillLabOutage(t *testing.T) {
	requireLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), labLimit-10*time.Second)
	defer cancel()
	l, err := demo.NewLab(ctx, demo.LabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("failed to close the lab: %v", err)
		}
	})
	probe := l.Net().Client.StartProbe(t, "http://"+demo.VIP.String()+"/", 5*time.Millisecond, 10*time.Millisecond)
	const within = 50 * time.Millisecond
	var table []string
	for _, s := range []Scenario{ScenarioNginx, ScenarioVipd, ScenarioFault} {
		if ctx.Err() != nil {
			break
		}
		opts := Options{Scenario: s, Yes: true}
		copts := console.Options{Audit: &console.AuditFile{Path: filepath.Join(t.TempDir(), "audit.jsonl")}, ProbeInterval: 100 * time.Millisecond}
		rep, err := drillLab(ctx, l, opts, copts, nil, io.Discard)
		if rep == nil {
			t.Fatalf("%s: no report: %v", s, err)
		}
		var md bytes.Buffer
		rep.Markdown(&md)
		if err != nil || !rep.Passed {
			t.Errorf("%s: the drill did not pass (%v):\n%s", s, err, md.String())
			continue
		}
		for _, st := range rep.Steps {
			res := probe.Since(st.Start)
			res = slices.DeleteFunc(res, func(r netns.ProbeResult) bool { return !r.Time.Before(st.End) })
			failed, outage := failedRuns(res)
			console := time.Duration(st.Probe.OutageMS) * time.Millisecond
			line := fmt.Sprintf("%-5s | %d %-38s | console: %-40s | independent probe: %dms (%d of %d failed)",
				s, st.N, st.Title, st.Probe.Figure, outage.Milliseconds(), failed, len(res))
			switch d := console - outage; {
			case st.Action.Failover() && (d > within || d < -within):
				t.Errorf("%s step %d: the console says %s, the independent probe %v", s, st.N, st.Probe.Figure, outage)
			case d > within:
				t.Errorf("%s step %d: the console says %s, more than the independent probe's %v", s, st.N, st.Probe.Figure, outage)
			}
			if h := st.NoHolder; h != nil {
				line += " | " + h.Figure
				if h.MS == nil {
					t.Errorf("%s step %d: no figure from the nodes' events: %s", s, st.N, h.Detail)
				} else if time.Duration(*h.MS)*time.Millisecond > outage+within {
					t.Errorf("%s step %d: the nodes' events say %s, the independent probe %v", s, st.N, h.Detail, outage)
				}
			} else if st.Action.Failover() {
				t.Errorf("%s step %d: a failover without a figure from the nodes' events", s, st.N)
			}
			table = append(table, line)
		}
		if t.Failed() {
			t.Logf("%s report:\n%s", s, md.String())
		}

		master := rep.Steps[2].Peer
		tab, err := l.Neighbors().Lookup([]netip.Addr{demo.VIP.Addr()})
		if mac := tab[demo.VIP.Addr()]; err != nil || !slices.Equal(mac, l.Node(master).MAC) {
			t.Errorf("%s: the client's neighbour table has %v for the VIP (%v), want %s's %s", s, mac, err, master, l.Node(master).MAC)
		}
	}
	t.Logf("outage per step, the console's figures against the independent 5 ms probe:\n%s", strings.Join(table, "\n"))
}

// failedRuns is the failed requests among results and the outage they
// make, summed as the console sums its own: from each first failure to
// the next answer (a run still open counts to its last request's end).
func failedRuns(results []netns.ProbeResult) (failed int, outage time.Duration) {
	var down time.Time
	for _, r := range results {
		switch {
		case !r.OK:
			failed++
			if down.IsZero() {
				down = r.Time
			}
		case !down.IsZero():
			outage += r.Time.Sub(down)
			down = time.Time{}
		}
	}
	if !down.IsZero() {
		last := results[len(results)-1]
		outage += last.Time.Add(last.Latency).Sub(down)
	}
	return failed, outage
}

// noLabLeft checks that no namespace of this process's labs is left.
func noLabLeft(t *testing.T) {
	t.Helper()
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), fmt.Sprintf("%s%dx", netns.Prefix, os.Getpid())) {
			t.Errorf("namespace %s left behind", e.Name())
		}
	}
}

// An interrupted drill on the lab, cut in the middle of its failover step
// (the VIP has left the MASTER, the step has not passed): the report says
// which step was cut and what it had done, what was restored, and the
// pair's final state, safe; nginx and vipd run again on both nodes. Twice
// on one lab: nginx held down, then vipd stopped.
func TestDrillLabInterrupted(t *testing.T) {
	requireLab(t)
	ctx, cancel := context.WithTimeout(context.Background(), labLimit-10*time.Second)
	defer cancel()
	l, err := demo.NewLab(ctx, demo.LabOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("failed to close the lab: %v", err)
		}
	})
	for _, tc := range []struct {
		s        Scenario
		restored string // on the drilled node
	}{
		{ScenarioNginx, "started nginx"},
		{ScenarioVipd, "started vipd"},
	} {
		if ctx.Err() != nil {
			break
		}
		t.Run(string(tc.s), func(t *testing.T) {
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			dctx, interrupt := context.WithCancelCause(ctx)
			defer interrupt(nil)
			cut := make(chan string, 1) // the MASTER whose failover was cut
			go func() {
				defer close(cut)
				if m := cutFailover(dctx, l, audit); m != "" {
					cut <- m
					interrupt(errors.New("SIGINT"))
				}
			}()
			opts := Options{Scenario: tc.s, Yes: true, RestoreWait: time.Minute}
			copts := console.Options{Audit: &console.AuditFile{Path: audit}, ProbeInterval: 100 * time.Millisecond}
			plan, err := Plan(tc.s)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			rep, err := drillLab(dctx, l, opts, copts, nil, io.Discard)
			t.Logf("interrupted drill and restore took %v (%v)", time.Since(start).Round(time.Millisecond), err)
			if rep == nil {
				t.Fatal("no report")
			}
			var md bytes.Buffer
			rep.Markdown(&md)
			defer func() {
				if t.Failed() {
					t.Logf("report:\n%s", md.String())
				}
			}()
			master, ok := <-cut
			if !ok {
				t.Fatalf("the failover was never seen under way; the drill: %s", rep.Aborted)
			}
			peer := rep.Steps[0].Peer
			title := plan[2].Title
			if want := "interrupted: SIGINT at step 3 (" + title + ")"; rep.Passed || rep.Aborted != want {
				t.Errorf("passed %v, aborted %q; want %q", rep.Passed, rep.Aborted, want)
			}
			s3 := rep.Steps[2]
			if s3.Result != "fail" || !strings.HasPrefix(s3.Why, "interrupted while it ran: SIGINT at step 3") || s3.Node != master || rep.Steps[3].Result != "not run" {
				t.Errorf("step 3 on %s: %s (%s); step 4: %s", s3.Node, s3.Result, s3.Why, rep.Steps[3].Result)
			}
			if !slices.ContainsFunc(s3.Timeline, func(e Entry) bool {
				return e.Node == master && strings.HasPrefix(e.Text, "ran `/run/vipctl-lab/labctl ")
			}) {
				t.Errorf("step 3's timeline lacks the command it ran: %+v", s3.Timeline)
			}
			var restored []string
			for _, r := range rep.Restored {
				if r.Error != "" {
					t.Errorf("restoring %s on %s: %s", r.What, r.Node, r.Error)
				}
				restored = append(restored, r.Node+": "+r.What)
			}
			if !slices.Contains(restored, master+": "+tc.restored) || len(rep.Outstanding) > 0 {
				t.Errorf("restored %q, outstanding %q; want %s: %s", restored, rep.Outstanding, master, tc.restored)
			}
			want := fmt.Sprintf("safe: %s BACKUP, nginx healthy; %s MASTER with the VIP, nginx healthy", master, peer)
			if master > peer {
				want = fmt.Sprintf("safe: %s MASTER with the VIP, nginx healthy; %s BACKUP, nginx healthy", peer, master)
			}
			if !rep.Final.Safe || rep.Final.Summary != want {
				t.Errorf("final state %q, want %q", rep.Final.Summary, want)
			}
			for _, w := range []string{"ABORTED", "- Aborted: interrupted: SIGINT at step 3", "## 3. " + title + ": FAIL", "- " + master + ": " + tc.restored + " (`", "\nFinal state: " + want + "\n"} {
				if !strings.Contains(md.String(), w) {
					t.Errorf("the report lacks %q", w)
				}
			}
			// Seen without vipd or SSH: both daemons run on both nodes, and
			// the VIP is where the report says.
			for _, n := range []string{master, peer} {
				nginx, vipd, err := l.Running(n)
				if err != nil || !nginx || !vipd {
					t.Errorf("on %s: nginx runs %v, vipd runs %v (%v)", n, nginx, vipd, err)
				}
			}
			if h, err := l.Holders(); err != nil || !slices.Equal(h, []string{peer}) {
				t.Errorf("the VIP is on %q (%v), want %s", h, err, peer)
			}
			t.Logf("step 3 cut after %dms: probe %d of %d failed, outage %dms; final: %s", s3.DurationMS, s3.Probe.Failed, s3.Probe.Requests, s3.Probe.OutageMS, rep.Final.Summary)
		})
	}
}

// cutFailover waits for the drill's failover step to be under way: the
// restart check has passed on the MASTER (the audit log says so), and
// then the VIP has left it, 0.3 s ago. It returns that MASTER, or "" if
// ctx ended first. The step cannot pass that soon: its expectations must
// hold for a second once the peer answers.
func cutFailover(ctx context.Context, l *demo.Lab, audit string) string {
	var master string
	for ctx.Err() == nil {
		if master == "" {
			b, _ := os.ReadFile(audit)
			for line := range bytes.Lines(b) {
				var e ui.AuditEntry
				if json.Unmarshal(line, &e) == nil && e.Action == ui.ActionRestartNginx && e.Result == ui.ResultPass {
					master = e.Node
				}
			}
		} else if h, err := l.Holders(); err == nil && !slices.Contains(h, master) {
			// A little later, so that the step's command has returned
			// (`labctl vipd stop` waits for vipd to end) and the probe
			// has seen the takeover under way.
			if sleep(ctx, 300*time.Millisecond) {
				return master
			}
			return ""
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return ""
}
