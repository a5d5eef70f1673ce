// Package demo is `vipctl demo`: a pair of nginx nodes made highly
// available by vipd, running in-process, that the real console watches over
// real SSH. It needs no configuration, no root and no network: everything
// is in memory or on 127.0.0.1.
//
// Each node is a real node.Daemon (vipd) with its keepalived.conf in a
// temporary directory, on a shared in-memory VRRP segment
// (vrrptest.Network) where its VIP 198.51.100.100 exists only as a record.
// It guards a small HTTP server on 127.0.0.1 that stands in for nginx and
// answers "ok nginx-01", as the lab's nginx does; the guard's start_command
// restarts that fake through a FIFO. vipd serves its control socket (a unix
// socket in the temporary directory) and an in-process SSH server
// (sshtest) on 127.0.0.1 runs `vipd status|watch|ctl` against it as the
// real vipd CLI would, so the console's feeds are the production ones. The
// SSH host keys and the client key are made for the run and trusted
// through a temporary known_hosts.
//
// The console's probe of the VIP is sent to whichever in-memory node holds
// it (Demo.DialVIP), the way a client's ARP would find the master.
//
// Main is `vipctl demo`: the console on the demo (or the lab), its
// actions recorded in an audit log, a temporary one by default, named on
// exit when an action was recorded.
//
// Over SSH each node also answers `demo nginx stop|start|break|status`, to
// stop its fake nginx (the guard restarts it), start it, or break it so
// that restarts fail and the node gives the VIP up, and `demo vipd
// stop|start|status`, which stops vipd as systemd would (it hands the VIP
// over and its socket goes) and starts a fresh one. Commands() are these,
// for the console's gate.
//
// # The lab
//
// Lab is `vipctl demo --lab` (root): the same pair on a namespace lab
// (fixtures/netns), with a real nginx, a real OpenSSH sshd and a real vipd
// process on each node, and the console's SSH and probe sockets made in
// the lab's client namespace. vipd is found next to vipctl or built with
// go build (FindVipd). The nodes share the host's filesystem, so each one's
// sshd and vipd see the node's own directories at /run/vipd (the default
// control socket) and /run/vipctl-lab (its labctl, which stands in for
// systemctl in the drills: LabCommands).
package demo
