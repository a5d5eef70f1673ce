//go:build !linux

package demo

import "context"

func startLab(context.Context, LabOptions) (target, error) { return nil, ErrLabUnsupported }
