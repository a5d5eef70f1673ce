//go:build linux

package checkcmd

import (
	"context"

	"github.com/vipkit/vip/ui/demo"
)

func startLab(ctx context.Context, vipd string) (lab, error) {
	return demo.NewLab(ctx, demo.LabOptions{Vipd: vipd})
}
