//go:build !linux

package drill

import (
	"context"
	"io"

	"github.com/vipkit/vip/ui/console"
	"github.com/vipkit/vip/ui/demo"
)

func runLab(context.Context, demo.LabOptions, Options, console.Options, io.Reader, io.Writer, io.Writer) (*Report, error) {
	return nil, demo.ErrLabUnsupported
}
