package guard

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPIDFile(t *testing.T) {
	dir := t.TempDir()
	proc := filepath.Join(dir, "proc")
	for pid, stat := range map[int]string{
		100: "100 (nginx) S 1 100 100 0 -1 4194624 ...",
		101: "101 (nginx) Z 1 101 101 0 -1 4227084 ...",
		102: "102 (nginx) T 1 102 102 0 -1 4194624 ...", // SIGSTOPped: alive
		103: "103 (a) Z (b)) R 1 103 ...",               // comm with ") " in it
		104: "104 (nginx) X 1 ...",
		105: "105 (nginx)",
	} {
		if err := os.MkdirAll(filepath.Join(proc, strconv.Itoa(pid)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, strconv.Itoa(pid), "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		content string // of the pid file; "-" for no file
		want    string // error substring; "" for alive
	}{
		{"100\n", ""},
		{"101\n", "master process 101 is dead (state Z)"},
		{"102", ""},
		{"103\n", ""},
		{"104\n", "master process 104 is dead (state X)"},
		{"105\n", "malformed"},
		{"999\n", "master process 999 is gone"},
		{"", "holds no pid"},
		{"nginx\n", "holds no pid"},
		{"-", "no pid file"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, "nginx.pid")
		os.Remove(path)
		if tt.content != "-" {
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		err := PIDFile{Path: path, Proc: proc}.Check(context.Background())
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("pid file %q: %v, want %q", tt.content, err, tt.want)
		}
	}
}

// TestPIDFileReal checks our own, live process through the real /proc.
func TestPIDFileReal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (PIDFile{Path: path}).Check(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestHTTPProbe runs the real probe against servers on loopback.
func TestHTTPProbe(t *testing.T) {
	hang := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != "vipd-guard" || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		switch r.URL.Path {
		case "/ok":
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		case "/elsewhere":
			w.WriteHeader(http.StatusInternalServerError) // must not be followed
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		case "/hang":
			<-hang
		case "/big":
			w.Header().Set("X-Long", strings.Repeat("h", 3000))
			w.Write([]byte(strings.Repeat("body", 10000)))
		case "/stall":
			w.Write([]byte("part"))
			w.(http.Flusher).Flush()
			<-hang
		}
	})
	srv := httptest.NewServer(handler)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(handler)
	defer tlsSrv.Close()
	defer close(hang) // before Close, which waits for handlers

	// Something that is not an HTTP server.
	junk, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer junk.Close()
	go func() {
		for {
			c, err := junk.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	}()

	// A port nobody listens on: take one and give it back.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/"
	l.Close()

	tests := []struct {
		url       string
		maxStatus int
		want      string // error substring; "" for healthy
	}{
		{srv.URL + "/ok", 0, ""},
		{srv.URL + "/missing", 0, ""},
		{srv.URL + "/missing", 399, "status 404 Not Found"},
		{srv.URL + "/moved", 0, ""},
		{srv.URL + "/broken", 0, "status 502 Bad Gateway"},
		{srv.URL + "/hang", 0, "no answer after 1"},
		{refused, 0, "GET " + refused + ": connect: connection refused"},
		{srv.URL + "/big?q=1", 0, ""},
		{srv.URL + "/stall", 0, "reading the body: no answer after 1"},
		{tlsSrv.URL + "/ok", 0, ""},
		{tlsSrv.URL + "/broken", 0, "status 502 Bad Gateway"},
		{"http://" + junk.Addr().String() + "/", 0, `not an HTTP/1.x answer: "SSH-2.0`},
		{"ftp://127.0.0.1/", 0, "is not an http(s) URL"},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		start := time.Now()
		err := NewHTTPProbe(tt.url, tt.maxStatus, nil).Probe(ctx)
		took := time.Since(start)
		cancel()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s (max %d): %v, want %q", tt.url, tt.maxStatus, err, tt.want)
		}
		if took > time.Second {
			t.Errorf("%s took %v, beyond its 150ms deadline", tt.url, took)
		}
	}
}

func TestExec(t *testing.T) {
	ctx := context.Background()
	if err := (Exec{}).Run(ctx, Command{Argv: []string{"true"}}); err != nil {
		t.Errorf("true: %v", err)
	}
	err := Exec{}.Run(ctx, Command{Argv: []string{"sh", "-c", "echo starting; echo 'nginx: [emerg] boom' >&2; exit 1"}})
	if err == nil || err.Error() != "exit status 1: nginx: [emerg] boom" {
		t.Errorf("failing command: %v", err)
	}
	if err := (Exec{}).Run(ctx, Command{Argv: []string{"/nonexistent/nginx"}}); err == nil {
		t.Error("missing program succeeded")
	}
}

// TestExecKillsGroup: at the deadline the command and everything in its
// process group die, and Run returns at once.
func TestExecKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Exec{}.Run(ctx, Command{Argv: []string{"sh", "-c", "sleep 30 & echo $! >" + pidFile + "; wait"}})
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Run = %v, want killed", err)
	}
	if took < 300*time.Millisecond || took > time.Second {
		t.Errorf("Run returned after %v, want just after the 300ms deadline", took)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// The orphaned child may linger as a zombie until it is reaped.
	deadline := time.Now().Add(2 * time.Second)
	for {
		st, err := procState("/proc/" + strconv.Itoa(child) + "/stat")
		if err != nil || st == 'Z' || st == 'X' {
			break
		}
		if time.Now().After(deadline) {
			killPID(child)
			t.Fatalf("child %d of the killed command still running (state %c)", child, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExecDaemon: a command that leaves a daemon behind holding its output
// (as `nginx` does when it forks) returns as soon as the command exits.
func TestExecDaemon(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "daemon")
	start := time.Now()
	err := Exec{}.Run(context.Background(), Command{Argv: []string{"sh", "-c", "setsid sleep 5 & echo $! >" + pidFile}})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Run took %v with a daemon holding its output", took)
	}
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			killPID(pid)
		}
	}
}

