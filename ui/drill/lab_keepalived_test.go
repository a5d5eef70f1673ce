//go:build linux

package drill

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/ui"
)

// The drill on the seed's pair, unattended (`vipctl drill --lab
// --keepalived --yes`): keepalived with the seed's keepalived.conf and
// check_nginx.sh on each node, read by the console without an agent. The
// same steps and verdicts as on vipd: stopping keepalived moves the VIP
// and starting it again rejoins without preemption; nginx held down makes
// check_nginx.sh stop keepalived, so its repair is nginx, then keepalived.
// The test command runs the nginx scenario only (about 1m50 each, and the
// test command has a budget): it ends in the same re-enable as the other,
// and stopping keepalived on the MASTER is the console's lab test
// TestLabTruthKeepalivedStopped. VIPKIT_LONG=1 runs both.
func TestDrillLabKeepalived(t *testing.T) {
	scenarios := []struct {
		s     Scenario
		steps []ui.ActionKind
	}{
		{ScenarioNginx, []ui.ActionKind{ui.ActionBaseline, ui.ActionRestartNginx, ui.ActionFailNginx, ui.ActionRepair, ui.ActionResume}},
		{ScenarioVipd, []ui.ActionKind{ui.ActionBaseline, ui.ActionRestartNginx, ui.ActionStopVipd, ui.ActionResume}},
	}
	if os.Getenv("VIPKIT_LONG") == "" {
		scenarios = scenarios[:1]
	}
	for _, tt := range scenarios {
		t.Run(string(tt.s), func(t *testing.T) {
			requireLab(t)
			netns.RequireBinary(t, "keepalived")
			dir := t.TempDir()
			prefix := filepath.Join(dir, "drill")
			var stdout, stderr strings.Builder
			start := time.Now()
			code := Main(nil, []string{"--lab", "--keepalived", "--yes", "--scenario", string(tt.s), "--report", prefix, "--audit", filepath.Join(dir, "audit.jsonl")},
				strings.NewReader(""), &stdout, &stderr)
			t.Logf("vipctl drill --lab --keepalived took %v; stderr:\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
			if code != 0 {
				t.Errorf("exit %d; stdout:\n%s", code, stdout.String())
			}
			b, err := os.ReadFile(prefix + ".json")
			if err != nil {
				t.Fatal(err)
			}
			var rep Report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if !rep.Passed || len(rep.Steps) != len(tt.steps) {
				t.Fatalf("passed %v, %d steps; stdout:\n%s", rep.Passed, len(rep.Steps), stdout.String())
			}
			for i, st := range rep.Steps {
				if st.Action != tt.steps[i] || st.Result != "pass" {
					t.Errorf("step %d: %s %s: %s", st.N, st.Action, st.Result, st.Why)
				}
				for _, e := range st.Expectations {
					if !e.OK {
						t.Errorf("step %d: %s: %s", st.N, e.Name, e.Detail)
					}
				}
			}
			master := rep.Steps[0].Node
			for _, w := range []string{"check_nginx.sh restarted nginx on " + master, "keepalived stopped on " + master, master + " rejoined as BACKUP"} {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("the report lacks %q:\n%s", w, stdout.String())
				}
			}
			if st := rep.Steps[2]; st.NoHolder != nil {
				t.Logf("failover (%s): %s; %s", tt.s, st.Probe.Figure, st.NoHolder.Figure)
			}
			noLabLeft(t)
		})
	}
}
