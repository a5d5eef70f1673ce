//go:build !linux

package migrate

import (
	"context"
	"log/slog"

	"github.com/vipkit/vip/ui/demo"
)

func startLab(context.Context, *slog.Logger, *Options) (func(), error) {
	return nil, demo.ErrLabUnsupported
}
