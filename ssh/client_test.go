package ssh

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/vipkit/vip/ssh/sshtest"
)

func TestConfigAlias(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	h := home(t)
	k := newKey(t)
	k.write(t, filepath.Join(h, "keys", "lb1"))
	srv := sshtest.NewServer(t, sshtest.Options{
		User:           "deploy",
		AuthorizedKeys: []gossh.PublicKey{k.pub()},
		Handler:        echo("hello"),
	})
	writeFile(t, filepath.Join(h, ".ssh", "known_hosts"), srv.KnownHostsLine())
	writeFile(t, filepath.Join(h, ".ssh", "config"), fmt.Sprintf(`
Host lb1
  HostName 127.0.0.1
  Port %d
  User deploy
  IdentityFile ~/keys/lb1
`, srv.Port()))

	c, err := Dial(ctx, Config{Target: "lb1", Home: h, AgentSocket: "none", Sudo: SudoNever, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.User() != "deploy" {
		t.Errorf("User() = %q, want deploy", c.User())
	}
	out, err := c.Exec(ctx, "anything")
	if err != nil || string(out) != "hello" {
		t.Fatalf("Exec = %q, %v", out, err)
	}
}

func TestProxyJump(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// config returns ~/.ssh/config for jump servers j1, j2 and target
		// port tp; the target is Host "node".
		config func(j1, j2, tp int) string
		// via are the jump servers expected to forward.
		via []int
	}{
		{
			name: "one hop",
			config: func(j1, _, tp int) string {
				return fmt.Sprintf(`
Host jump
  HostName 127.0.0.1
  Port %d
  User jumper
Host node
  HostName 127.0.0.1
  Port %d
  ProxyJump jump
`, j1, tp)
			},
			via: []int{0},
		},
		{
			name: "two hops inline",
			config: func(j1, j2, tp int) string {
				return fmt.Sprintf(`
Host node
  HostName 127.0.0.1
  Port %d
  ProxyJump jumper@127.0.0.1:%d,jumper@127.0.0.1:%d
`, tp, j1, j2)
			},
			via: []int{0, 1},
		},
		{
			name: "jump host's own ProxyJump",
			config: func(j1, j2, tp int) string {
				return fmt.Sprintf(`
Host outer
  HostName 127.0.0.1
  Port %d
  User jumper
Host inner
  HostName 127.0.0.1
  Port %d
  User jumper
  ProxyJump outer
Host node
  HostName 127.0.0.1
  Port %d
  ProxyJump inner
`, j1, j2, tp)
			},
			via: []int{0, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := bound(t, 20*time.Second)
			e := newEnv(t, sshtest.Options{User: "root", Handler: echo("on node")})
			var jumps []*sshtest.Server
			for range 2 {
				j := sshtest.NewServer(t, sshtest.Options{
					User:           "jumper",
					AuthorizedKeys: []gossh.PublicKey{e.key.pub()},
					Forward:        sshtest.LoopbackOnly,
				})
				jumps = append(jumps, j)
				writeFile(t, e.knownHosts(), readFile(t, e.knownHosts())+j.KnownHostsLine())
			}
			writeFile(t, filepath.Join(e.home, ".ssh", "config"), tt.config(jumps[0].Port(), jumps[1].Port(), e.srv.Port()))

			cfg := e.config(t, "")
			cfg.Target = "root@node"
			c := e.dial(t, ctx, cfg)
			out, err := c.Exec(ctx, "hostname")
			if err != nil || string(out) != "on node" {
				t.Fatalf("Exec = %q, %v", out, err)
			}
			for i, j := range jumps {
				want := 0
				for _, v := range tt.via {
					if v == i {
						want = 1
					}
				}
				if j.Forwards() != want {
					t.Errorf("jump %d forwarded %d times, want %d", i, j.Forwards(), want)
				}
			}
			// Closing the client closes the hops.
			c.Close()
			select {
			case <-c.Done():
			case <-ctx.Done():
				t.Fatal("Done not closed after Close")
			}
		})
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sshtest.Options{Handler: commands(map[string]sshtest.Handler{
		"vipd status --json": echo(`{"state":"MASTER"}` + "\n"),
		"fail": func(_ context.Context, _ string, stdout, stderr io.Writer, _ io.Reader) int {
			io.WriteString(stdout, "partial")
			io.WriteString(stderr, "vipd: control socket: connection refused\n")
			return 3
		},
		"hang": func(ctx context.Context, _ string, _, _ io.Writer, _ io.Reader) int {
			<-ctx.Done()
			return 143
		},
	})})
	c := e.dial(t, bound(t, 20*time.Second), e.config(t, "root"))

	tests := []struct {
		cmd        string
		timeout    time.Duration
		wantOut    string
		wantStatus int // 0: success; -1: ctx error
		wantStderr string
	}{
		{cmd: "vipd status --json", wantOut: `{"state":"MASTER"}` + "\n"},
		{cmd: "fail", wantOut: "partial", wantStatus: 3, wantStderr: "connection refused"},
		{cmd: "nosuch", wantStatus: 127, wantStderr: "not found"},
		{cmd: "hang", timeout: 200 * time.Millisecond, wantStatus: -1},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			ctx := bound(t, 10*time.Second)
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			out, err := c.Exec(ctx, tt.cmd)
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("Exec: %v", err)
			case tt.wantStatus == -1:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Exec = %v, want DeadlineExceeded", err)
				}
				return
			case tt.wantStatus > 0:
				var exit *ExitError
				if !errors.As(err, &exit) {
					t.Fatalf("Exec = %v, want *ExitError", err)
				}
				if exit.Status != tt.wantStatus || !strings.Contains(exit.Stderr, tt.wantStderr) || !strings.Contains(err.Error(), tt.wantStderr) {
					t.Errorf("ExitError = %+v, want status %d and stderr with %q", exit, tt.wantStatus, tt.wantStderr)
				}
			}
			if string(out) != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out, tt.wantOut)
			}
		})
	}
}

