package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/ui"
)

// The demo's audit log: a temporary file that is removed when no action
// was recorded, and named on exit when one was; or the file given.
func TestOpenAudit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		record bool
	}{
		{name: "temporary, unused"},
		{name: "temporary, used", record: true},
		{name: "given, unused", file: "audit.jsonl"},
		{name: "given, used", file: "audit.jsonl", record: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file
			if file != "" {
				file = filepath.Join(t.TempDir(), file)
			}
			a, closeAudit, err := openAudit(file)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(a.Path) })
			if file != "" && a.Path != file {
				t.Errorf("audit log %s, want %s", a.Path, file)
			}
			if tc.record {
				if err := a.Record(ui.AuditEntry{Time: time.Now(), Action: ui.ActionFault, Pair: PairName, Node: "nginx-01", Result: ui.ResultPass}); err != nil {
					t.Fatal(err)
				}
			}
			var out strings.Builder
			closeAudit(&out)
			_, statErr := os.Stat(a.Path)
			kept := statErr == nil
			if wantKept := tc.record || tc.file != ""; kept != wantKept {
				t.Errorf("the log kept: %v, want %v", kept, wantKept)
			}
			if said := strings.Contains(out.String(), "audit log of the demo's actions: "+a.Path); said != tc.record {
				t.Errorf("on exit: %q; want it named: %v", out.String(), tc.record)
			}
		})
	}
}
