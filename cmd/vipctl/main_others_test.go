//go:build !linux

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// The lab is made of network namespaces: off Linux, --lab says so and
// fails, and nothing else does.
func TestLabUnsupported(t *testing.T) {
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{args: []string{"demo", "--lab"}, want: "vipctl demo --lab: the namespace lab is only supported on Linux"},
		{args: []string{"drill", "--lab", "--yes", "--audit", audit}, want: "vipctl drill: the namespace lab is only supported on Linux"},
	} {
		var stdout, stderr strings.Builder
		if code := run(tc.args, strings.NewReader(""), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("vipctl %s: exit %d, stderr %q; want 1 and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.want)
		}
	}
}
