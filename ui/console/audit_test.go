package console

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/ui"
)

// One rule for every command: --audit if given; else a temporary file
// for the demo and the lab (removed unused, named on exit when used), and
// DefaultAuditPath for real pairs.
func TestOpenAudit(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tc := range []struct {
		name      string
		file      string
		throwaway bool
		record    bool
		want      string // the path, "" for a temporary one
	}{
		{name: "demo, unused", throwaway: true},
		{name: "demo, used", throwaway: true, record: true},
		{name: "demo, given", file: "audit.jsonl", throwaway: true, want: "audit.jsonl"},
		{name: "real pair, default", want: DefaultAuditPath()},
		{name: "real pair, used", record: true, want: DefaultAuditPath()},
		{name: "real pair, given", file: "audit.jsonl", record: true, want: "audit.jsonl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := tc.file
			if file != "" {
				file = filepath.Join(dir, file)
			}
			want := tc.want
			if tc.file != "" {
				want = file
			}
			a, err := OpenAudit(file, tc.throwaway)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(a.Path) })
			switch {
			case want != "" && a.Path != want:
				t.Errorf("audit log %s, want %s", a.Path, want)
			case want == "" && !strings.HasPrefix(a.Path, os.TempDir()):
				t.Errorf("audit log %s, want a temporary file", a.Path)
			}
			if tc.record {
				if err := a.Record(ui.AuditEntry{Time: time.Now(), Action: ui.ActionFault, Pair: "demo", Node: "nginx-01", Result: ui.ResultPass}); err != nil {
					t.Fatal(err)
				}
			}
			var out strings.Builder
			a.Close(&out)
			_, statErr := os.Stat(a.Path)
			if kept, wantKept := statErr == nil, tc.record || want != ""; kept != wantKept {
				t.Errorf("the log kept: %v, want %v", kept, wantKept)
			}
			if said := strings.Contains(out.String(), "audit log: "+a.Path); said != tc.record {
				t.Errorf("on exit: %q; want it named: %v", out.String(), tc.record)
			}
		})
	}
}
