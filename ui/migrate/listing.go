package migrate

import (
	"fmt"
	"strings"
)

// listing prints, for --dry-run, every file migrate would put, every
// command it would run and every script in full.
func (r *run) listing(plan []planned) {
	w := r.out
	fmt.Fprintf(w, "vipctl migrate --dry-run: pair %s; nothing is changed.\n\n", r.opts.Pair)
	for _, np := range r.nodes {
		fmt.Fprintf(w, "## %s: %s, %s; vipd: %s\n\n", np.Name, np.Arch, np.OS, np.Art)
		fmt.Fprintf(w, "Reads %s (never edited); vipd gets %s.\n", strings.Join(np.Conf.Files, ", "), np.Layout.Conf)
		for _, c := range np.Conf.Changes {
			fmt.Fprintf(w, "  - %s\n", c)
		}
		for _, c := range np.Conf.Warnings {
			fmt.Fprintf(w, "  - warning: %s\n", c)
		}
		fmt.Fprintf(w, "\nWould put, over SFTP as the login user:\n")
		for _, f := range np.files {
			if f.From != "" {
				fmt.Fprintf(w, "  %s (mode %04o): %s, %d bytes\n", f.Path, f.Mode, f.From, len(f.Data))
			}
		}
		for _, f := range np.files {
			if f.From == "" && !strings.HasSuffix(f.Path, ".sh") {
				fmt.Fprintf(w, "\n--- %s (mode %04o)\n%s", f.Path, f.Mode, f.Data)
				if !strings.HasSuffix(string(f.Data), "\n") {
					fmt.Fprintln(w)
				}
			}
		}
		fmt.Fprintf(w, "\nWould run, before any change (pre-flight):\n")
		for _, c := range np.pre {
			fmt.Fprintf(w, "  %s\n", c)
		}
		fmt.Fprintf(w, "And to read the node's state, before and after each step:\n")
		fmt.Fprintf(w, "  %s\n  %s\n  %s\n\n", sh(np.Layout.Commands.KeepalivedActive), sh(np.Vipd+" status --json"), sh("ip -o addr show"))
	}
	fmt.Fprintf(w, "## Steps\n\n0. baseline: the probe requests the VIP for %s; any failure stops here.\n", r.opts.Baseline)
	for i, p := range plan {
		s := p.node.scripts[p.kind]
		fmt.Fprintf(w, "%d. %s\n   on %s: %s\n   then every %s: %s\n", i+1, p.title(), p.node.Name, s.Launch(), pollEvery, s.Poll())
	}
	if len(plan) == 0 {
		fmt.Fprintf(w, "(nothing to do: both nodes run vipd)\n")
	}
	fmt.Fprintf(w, "If a step fails: each node on vipd runs its %s script, the one without the VIP first.\n", "to-keepalived")
	for _, p := range plan {
		s := p.node.scripts[p.kind]
		fmt.Fprintf(w, "\n--- %s on %s\n%s", s.path("sh"), p.node.Name, s.Text())
	}
	for _, np := range r.nodes {
		s := np.scripts[toKeepalived]
		fmt.Fprintf(w, "\n--- %s on %s (rollback only)\n%s", s.path("sh"), np.Name, s.Text())
	}
}
