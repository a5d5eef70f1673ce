// Package nodetest is the operating system of vipd nodes in memory: what
// node's own tests and the in-process demo (node/demopair) run daemons on.
//
// A Network is the nodes' network: one in-memory VRRP segment
// (vrrp/vrrptest) per interface name, where VIPs are records and links go
// up and down on request. Each node's System (a node.System) puts its
// daemon on it; nothing reaches a real interface.
//
// Nginx stands in for a node's nginx: a master process that runs or not,
// and after Listen an HTTP server on 127.0.0.1 that answers "ok NAME"
// while it runs. A System with an Nginx is a node.NginxSystem: vipd's guard
// watches the stand-in as it watches a real nginx. Its pid file is the
// stand-in's: the death of its master wakes the guard at once, as a pidfd
// does; the start command starts it, and fails while it is broken, as
// `nginx` does with a broken configuration; the GET goes to its listener,
// or to the stand-in itself without one (under synctest, where nothing may
// wait on a real socket).
//
// Notify records notify scripts instead of running them.
//
// The package uses channels, timers and mutexes only (the HTTP face aside),
// so it runs inside a testing/synctest bubble: create its values there.
package nodetest
