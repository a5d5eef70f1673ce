package checkcmd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ssh/sshtest"
	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/cluster"
)

const conf = `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    priority 254
    nopreempt
    advert_int 1
    virtual_ipaddress {
        198.51.100.100/24
    }
}
`

// node is an sshtest server standing for a node: the file commands run on
// this machine, the process listing is the test's (a keepalived started
// with -f file, or nothing).
func node(t *testing.T, pub gossh.PublicKey, file string) *sshtest.Server {
	t.Helper()
	probe := fmt.Sprintf("boot %d 100 %d\n", time.Now().Add(-time.Hour).Unix(), time.Now().Unix())
	if file != "" {
		probe += "proc 10 1 keepalived 360000\ncwd /\narg keepalived\narg -f\narg " + file + "\n"
	}
	h := func(ctx context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		if strings.HasPrefix(cmd, "sh -c ") && strings.Contains(cmd, "/proc/self/ns/net") {
			io.WriteString(stdout, probe)
			return 0
		}
		c := exec.CommandContext(ctx, "sh", "-c", cmd)
		c.Stdout, c.Stderr = stdout, stderr
		var exit *exec.ExitError
		if err := c.Run(); errors.As(err, &exit) {
			return exit.ExitCode()
		} else if err != nil {
			return 127
		}
		return 0
	}
	return sshtest.NewServer(t, sshtest.Options{Handler: h, AuthorizedKeys: []gossh.PublicKey{pub}})
}

func TestRunExitCodes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the node's commands are GNU coreutils' (stat -c): Linux only")
	}
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(key, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"a.conf": conf, "b.conf": conf, "slow.conf": strings.Replace(conf, "advert_int 1", "advert_int 2", 1)}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	servers := map[string]*sshtest.Server{}
	var known bytes.Buffer
	for _, name := range []string{"a.conf", "b.conf", "slow.conf", ""} {
		s := node(t, sshPub, map[bool]string{true: filepath.Join(dir, name)}[name != ""])
		servers[name] = s
		known.WriteString(s.KnownHostsLine())
	}
	kh := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(kh, known.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	base := ssh.Config{ConfigFile: "none", KnownHosts: kh, IdentityFiles: []string{key}, AgentSocket: "none", Home: dir, Timeout: 5 * time.Second}
	pair := func(a, b string) *cluster.Cluster {
		return &cluster.Cluster{Pairs: []cluster.Pair{{Name: "web", Sudo: ssh.SudoNever, Nodes: []cluster.Node{
			{Name: "nginx-01", Target: "root@" + servers[a].Addr()}, {Name: "nginx-02", Target: "root@" + servers[b].Addr()}}}}}
	}
	for _, tt := range []struct {
		name string
		c    *cluster.Cluster
		exit int
		out  []string
	}{
		{"consistent", pair("a.conf", "b.conf"), check.ExitConsistent, []string{"pair web:", "nginx-01: keepalived, " + filepath.Join(dir, "a.conf"), "consistent, 0 warnings"}},
		{"mismatch", pair("a.conf", "slow.conf"), check.ExitMismatch, []string{
			"MISMATCH: VI_1 (VRID 60 on eth0): advert_int 1s on nginx-01, 2s on nginx-02",
			"    nginx-01: " + filepath.Join(dir, "a.conf") + ":6", "    nginx-02: " + filepath.Join(dir, "slow.conf") + ":6",
			"1 mismatch, 0 warnings: the pair is broken"}},
		{"no daemon", pair("a.conf", ""), check.ExitUnreadable, []string{"nginx-02: cannot read: neither vipd nor keepalived runs", "not checked"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out bytes.Buffer
			if got := Run(ctx, tt.c, base, &out); got != tt.exit {
				t.Errorf("exit %d, want %d", got, tt.exit)
			}
			for _, w := range tt.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestMainUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		exit int
		err  string
	}{
		{nil, check.ExitUnreadable, "vipctl check: no cluster"},
		{[]string{"--vip", "198.51.100.100", "--node", "a=h", "extra"}, check.ExitUnreadable, `unexpected argument "extra"`},
		{[]string{"-h"}, 0, "Exit status: 0 consistent"},
	} {
		var stdout, stderr bytes.Buffer
		if got := Main(tt.args, strings.NewReader(""), &stdout, &stderr); got != tt.exit || !strings.Contains(stderr.String(), tt.err) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tt.args, got, stderr.String(), tt.exit, tt.err)
		}
	}
}
