//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vipkit/vip/fixtures/netns"
	"github.com/vipkit/vip/node/control"
)

// The lab harness runs real vipd processes in a fixtures/netns lab, one per
// node, each guarding a real nginx. vipd is this test binary: started with
// asVipdEnv set, TestMain runs vipd's main instead of the tests, so no
// separate build is needed and the race detector covers the daemon too.

const asVipdEnv = "VIPD_TEST_AS_VIPD"

func TestMain(m *testing.M) {
	if os.Getenv(asVipdEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// labVIP is the seed's VIP moved to TEST-NET-2.
var labVIP = netip.MustParsePrefix("198.51.100.100/24")

// vipdLab is a netns lab whose nodes run nginx and, once started, vipd.
type vipdLab struct {
	t     *testing.T
	Lab   *netns.Lab
	Nodes []*vipdNode
}

// vipdNode is one node of a vipdLab.
type vipdNode struct {
	lab    *vipdLab
	Node   *netns.Node
	Nginx  *netns.Nginx
	Dir    string // its files: keepalived.conf, the control socket, nginx's
	Conf   string // Dir/keepalived.conf
	Socket string // Dir/vipd.sock
	Proc   *netns.Proc
}

// newVipdLab starts a lab of n nodes with nginx running on each and a
// keepalived.conf written by conf (SeedConf when nil). vipd is not started.
func newVipdLab(t *testing.T, n int, conf func(*vipdNode) string) *vipdLab {
	t.Helper()
	netns.RequireBinary(t, "nginx")
	l := &vipdLab{t: t, Lab: netns.New(t, netns.Config{Nodes: n})}
	if conf == nil {
		conf = SeedConf
	}
	for _, nd := range l.Lab.Nodes {
		dir := t.TempDir()
		v := &vipdNode{lab: l, Node: nd, Dir: dir, Conf: filepath.Join(dir, "keepalived.conf"), Socket: filepath.Join(dir, "vipd.sock")}
		v.Nginx = nd.StartNginx(t, t.TempDir())
		v.WriteConf(conf(v))
		l.Nodes = append(l.Nodes, v)
	}
	return l
}

// SeedConf is the seed's keepalived.conf for the lab: VRID 60, PASS
// authentication, nopreempt, both nodes BACKUP at priority 100, the VIP on
// TEST-NET-2, and vipd's nginx check (with the lab's start command) in
// place of check_nginx.sh.
func SeedConf(v *vipdNode) string {
	return fmt.Sprintf(`! Configuration File for keepalived
global_defs {
   router_id nginx-%s
}
vipd_nginx_check nginx {
    url %s
    pidfile %s
    start_command "%s"
}
vrrp_instance VI_1 {
    state BACKUP
    interface %s
    virtual_router_id 60
    nopreempt
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass qwert123
    }
    virtual_ipaddress {
        %s dev %s
    }
    track_script {
        nginx
    }
}
`, v.Node.Name, v.Nginx.URL, v.Nginx.PIDFile, strings.Join(v.Nginx.Argv(), " "), v.Node.Ifname, labVIP, v.Node.Ifname)
}

// WriteConf replaces the node's keepalived.conf (SIGHUP reloads it).
func (v *vipdNode) WriteConf(conf string) {
	v.lab.t.Helper()
	if err := os.WriteFile(v.Conf, []byte(conf), 0o644); err != nil {
		v.lab.t.Fatal(err)
	}
}

// vipdCommand returns the command that runs this binary as vipd with args.
func vipdCommand(ctx context.Context, args ...string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), asVipdEnv+"=1")
	return cmd
}

// Start runs vipd in the node's namespace, as `ip netns exec NS vipd -f
// CONF -socket SOCK args...`, and waits for its control socket.
func (v *vipdNode) Start(args ...string) {
	t := v.lab.t
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append([]string{asVipdEnv + "=1", exe, "-f", v.Conf, "-socket", v.Socket}, args...)
	v.Proc = v.Node.Start(t, "env", argv...) // env execs: the pid is vipd's
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(v.Socket); err == nil {
			return
		}
		if v.Proc.Exited() || time.Now().After(deadline) {
			t.Fatalf("vipd on %s did not open its control socket:\n%s", v.Node.Name, v.Proc.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits for vipd to exit; it must exit 0.
func (v *vipdNode) Stop() {
	t := v.lab.t
	t.Helper()
	if err := v.Proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := v.Proc.Wait(15 * time.Second); err != nil {
		t.Fatalf("vipd on %s after SIGTERM: %v\n%s", v.Node.Name, err, v.Proc.Output())
	}
}

// CLI runs `vipd args... -socket SOCK` (a client command: status, watch,
// ctl) from the test's namespace: the control socket is a file, reachable
// from anywhere. It returns stdout, stderr and the exit code.
func (v *vipdNode) CLI(args ...string) (stdout, stderr string, code int) {
	v.lab.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := vipdCommand(ctx, append(args, "-socket", v.Socket)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		v.lab.t.Fatalf("vipd %v: %v", args, err)
	}
	return out.String(), errOut.String(), code
}

// Status runs `vipd status --json` and decodes it as the console does.
func (v *vipdNode) Status() control.Status {
	t := v.lab.t
	t.Helper()
	out, errOut, code := v.CLI("status", "--json")
	if code != 0 {
		t.Fatalf("vipd status on %s: exit %d: %s", v.Node.Name, code, errOut)
	}
	st, err := control.DecodeStatus(strings.NewReader(out))
	if err != nil {
		t.Fatalf("vipd status on %s: %v\n%s", v.Node.Name, err, out)
	}
	return st
}

// WaitState polls Status until instance is in state, or fails the test
// after timeout.
func (v *vipdNode) WaitState(instance string, state control.State, timeout time.Duration) control.Instance {
	t := v.lab.t
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, in := range v.Status().Instances {
			if in.Name == instance && in.State == state {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not %s after %v:\n%s", v.Node.Name, instance, state, timeout, v.Proc.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitVIP polls the node's interface every 5 ms until the VIP is there
// (want) or not, and returns how long that took; it fails the test after
// timeout.
func (v *vipdNode) WaitVIP(want bool, timeout time.Duration) time.Duration {
	t := v.lab.t
	t.Helper()
	start := time.Now()
	for {
		has, err := v.Node.HasAddr(labVIP)
		if err != nil {
			t.Fatal(err)
		}
		if has == want {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: VIP present %v after %v, want %v", v.Node.Name, has, timeout, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
