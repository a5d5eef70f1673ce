package demo

import (
	"context"
	"errors"
	"log/slog"

	"github.com/vipkit/vip/ui/cluster"
	"github.com/vipkit/vip/ui/console"
)

// LabPairName is the lab pair's name on the console.
const LabPairName = "lab"

// ErrLabUnsupported is why --lab fails off Linux: the lab is made of
// network namespaces (fixtures/netns); the in-process demo runs anywhere.
var ErrLabUnsupported = errors.New("the namespace lab is only supported on Linux")

// LabOptions adjust the lab demo.
type LabOptions struct {
	// Vipd is the vipd binary the nodes run; "" finds or builds one
	// (FindVipd).
	Vipd string
	// Keepalived runs the seed's pair instead of vipd: keepalived with
	// the seed's keepalived.conf and check_nginx.sh on each node, changed
	// only where the lab must (KeepalivedLab).
	Keepalived bool
	// Seed is the directory of the seed's keepalived.conf and
	// check_nginx.sh, for Keepalived; "" finds fixtures/configs of the
	// module in the working directory.
	Seed string
	// Logger receives the lab's progress; nil discards.
	Logger *slog.Logger
}

// target is what Main runs the console on: the in-process demo or the lab.
type target interface {
	Cluster() *cluster.Cluster
	Console(console.Options) *console.Console
	RunWith(context.Context, func(context.Context) error) error
	Close() error
}
