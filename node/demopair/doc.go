// Package demopair is the node side of `vipctl demo`: a pair of nginx
// nodes made highly available by vipd, running in one process. It needs
// no configuration, no root and no network: everything is in memory or on
// 127.0.0.1.
//
// Each node is a real node.Daemon (vipd) with its keepalived.conf, written
// with node/config, in a temporary directory, on a shared in-memory VRRP
// segment (node/nodetest) where its VIP 198.51.100.100 exists only as a
// record. It guards a stand-in nginx (nodetest.Nginx) that answers "ok
// nginx-01" on 127.0.0.1, as the lab's nginx does, and that the guard
// watches as it watches a real one: through the pid file (the master's
// death wakes it at once), a GET of the URL, and the start command (which
// fails while the stand-in is broken). So a failover in the demo takes what
// it takes on a real pair with the same keepalived.conf. vipd serves its
// control socket, a unix socket in the temporary directory.
//
// Exec is each node's shell, for the console's SSH sessions (ui/demo runs
// the SSH servers): `vipd status|watch|ctl` is vipd's CLI (node/cli)
// against the node's socket, as on a real node; `demo nginx
// stop|start|break|status` stops the stand-in (the guard starts it again),
// starts it, or breaks it so that starts fail and the node gives the VIP
// up; `demo vipd stop|start|status` stops vipd as systemd would (it hands
// the VIP over and its socket goes) and starts a fresh one.
//
// DialVIP connects to the stand-in of whichever node holds the VIP, the way
// a client's ARP would find the master.
package demopair
