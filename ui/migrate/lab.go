//go:build linux

package migrate

import (
	"context"
	"log/slog"
	"path"

	"github.com/vipkit/vip/ui/demo"
	"github.com/vipkit/vip/ui/feed"
)

// LabLayout is where vipd goes on a node of the keepalived lab and how
// its daemons start there: the lab has no systemd, so labctl does
// systemctl's part (`labctl keepalived|vipd start|stop|status`), and each
// node's /etc/keepalived and /etc/vipd are its own (demo.Lab's mounts).
func LabLayout(n demo.LabNode) Layout {
	ctl := func(args string) string { return n.Labctl + " " + args }
	etc := path.Dir(n.VipdConf)
	return Layout{
		KeepalivedConf: n.KeepalivedConf,
		Conf:           n.VipdConf,
		Binary:         path.Join(etc, "vipd"),
		Stage:          path.Join(etc, "migrate"),
		Guard:          Guard{URL: "http://127.0.0.1/", PIDFile: n.NginxPIDFile, Start: []string{n.Labctl, "nginx", "start"}},
		Commands: Commands{
			KeepalivedStop:   ctl("keepalived stop"),
			KeepalivedStart:  ctl("keepalived start"),
			KeepalivedActive: ctl("keepalived status >/dev/null"),
			VipdStart:        ctl("vipd start"),
			VipdStop:         ctl("vipd stop"),
		},
		Deadline: DefaultLayout.Deadline,
	}
}

// LabOptions points opts at lab, a keepalived lab (demo.LabOptions
// Keepalived): its nodes over their sshd, the lab's vipd as the build for
// every architecture, the probe from the lab's client namespace.
func LabOptions(lab *demo.Lab, opts *Options) {
	opts.Pair, opts.VIP = demo.LabPairName, demo.VIP
	cfg := lab.SSH()
	var nodes []feed.ProbeNode
	for _, n := range lab.Nodes() {
		c := cfg
		c.Target = "root@" + n.SSH
		opts.Targets = append(opts.Targets, Target{Name: n.Name, Node: NewSSHNode(c), Layout: LabLayout(n)})
		opts.Artifacts.Binaries = map[string]string{"amd64": n.Vipd, "arm64": n.Vipd}
		nodes = append(nodes, feed.ProbeNode{Name: n.Name, Host: n.Net.Addr.String(), MAC: n.Net.MAC})
	}
	opts.Probe = feed.NewProbe(feed.ProbeConfig{URL: "http://" + demo.VIP.String() + "/", Timeout: ProbeTimeout, Dial: lab.DialVIP,
		Neighbors: lab.Neighbors(), Nodes: nodes})
}

// startLab builds the keepalived lab pair and points opts at it; the
// function returned removes it.
func startLab(ctx context.Context, log *slog.Logger, opts *Options) (func(), error) {
	lab, err := demo.NewLab(ctx, demo.LabOptions{Keepalived: true, Logger: log})
	if err != nil {
		return nil, err
	}
	LabOptions(lab, opts)
	return func() {
		for _, t := range opts.Targets {
			t.Node.Close()
		}
		if err := lab.Close(); err != nil {
			log.Error("lab not removed", "err", err)
		}
	}, nil
}
