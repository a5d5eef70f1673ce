// Package vrrptest provides an in-memory network for running vrrp.Instances
// without sockets or privileges, plus test doubles for vrrp.Addresser and
// vrrp.Announcer.
//
// A Network connects Hosts by address. Each Host has a vrrp.Conn, a
// TestAddresser that records which virtual addresses the host holds, and a
// TestAnnouncer that records its gratuitous ARPs. Faults are injected on the
// Network (loss, delay, partitions) and on Hosts (Crash, Restart).
//
// The Network uses channels and timers only, so it runs under
// testing/synctest with fake time: create it inside the synctest bubble, and
// a simulated minute of VRRP takes milliseconds.
package vrrptest
