//go:build !unix

package guard

import "os/exec"

// Isolate is a no-op without Unix process groups and credentials: cmd runs
// as we do, and only cmd itself is killed when its context is done.
func Isolate(*exec.Cmd, string) error { return nil }
