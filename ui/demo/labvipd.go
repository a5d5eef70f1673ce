//go:build linux

package demo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// vipdPackage is what FindVipd builds.
const vipdPackage = "github.com/vipkit/vip/cmd/vipd"

// FindVipd returns a vipd for the lab's nodes: the one next to this
// program's executable (where `go build -o DIR ./cmd/...` and an install
// put both), else one built into dir with `go build` from the module the
// working directory is in (`go run ./cmd/vipctl demo --lab`, go test).
// built says which.
func FindVipd(ctx context.Context, dir string) (path string, built bool, err error) {
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			next := filepath.Join(filepath.Dir(exe), "vipd")
			if fi, err := os.Stat(next); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
				return next, false, nil
			}
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", false, fmt.Errorf("no vipd next to vipctl and no go toolchain to build one: build it with `go build -o DIR ./cmd/vipd` next to vipctl, or give --vipd PATH")
	}
	out := filepath.Join(dir, "vipd")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", out, vipdPackage)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", false, fmt.Errorf("failed to build vipd (run vipctl from the module's directory, or give --vipd PATH): %w: %s", err, strings.TrimSpace(string(msg)))
	}
	return out, true, nil
}