func TestExecUser(t *testing.T) {
	self := strconv.Itoa(os.Geteuid())
	want := self
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("no user nobody")
		}
		want = u.Uid
	}
	check := func(user, uid string) {
		t.Helper()
		err := Exec{}.Run(context.Background(), Command{
			Argv: []string{"sh", "-c", `test "$(id -u)" = ` + uid + ` || { echo "uid $(id -u)"; exit 1; }`},
			User: user,
		})
		if err != nil {
			t.Errorf("user %q: %v, want uid %s", user, err, uid)
		}
	}
	check("nobody", want)                 // switched only when we are root
	check("no-such-user-vipd-test", self) // unknown: runs as we do
	check("", self)
}

// TestPIDWatch watches real processes through pidfds: an exit is announced
// at once, a new master in the pid file is watched in turn, and a stopped
// watch announces nothing.
func TestPIDWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nginx.pid")
	start := func() *exec.Cmd {
		t.Helper()
		c := exec.Command("sleep", "100")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Process.Kill(); c.Wait() })
		if err := os.WriteFile(path, []byte(strconv.Itoa(c.Process.Pid)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return c
	}
	exited := func(w *PIDWatch, want bool) {
		t.Helper()
		wait := 2 * time.Second
		if !want {
			wait = 100 * time.Millisecond
		}
		select {
		case <-w.Exited():
			if !want {
				t.Error("exit announced for a process nobody watched")
			}
		case <-time.After(wait):
			if want {
				t.Error("exit not announced within 2s")
			}
		}
	}
	w := NewPIDWatch(PIDFile{Path: path})
	defer w.Close()
	for i := 0; i < 2; i++ { // the second master replaces the first
		c := start()
		for j := 0; j < 3; j++ { // re-checks of one master arm one watch
			if err := w.Check(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		began := time.Now()
		c.Process.Kill()
		exited(w, true)
		t.Logf("master %d: exit announced after %v", i+1, time.Since(began))
		exited(w, false)
	}
	c := start()
	if err := w.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.Close()
	c.Process.Kill()
	exited(w, false)
}

// killPID SIGKILLs what a test left running.
func killPID(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}
