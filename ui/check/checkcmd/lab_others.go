//go:build !linux

package checkcmd

import (
	"context"

	"github.com/vipkit/vip/ui/demo"
)

func startLab(context.Context, string) (lab, error) { return nil, demo.ErrLabUnsupported }
