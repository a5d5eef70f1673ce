package ssh_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/vipkit/vip/ssh"
)

// A console keeps a link to each node up, shows its state, and follows
// vipd's event stream while connected.
func ExampleConn() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	conn := ssh.New(ssh.Config{
		Target: "lb1", // a Host alias of ~/.ssh/config
		Confirm: func(ctx context.Context, p ssh.HostKeyPrompt) bool {
			// A real UI shows p.Fingerprint and waits for y/n or ctx.
			fmt.Printf("Unknown host %s, key %s\n", p.Host, p.Fingerprint)
			return false
		},
		KeepAlive: 5 * time.Second,
	})
	go func() {
		if err := conn.Run(ctx); err != nil {
			log.Print(err)
		}
	}()

	for s := range conn.Updates() {
		fmt.Println(s) // "disconnected since 12:03:04 (attempt 2): …"
		var changed *ssh.HostKeyChangedError
		if errors.As(s.LastErr, &changed) {
			// Run waits for conn.Redial: the operator's "reconnect",
			// once they have run the remedy.
			log.Printf("to fix: %s, then reconnect", changed.Remedy())
		}
		if !s.Connected {
			continue
		}
		r, err := conn.Stream(ctx, "vipd watch --json")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			fmt.Println(sc.Text()) // one JSON event per line
		}
		r.Close()
	}
}
