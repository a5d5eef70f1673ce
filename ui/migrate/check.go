package migrate

import (
	"context"
	"strings"

	"github.com/vipkit/vip/ui/check"
	"github.com/vipkit/vip/ui/check/remote"
	"github.com/vipkit/vip/ui/feed"
)

// pairCheck is `vipctl check` on the pair's two nodes, over their own
// links: what each daemon loaded, compared.
func pairCheck(opts Options) PairCheck {
	if len(opts.Targets) != 2 {
		return nil
	}
	src := func(t Target) check.Source {
		return remote.Source(t.Node, remote.Options{Name: t.Name, Vipd: feed.Vipd{Command: t.Layout.withDefaults().Binary}})
	}
	a, b := src(opts.Targets[0]), src(opts.Targets[1])
	return func(ctx context.Context) (int, string, error) {
		rep, err := check.Pair(ctx, a, b)
		if err != nil {
			return 2, "", err
		}
		return rep.ExitCode(), rep.Summary() + "\n" + strings.Join(rep.Lines(), "\n"), nil
	}
}
