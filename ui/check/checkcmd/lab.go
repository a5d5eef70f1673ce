package checkcmd

import (
	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/cluster"
)

// lab is the namespace lab's pair as check --lab reads it.
type lab interface {
	Cluster() *cluster.Cluster
	SSH() ssh.Config
	Close() error
}
