package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestArtifacts(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"vipd_0.1.0_amd64.deb", "vipd_0.2.0_amd64.deb", "vipd-linux-amd64", "vipd-linux-arm64"} {
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o755)
	}
	a := Artifacts{Dir: dir}
	tests := []struct {
		arch   string
		debian bool
		want   string
	}{
		{"amd64", true, "Debian package " + filepath.Join(dir, "vipd_0.2.0_amd64.deb")},
		{"amd64", false, "binary " + filepath.Join(dir, "vipd-linux-amd64")},
		{"arm64", true, "binary " + filepath.Join(dir, "vipd-linux-arm64")},
	}
	for _, tt := range tests {
		got, err := a.find(tt.arch, tt.debian)
		if err != nil || got.String() != tt.want {
			t.Errorf("find(%s, %v) = %v, %v; want %s", tt.arch, tt.debian, got, err, tt.want)
		}
	}
	_, err := Artifacts{Dir: t.TempDir()}.find("arm64", true)
	if err == nil || !strings.Contains(err.Error(), "put vipd_VERSION_arm64.deb (fixtures/release builds it) or vipd-linux-arm64 (CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build") {
		t.Errorf("no build: %v", err)
	}
	for m, want := range map[string]string{"x86_64": "amd64", "aarch64": "arm64"} {
		if got, err := goArch(m + "\n"); got != want || err != nil {
			t.Errorf("goArch(%s) = %s, %v", m, got, err)
		}
	}
	if _, err := goArch("riscv64"); err == nil {
		t.Error("riscv64: no error")
	}
}

// TestStageDeb: a Debian package is checked from its extracted tree and
// installed before keepalived stops, its unit pointed at vipd's file.
func TestStageDeb(t *testing.T) {
	deb := filepath.Join(t.TempDir(), "vipd_0.1.0_amd64.deb")
	os.WriteFile(deb, []byte("deb"), 0o644)
	v, err := BuildConfig("n1", seedFS(t), "/etc/keepalived/keepalived.conf", DefaultGuard)
	if err != nil {
		t.Fatal(err)
	}
	np := &nodePlan{Target: Target{Name: "n1", Layout: DefaultLayout}, Art: artifact{Deb: true, Path: deb, Arch: "amd64"}, Conf: v, Stage: "/root/.vipd-migrate", scripts: map[kind]*script{}}
	if err := np.stageFiles(nil); err != nil {
		t.Fatal(err)
	}
	np.setSettle(0)
	if np.Vipd != "/usr/sbin/vipd" || !strings.Contains(strings.Join(np.pre, "\n"), "dpkg-deb -x /root/.vipd-migrate/vipd_0.1.0_amd64.deb /root/.vipd-migrate/root") {
		t.Errorf("vipd %s, pre %q", np.Vipd, np.pre)
	}
	text := np.scripts[toVipd].Text()
	i, j := strings.Index(text, "dpkg -i /root/.vipd-migrate/vipd_0.1.0_amd64.deb"), strings.Index(text, "keepalived_stop ||")
	if i < 0 || j < 0 || i > j {
		t.Errorf("the package is not installed before keepalived stops:\n%s", text)
	}
	var drop string
	for _, f := range np.files {
		if strings.HasSuffix(f.Path, "vipctl-migrate.conf") {
			drop = string(f.Data)
		}
	}
	if !strings.Contains(drop, "ExecStart=\nExecStart=/usr/sbin/vipd -f /etc/vipd/keepalived.conf\n") {
		t.Errorf("drop-in:\n%s", drop)
	}
}

// TestUnitFor: a bare binary's unit is the repository's with ExecStart on
// vipd's file.
func TestUnitFor(t *testing.T) {
	b, err := os.ReadFile("../../fixtures/configs/vipd.service")
	if err != nil {
		t.Fatal(err)
	}
	u := string(unitFor(b, "/usr/local/sbin/vipd", "/etc/vipd/vipd.conf"))
	if !strings.Contains(u, "\nExecStart=/usr/local/sbin/vipd -f /etc/vipd/vipd.conf\n") || !strings.Contains(u, "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW") {
		t.Errorf("unit:\n%s", u)
	}
}