func TestSudo(t *testing.T) {
	t.Parallel()
	// The server plays sudo: it records the command line and, for user
	// "nopw", refuses as sudo -n does without NOPASSWD.
	var mu sync.Mutex
	var got []string
	handler := func(_ context.Context, cmd string, stdout, stderr io.Writer, _ io.Reader) int {
		mu.Lock()
		got = append(got, cmd)
		mu.Unlock()
		if strings.HasSuffix(cmd, "needs-password") && strings.HasPrefix(cmd, "sudo -n ") {
			io.WriteString(stderr, "sudo: a password is required\n")
			return 1
		}
		io.WriteString(stdout, "ok")
		return 0
	}
	e := newEnv(t, sshtest.Options{Handler: handler})

	tests := []struct {
		user string
		mode SudoMode
		cmd  string
		want string // command line the server sees
		err  error
	}{
		{user: "root", mode: SudoAuto, cmd: "vipd status --json", want: "vipd status --json"},
		{user: "deploy", mode: SudoAuto, cmd: "vipd status --json", want: "sudo -n vipd status --json"},
		{user: "root", mode: SudoAlways, cmd: "vipd ctl fault --reason drill", want: "sudo -n vipd ctl fault --reason drill"},
		{user: "deploy", mode: SudoNever, cmd: "vipd status --json", want: "vipd status --json"},
		{user: "deploy", mode: SudoAuto, cmd: "needs-password", want: "sudo -n needs-password", err: ErrSudoPassword},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.mode.String()+"/"+tt.cmd, func(t *testing.T) {
			ctx := bound(t, 10*time.Second)
			cfg := e.config(t, tt.user)
			cfg.Sudo = tt.mode
			c := e.dial(t, ctx, cfg)
			mu.Lock()
			got = nil
			mu.Unlock()
			_, err := c.Exec(ctx, tt.cmd)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Exec = %v, want %v", err, tt.err)
			}
			if err != nil && !strings.Contains(err.Error(), "NOPASSWD") {
				t.Errorf("error %q does not say how to fix it", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("server ran %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStream(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	next := make(chan struct{})    // the test lets the server write one more line
	stopped := make(chan error, 1) // why the server's command ended
	e := newEnv(t, sshtest.Options{Handler: commands(map[string]sshtest.Handler{
		"vipd watch --json": func(ctx context.Context, _ string, stdout, _ io.Writer, _ io.Reader) int {
			for i := 0; i < 1000; i++ {
				if _, err := fmt.Fprintf(stdout, `{"seq":%d}`+"\n", i); err != nil {
					stopped <- err
					return 1
				}
				select {
				case <-next:
				case <-ctx.Done():
					stopped <- ctx.Err()
					return 143
				}
			}
			stopped <- errors.New("ran out of lines")
			return 0
		},
		"exit 2": func(_ context.Context, _ string, stdout, stderr io.Writer, _ io.Reader) int {
			io.WriteString(stdout, "last words\n")
			io.WriteString(stderr, "vipd: not running\n")
			return 2
		},
	})})
	c := e.dial(t, ctx, e.config(t, "root"))

	t.Run("lines as they come", func(t *testing.T) {
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		r, err := c.Stream(sctx, "vipd watch --json")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		sc := bufio.NewScanner(r)
		for i := range 3 {
			// Each line arrives while the server waits for us, so it
			// cannot have been buffered until the command ended.
			if !sc.Scan() {
				t.Fatalf("line %d: %v", i, sc.Err())
			}
			if want := fmt.Sprintf(`{"seq":%d}`, i); sc.Text() != want {
				t.Fatalf("line %d = %q, want %q", i, sc.Text(), want)
			}
			next <- struct{}{}
		}
		cancel()
		if sc.Scan() && sc.Text() != `{"seq":3}` {
			t.Fatalf("after cancel read %q", sc.Text())
		}
		for sc.Scan() {
		}
		if !errors.Is(sc.Err(), context.Canceled) {
			t.Errorf("after cancel Read = %v, want context.Canceled", sc.Err())
		}
		select {
		case err := <-stopped:
			t.Logf("server command ended: %v", err)
		case <-ctx.Done():
			t.Fatal("remote command still running after cancel")
		}
	})

	t.Run("close stops", func(t *testing.T) {
		r, err := c.Stream(ctx, "vipd watch --json")
		if err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil || line != `{"seq":0}`+"\n" {
			t.Fatalf("first line = %q, %v", line, err)
		}
		r.Close()
		select {
		case <-stopped:
		case <-ctx.Done():
			t.Fatal("remote command still running after Close")
		}
	})

	t.Run("exit status", func(t *testing.T) {
		r, err := c.Stream(ctx, "exit 2")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		var exit *ExitError
		if string(b) != "last words\n" || !errors.As(err, &exit) || exit.Status != 2 || !strings.Contains(exit.Stderr, "not running") {
			t.Fatalf("ReadAll = %q, %v; want the output, then an ExitError with status 2", b, err)
		}
	})
}

// A server that stopped answering must not hold Exec or Stream past ctx.
func TestStalledServer(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	e := newEnv(t, sshtest.Options{Handler: echo("ok")})
	c := e.dial(t, ctx, e.config(t, "root"))
	r, err := c.Stream(ctx, "watch")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if b, err := io.ReadAll(r); err != nil || string(b) != "ok" {
		t.Fatalf("ReadAll = %q, %v", b, err)
	}
	e.srv.Stall()
	defer e.srv.Resume()

	for _, tt := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"Exec", func(ctx context.Context) error { _, err := c.Exec(ctx, "x"); return err }},
		{"Stream", func(ctx context.Context) error {
			r, err := c.Stream(ctx, "x")
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.ReadAll(r)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.do(tctx)
			if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
				t.Fatalf("%s = %v after %s, want DeadlineExceeded soon after 200ms", tt.name, err, time.Since(start))
			}
		})
	}
}

// DialContext makes the first hop's connection: a lab console dials from
// inside the lab's client namespace through it.
func TestDialContextHook(t *testing.T) {
	t.Parallel()
	ctx := bound(t, 20*time.Second)
	h := home(t)
	k := newKey(t)
	k.write(t, filepath.Join(h, "keys", "id"))
	srv := sshtest.NewServer(t, sshtest.Options{
		User:           "root",
		AuthorizedKeys: []gossh.PublicKey{k.pub()},
		Handler:        echo("hello"),
	})
	writeFile(t, filepath.Join(h, ".ssh", "known_hosts"), srv.KnownHostsLine())
	var dialed []string
	c, err := Dial(ctx, Config{
		Target:        fmt.Sprintf("root@127.0.0.1:%d", srv.Port()),
		Home:          h,
		IdentityFiles: []string{filepath.Join(h, "keys", "id")},
		AgentSocket:   "none",
		Sudo:          SudoNever,
		Logger:        testLogger(t),
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dialed = append(dialed, network+" "+addr)
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if want := fmt.Sprintf("tcp 127.0.0.1:%d", srv.Port()); len(dialed) != 1 || dialed[0] != want {
		t.Fatalf("DialContext calls %q, want [%q]", dialed, want)
	}
	if out, err := c.Exec(ctx, "x"); err != nil || string(out) != "hello" {
		t.Fatalf("Exec = %q, %v", out, err)
	}
}
