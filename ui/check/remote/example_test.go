package remote_test

import (
	"context"
	"fmt"
	"os"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/check/remote"
)

// A pre-flight (vipctl migrate's) checks a pair over two SSH clients it
// already holds, and stops on anything but a consistent pair.
func Example() {
	ctx := context.Background()
	a, err := ssh.Dial(ctx, ssh.Config{Target: "root@198.51.100.11"})
	if err != nil {
		return
	}
	defer a.Close()
	b, err := ssh.Dial(ctx, ssh.Config{Target: "root@198.51.100.12"})
	if err != nil {
		return
	}
	defer b.Close()
	r, err := check.Pair(ctx, remote.Source(a, remote.Options{Name: "nginx-01"}), remote.Source(b, remote.Options{Name: "nginx-02"}))
	r.WriteTo(os.Stdout)
	if r.ExitCode() != check.ExitConsistent {
		fmt.Println("refusing to migrate:", r.Summary(), err)
	}
}
