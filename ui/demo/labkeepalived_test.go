//go:build linux

package demo

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/bench"
	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/ssh"
)

// The seed adapted to the lab changes only the VIP, the script user, and
// the script's nginx count and systemctl calls.
func TestKeepalivedSeed(t *testing.T) {
	seed, err := bench.LoadSeed("")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := keepalivedSeedConf(seed.Conf, "eth0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"198.51.100.100 dev eth0", "script_user root\n   enable_script_security\n   router_id nginx-01",
		`script "/etc/keepalived/check_nginx.sh"`, "auth_pass qwert123!", "advert_int 1", "nopreempt"} {
		if !strings.Contains(conf, want) {
			t.Errorf("conf lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, seedVIP) {
		t.Errorf("conf keeps the seed's VIP:\n%s", conf)
	}
	if _, err := keepalivedSeedConf(seed.Conf, "veth0"); err == nil {
		t.Error("another interface name: no error")
	}
	script, err := keepalivedSeedScript(seed.Script, labCtl)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{labCtl + " nginx pids|wc -l", labCtl + " nginx start", labCtl + " keepalived stop"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "systemctl") || strings.Contains(script, "ps -C") {
		t.Errorf("script keeps systemctl or ps:\n%s", script)
	}
	if _, err := keepalivedSeedScript("#!/bin/sh\n", labCtl); err == nil {
		t.Error("a changed seed: no error")
	}
}

// The keepalived lab comes up as the seed's pair does (the first node
// MASTER with the VIP, the other BACKUP, each keepalived in its own
// namespace with its own TMPDIR), and labctl drives it as systemctl would:
// keepalived stopped on the MASTER hands the VIP over; started again it
// rejoins as BACKUP (nopreempt); nginx killed is restarted by
// check_nginx.sh; nginx held down makes check_nginx.sh stop keepalived.
func TestKeepalivedLab(t *testing.T) {
	netns.Require(t)
	netns.RequireBinary(t, "keepalived")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	l, err := NewLab(ctx, LabOptions{Keepalived: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("lab up after %v", time.Since(start).Round(time.Millisecond))
	holders := func(want ...string) {
		t.Helper()
		var got []string
		deadline := time.Now().Add(15 * time.Second)
		for {
			if got, err = l.Holders(); err != nil {
				t.Fatal(err)
			}
			if slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("VIP held by %v, want %v\nn1:\n%s\nn2:\n%s", got, want, tailString(l.VipdOutput("n1"), 3000), tailString(l.VipdOutput("n2"), 3000))
		}
	}
	ctl := func(node string, args ...string) string {
		t.Helper()
		out, err := l.Ctl(ctx, node, args...)
		if err != nil {
			t.Fatalf("labctl %v on %s: %v\n%s", args, node, err, out)
		}
		return out
	}
	holders("n1")
	nodes := l.Nodes()
	if len(nodes) != 2 || nodes[0].KeepalivedConf != KeepalivedConfPath || nodes[0].SSH != "198.51.100.11:22" {
		t.Fatalf("Nodes() = %+v", nodes)
	}
	for _, n := range nodes {
		if nginx, ka, err := l.Running(n.Name); err != nil || !nginx || !ka {
			t.Fatalf("Running(%s) = %v %v %v", n.Name, nginx, ka, err)
		}
		if out := ctl(n.Name, "keepalived", "status"); strings.TrimSpace(out) != "active" {
			t.Errorf("keepalived status on %s: %q", n.Name, out)
		}
		// keepalived's JSON dump, into the node's own TMPDIR.
		b, err := os.ReadFile(n.KeepalivedPID)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := n.Net.Output(ctx, "kill", "-36", strings.TrimSpace(string(b))); err != nil {
			t.Fatalf("kill -36: %v %s", err, out)
		}
		js := filepath.Join(n.KeepalivedTmp, "keepalived.json")
		var dump []byte
		for i := 0; i < 100 && len(dump) == 0; i++ {
			time.Sleep(10 * time.Millisecond)
			dump, _ = os.ReadFile(js)
		}
		if !strings.Contains(string(dump), `"iname":"VI_1"`) {
			t.Errorf("%s on %s: %q", js, n.Name, dump)
		}
		t.Logf("%s keepalived.json: %s", n.Name, dump)
	}

	// Over SSH, as a console or a migration reaches a node: its own
	// /etc/keepalived, its labctl, and keepalived in its own network
	// namespace.
	for _, n := range nodes {
		cfg := l.SSH()
		cfg.Target = "root@" + n.SSH
		c, err := ssh.Dial(ctx, cfg)
		if err != nil {
			t.Fatalf("ssh to %s: %v", n.Name, err)
		}
		out, err := c.Exec(ctx, "grep -c 198.51.100.100 "+n.KeepalivedConf+" && "+n.Labctl+" keepalived status && "+
			"[ $(readlink /proc/$(cat "+n.KeepalivedPID+")/ns/net) = $(readlink /proc/self/ns/net) ] && echo same-netns")
		c.Close()
		if err != nil || string(out) != "1\nactive\nsame-netns\n" {
			t.Errorf("over ssh on %s: %q %v", n.Name, out, err)
		}
	}

	t0 := time.Now()
	ctl("n1", "keepalived", "stop")
	holders("n2")
	t.Logf("keepalived stopped on n1: n2 holds the VIP %v later", time.Since(t0).Round(time.Millisecond))
	ctl("n1", "keepalived", "start")
	time.Sleep(5 * time.Second) // beyond Master_Down_Interval: n1 must stay BACKUP
	holders("n2")

	// nginx killed on the MASTER: check_nginx.sh (interval 2) starts it again.
	if err := l.nginx("n2").Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for out, _ := l.Ctl(ctx, "n2", "nginx", "status"); strings.TrimSpace(out) != "active"; out, _ = l.Ctl(ctx, "n2", "nginx", "status") {
		if time.Now().After(deadline) {
			t.Fatalf("nginx on n2 not restarted: %q\n%s", out, tailString(l.VipdOutput("n2"), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	holders("n2")

	// nginx held down on the MASTER: check_nginx.sh stops keepalived.
	ctl("n2", "nginx", "break")
	holders("n1")
	deadline = time.Now().Add(15 * time.Second)
	for {
		if _, ka, err := l.Running("n2"); err != nil {
			t.Fatal(err)
		} else if !ka {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("keepalived still runs on n2 with nginx held down\n%s", tailString(l.VipdOutput("n2"), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	ctl("n2", "nginx", "unmask")
	ctl("n2", "nginx", "start")
	ctl("n2", "keepalived", "start")
	time.Sleep(5 * time.Second)
	holders("n1")
}

// nginx is node name's nginx.
func (l *Lab) nginx(name string) *netns.Nginx {
	for _, ln := range l.nodes {
		if ln.net.Name == name {
			return ln.nginx
		}
	}
	return nil
}
