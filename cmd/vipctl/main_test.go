package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state") // where real pairs' audit logs go; the demo's must not
	t.Setenv("XDG_STATE_HOME", state)
	bad := filepath.Join(dir, "bad.conf")
	if err := os.WriteFile(bad, []byte("pair web\n  vip 198.51.100.100\n  node nginx-01 root@lb1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
		after  func(t *testing.T, stderr string)
	}{
		{name: "sample", args: []string{"-init"}, stdout: []string{"pair web", "node nginx-01="}},
		{name: "nothing", args: nil, code: 2, stderr: []string{"vipctl: no cluster", "vipctl demo"}},
		{name: "bad node", args: []string{"--vip", "198.51.100.100", "--node", "nginx-01"}, code: 2,
			stderr: []string{`vipctl: --node: invalid node "nginx-01": want NAME=[USER@]HOST[:PORT]`}},
		{name: "bad file", args: []string{"-c", bad}, code: 2,
			stderr: []string{bad + ":3: node: write NAME=TARGET", bad + ":1: pair web: no node"}},
		{name: "stray argument", args: []string{"--vip", "198.51.100.100", "--node", "a=h", "extra"}, code: 2,
			stderr: []string{`unexpected argument "extra"`}},
		{name: "unknown flag", args: []string{"--nodes", "a=h"}, code: 2, stderr: []string{"flag provided but not defined: -nodes", "usage: vipctl"}},
		{name: "drill without a pair", args: []string{"drill", "--yes"}, code: 2, stderr: []string{"vipctl drill: no cluster", "(or --demo, or --lab)"}},
		{name: "check without a pair", args: []string{"check"}, code: 2, stderr: []string{"vipctl check: no cluster", "(or --lab)"}},
		{name: "check unreachable", args: []string{"check", "--vip", "198.51.100.100", "--node", "a=root@127.0.0.1:1", "--node", "b=root@127.0.0.1:1", "--known-hosts", filepath.Join(dir, "kh")},
			code: 2, stdout: []string{"a: cannot read: failed to connect to a", "not checked"}},
		{name: "drill demo and lab", args: []string{"drill", "--demo", "--lab"}, code: 2, stderr: []string{"vipctl drill: --demo or --lab, not both"}},
		{name: "demo stray argument", args: []string{"demo", "now"}, code: 2, stderr: []string{`vipctl demo: unexpected argument "now"`}},
		{name: "drill scenario", args: []string{"drill", "--demo", "--scenario", "kill"}, code: 2, stderr: []string{`unknown scenario "kill"`}},
		{
			// The seed's test section on the demo pair, unattended: it
			// must pass. Its audit log is a temporary file, as the
			// demo's is, named on exit.
			name:   "drill on the demo",
			args:   []string{"drill", "--demo", "--yes", "--report", filepath.Join(dir, "drill")},
			stdout: []string{"vipctl drill: the seed's test section (vipd failover) on pair demo: PASSED", "| 4 | re-enable without preemption | nginx-01 | PASS | 0ms (every 5ms) | - | ", "Final state: safe: "},
			stderr: []string{"report: " + filepath.Join(dir, "drill.md") + " and " + filepath.Join(dir, "drill.json"),
				"audit log: " + filepath.Join(os.TempDir(), "vipctl-audit-")},
			after: func(t *testing.T, stderr string) {
				_, rest, _ := strings.Cut(stderr, "audit log: ")
				path, _, _ := strings.Cut(rest, " (")
				if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), `"action":"stop-vipd"`) {
					t.Errorf("audit log %s: %v\n%s", path, err, b)
				}
				os.Remove(path)
				if _, err := os.Stat(state); err == nil {
					t.Errorf("the demo's drill wrote to %s", state)
				}
			},
		},
		{
			name:   "demo snapshot",
			args:   []string{"demo", "--snapshot"},
			stdout: []string{"vipctl pair demo", "MASTER", "BACKUP", "VIP   198.51.100.100 VI_1  held by nginx-0", "answers"},
			stderr: []string{"is MASTER and answers on 198.51.100.100:80"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
				t.Errorf("stderr has a stack trace:\n%s", stderr.String())
			}
			if tc.after != nil {
				tc.after(t, stderr.String())
			}
		})
	}
}
