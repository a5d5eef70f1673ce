package ui

import (
	"crypto/ed25519"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/charmbracelet/x/exp/golden"
)

// TestGoldenGate is TestGolden for the gate's screens: the confirmation of
// a failover drill with the node's name half typed (its prompt and input
// line shown at 80x24), a drill waiting for its first step, the full help
// with the actions, a verdict beside the event log, and a host key a
// reconnect met. Colours are off (ASCII profile).
func TestGoldenGate(t *testing.T) {
	drill := func(o *Options) {
		o.Drill = &Drill{Title: "the seed's test section", Steps: []DrillStep{
			{Kind: ActionBaseline, Title: "baseline", Explain: "Both nodes are watched: one MASTER holds the VIP and every request is answered."},
			{Kind: ActionRestartNginx, Title: "kill nginx and watch it come back", Explain: "vipd must start nginx again; the VIP stays."},
			{Kind: ActionStopVipd, Title: "failover: stop vipd on the MASTER", Explain: "The VIP must move to the BACKUP."},
			{Kind: ActionRepair, Target: TargetFailed, Title: "repair the failed node", Explain: "nginx must turn healthy."},
			{Kind: ActionResume, Target: TargetFailed, Title: "re-enable without preemption", Explain: "BACKUP, the VIP stays, no error."},
		}}
	}
	for _, tc := range []struct {
		name  string
		w, h  int
		opts  func(*Options)
		scene func(*lab)
	}{
		{"confirm_80x24", 80, 24, nil, func(l *lab) {
			l.steady()
			l.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
			l.typeText("nginx-0")
		}},
		{"drill_100x30", 100, 30, drill, (*lab).steady},
		{"help_80x24", 80, 24, nil, func(l *lab) {
			l.steady()
			l.apply(press("?"))
		}},
		{"verdict_and_log_80x24", 80, 24, nil, func(l *lab) {
			l.faulted()
			l.apply(ActionMsg{Action: Action{Kind: ActionFailNginx}})
		}},
		{"host_key_80x24", 80, 24, nil, func(l *lab) {
			l.steady()
			l.apply(hostKeyMsg{goldenHostKeyQ(t, "nginx-02")})
			l.typeText("ye")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newGateLabOpts(t, tc.opts)
			rec.resize(tc.w, tc.h)
			tc.scene(rec.lab)
			want := plain(rec.m.View(), tc.h)

			live := newGateLabOpts(t, tc.opts)
			tt := runTerm(t, live.m, tc.w, tc.h)
			for _, msg := range rec.msgs {
				tt.tm.Send(msg)
			}
			got, _ := tt.waitScreen(t, 10*time.Second, func(s string) bool { return s == want })
			golden.RequireEqual(t, got+"\n")
		})
	}
}

// goldenHostKeyQ is testHostKeyQ with a fixed key, for a fixed screen.
func goldenHostKeyQ(t *testing.T, node string) *hostKeyQ {
	q := testHostKeyQ(t, node)
	k, err := gossh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	if err != nil {
		t.Fatal(err)
	}
	q.p.Key, q.p.Fingerprint = k, gossh.FingerprintSHA256(k)
	return q
}
