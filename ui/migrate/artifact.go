package migrate

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Artifacts is where the vipd builds for the nodes come from: a directory,
// beside vipctl by default, holding for each architecture a Debian package
// vipd_VERSION_ARCH.deb (used on Debian and Ubuntu nodes) or a bare binary
// vipd-linux-ARCH (installed as Layout.Binary with the systemd unit).
type Artifacts struct {
	Dir string
	// Binaries, if set, name a bare binary per architecture ("amd64")
	// before Dir is looked in: the lab's vipd.
	Binaries map[string]string
}

// artifact is the vipd build chosen for one node.
type artifact struct {
	Deb  bool
	Path string // on this machine
	Arch string // Go's name: amd64, arm64
}

func (a artifact) String() string {
	if a.Deb {
		return "Debian package " + a.Path
	}
	return "binary " + a.Path
}

// goArch is Go's name for what `uname -m` prints.
func goArch(machine string) (string, error) {
	switch strings.TrimSpace(machine) {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64", "armv8l":
		return "arm64", nil
	}
	return "", fmt.Errorf("architecture %q: vipctl migrate has vipd builds for x86_64 (amd64) and aarch64 (arm64) only", strings.TrimSpace(machine))
}

// find chooses the build for a node of architecture arch, a Debian
// package first where the node runs Debian or a derivative.
func (a Artifacts) find(arch string, debian bool) (artifact, error) {
	if p, ok := a.Binaries[arch]; ok {
		return artifact{Path: p, Arch: arch}, nil
	}
	if debian {
		debs, _ := filepath.Glob(filepath.Join(a.Dir, "vipd_*_"+arch+".deb"))
		if len(debs) > 0 {
			slices.Sort(debs) // the last is the newest version, as these names sort
			return artifact{Deb: true, Path: debs[len(debs)-1], Arch: arch}, nil
		}
	}
	bin := filepath.Join(a.Dir, "vipd-linux-"+arch)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return artifact{Path: bin, Arch: arch}, nil
	}
	want := "vipd-linux-" + arch + fmt.Sprintf(" (CGO_ENABLED=0 GOOS=linux GOARCH=%s go build -o %s ./cmd/vipd)", arch, bin)
	if debian {
		want = "vipd_VERSION_" + arch + ".deb (fixtures/release builds it) or " + want
	}
	return artifact{}, fmt.Errorf("no vipd for linux/%s beside vipctl: put %s in %s", arch, want, a.Dir)
}

// DefaultArtifacts looks beside the running vipctl.
func DefaultArtifacts() Artifacts {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return Artifacts{Dir: "."}
	}
	return Artifacts{Dir: filepath.Dir(exe)}
}
