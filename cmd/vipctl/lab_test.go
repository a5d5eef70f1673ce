//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
)

// `vipctl demo --lab --snapshot` as an operator runs it, without a
// terminal: the namespace lab with real nginx, sshd and vipd comes up, the
// console prints the screen once a master answers on the VIP, and
// everything is gone when it returns. With --keepalived the same on the
// seed's pair, keepalived read without an agent.
func TestDemoLabSnapshot(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"vipd", nil, "watching vipd"},
		{"keepalived", []string{"--keepalived"}, "watching Keepalived v2"},
	} {
		t.Run(tt.name, func(t *testing.T) { demoLabSnapshot(t, tt.args, tt.want) })
	}
}

func demoLabSnapshot(t *testing.T, args []string, want string) {
	netns.Require(t)
	netns.RequireBinary(t, "nginx")
	netns.RequireBinary(t, "unshare")
	const limit = 2 * time.Minute
	timer := time.AfterFunc(limit, func() { panic(fmt.Sprintf("%s did not finish within %v", t.Name(), limit)) })
	defer timer.Stop()

	start := time.Now()
	var stdout, stderr strings.Builder
	code := run(append([]string{"demo", "--lab", "--snapshot", "--for", "90s"}, args...), strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s\nstdout:\n%s", code, stderr.String(), stdout.String())
	}
	t.Logf("took %v; stderr:\n%s", time.Since(start).Round(time.Millisecond), stderr.String())
	for _, w := range []string{"vipctl pair lab", "MASTER", "BACKUP", "VIP   198.51.100.100 VI_1  held by n", "answers", want} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("the snapshot lacks %q:\n%s", w, stdout.String())
		}
	}
	for _, w := range []string{"lab up:", "is MASTER and answers on 198.51.100.100:80"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
		}
	}
	// Nothing of the lab is left: its namespaces (Lab.Close checks its
	// processes) and its files.
	if out, err := os.ReadDir("/run/netns"); err == nil {
		for _, e := range out {
			if strings.HasPrefix(e.Name(), fmt.Sprintf("%s%dx", netns.Prefix, os.Getpid())) {
				t.Errorf("namespace %s left behind", e.Name())
			}
		}
	}
}
