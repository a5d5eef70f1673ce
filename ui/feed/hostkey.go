package feed

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/vipkit/vip/ssh"
)

// Prompt asks the operator about host keys that known_hosts does not hold,
// as ssh(1) does: the fingerprint, and only "yes" accepts. Its Confirm is
// an ssh.Config.Confirm; questions from several dials are asked one at a
// time.
type Prompt struct {
	In  io.Reader // the operator's answers, a line each
	Out io.Writer // where questions go

	mu      sync.Mutex
	br      *bufio.Reader
	pending chan string // a read left waiting by a cancelled question
}

// Confirm implements ssh.Config.Confirm.
func (p *Prompt) Confirm(ctx context.Context, k ssh.HostKeyPrompt) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.br == nil {
		p.br = bufio.NewReader(p.In)
	}
	remote := ""
	if k.Remote != nil {
		remote = " (" + k.Remote.String() + ")"
	}
	fmt.Fprintf(p.Out, "The authenticity of host '%s%s' can't be established.\n", k.Host, remote)
	if len(k.KnownTypes) > 0 {
		fmt.Fprintf(p.Out, "WARNING: %s knows this host by a key of another type (%s).\n", k.File, strings.Join(k.KnownTypes, ", "))
	}
	fmt.Fprintf(p.Out, "%s key fingerprint is %s.\n", k.Key.Type(), k.Fingerprint)
	for {
		fmt.Fprintf(p.Out, "Trust it and add it to %s (yes/no)? ", k.File)
		if p.pending == nil {
			answer := make(chan string, 1)
			go func() {
				line, err := p.br.ReadString('\n')
				if err != nil && line == "" {
					line = "no" // no terminal: nobody said yes
				}
				answer <- strings.TrimSpace(line)
			}()
			p.pending = answer
		}
		var a string
		select {
		case a = <-p.pending:
			p.pending = nil
		case <-ctx.Done():
			fmt.Fprintln(p.Out)
			return false
		}
		switch strings.ToLower(a) {
		case "yes":
			return true
		case "no", "n":
			fmt.Fprintf(p.Out, "Not connecting to %s.\n", k.Host)
			return false
		}
		fmt.Fprintln(p.Out, `Please type "yes" or "no".`)
	}
}

// PreflightTimeout bounds CheckHostKeys' dial of each node, not counting
// the time the operator takes to answer: a node down at startup must not
// hold the console up for long.
const PreflightTimeout = 5 * time.Second

// CheckHostKeys connects to each target once, at the same time, so that
// any host key known_hosts does not hold is confirmed through confirm
// before the console takes the terminal over. A target named twice (two
// pairs on the same hosts) is dialled once, and each key of each host is
// asked about once (ssh.ConfirmOnce). It returns the error of each dial
// (nil for those that logged in); the console will show them again, so
// the caller may ignore them.
func CheckHostKeys(ctx context.Context, cfgs []ssh.Config, confirm func(context.Context, ssh.HostKeyPrompt) bool) []error {
	confirm = ssh.ConfirmOnce(confirm)
	errs := make([]error, len(cfgs))
	first := map[dialKey]int{} // the index dialled for each target
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		k := dialKey{cfg.Target, cfg.ConfigFile, cfg.KnownHosts, cfg.Home}
		if _, ok := first[k]; ok {
			continue
		}
		first[k] = i
		cfg.Confirm = confirm
		if cfg.Timeout <= 0 || cfg.Timeout > PreflightTimeout {
			cfg.Timeout = PreflightTimeout
		}
		wg.Go(func() {
			c, err := ssh.Dial(ctx, cfg)
			if err == nil {
				c.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, cfg := range cfgs {
		errs[i] = errs[first[dialKey{cfg.Target, cfg.ConfigFile, cfg.KnownHosts, cfg.Home}]]
	}
	return errs
}

// dialKey is what makes two configs dial the same host the same way, as
// far as its host key goes.
type dialKey struct{ target, configFile, knownHosts, home string }
