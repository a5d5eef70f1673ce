// Package demo is `vipctl demo`: a pair of nginx nodes made highly
// available by vipd, running in-process, that the real console watches over
// real SSH. It needs no configuration, no root and no network: everything
// is in memory or on 127.0.0.1.
//
// The pair itself (Pair: two vipd daemons on an in-memory VRRP segment,
// each guarding a stand-in nginx, behind each node's shell) is
// node/demopair's: ui never imports the daemon, and cmd/vipctl passes the
// pair in (NewPair). This package gives each node an in-process SSH server
// (sshtest) on 127.0.0.1 whose sessions run the node's shell, so that the
// console's `vipd status|watch|ctl` are the production feeds. The SSH host
// keys and the client key are made for the run and trusted through a
// temporary known_hosts.
//
// The console's probe of the VIP is sent to whichever in-memory node holds
// it (Pair.DialVIP), the way a client's ARP would find the master.
//
// Main is `vipctl demo`: the console on the demo (or the lab), its
// actions recorded in an audit log, a temporary one by default, named on
// exit when an action was recorded.
//
// Over SSH each node also answers `demo nginx stop|start|break|status`, to
// stop its stand-in nginx (the guard starts it again), start it, or break
// it so that restarts fail and the node gives the VIP up, and `demo vipd
// stop|start|status`, which stops vipd as systemd would (it hands the VIP
// over and its socket goes) and starts a fresh one. Commands() are these,
// for the console's gate.
//
// # The lab
//
// Lab is `vipctl demo --lab` (root, Linux only: elsewhere --lab fails with
// ErrLabUnsupported; the in-process demo has no Linux-only part): the same
// pair on a namespace lab (fixtures/netns), with a real nginx, a real
// OpenSSH sshd and a real vipd process on each node, and the console's SSH
// and probe sockets made in the lab's client namespace. vipd is found next
// to vipctl or built with go build (FindVipd). The nodes share the host's
// filesystem, so each one's sshd and vipd see the node's own directories at
// /run/vipd (the default control socket) and /run/vipctl-lab (its labctl,
// which stands in for systemctl in the drills: LabCommands).
//
// With --keepalived (LabOptions.Keepalived) the lab runs the seed's pair
// instead: keepalived 2.x on each node with the seed's keepalived.conf and
// check_nginx.sh in the node's own /etc/keepalived, changed only where the
// lab must (labkeepalived.go). Lab.Nodes says how to reach each node and
// where its files are, for programs that drive the lab.
package demo
