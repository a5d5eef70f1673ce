// Package feed is what the console hears from the nodes and the VIP: the
// I/O behind package ui's Feed and ProbeFeed.
//
// A Node keeps an SSH link to one node up (ssh.Conn) and streams `vipd
// watch --json --status-every 1s` over it: a snapshot, then every event as
// it happens, and status events, with no polling and no other command.
// vipd sends a status right after each transition, once the status shows
// it, so the console learns at once whether the VIP followed the role
// (vip_present, read back from the kernel); and one every StatusEvery,
// which keeps counters and advert ages current (the events carry neither,
// and a BACKUP hears an advert every advert_int). When the stream ends it
// says why (vipd not installed, vipd too old, host key changed, ...) and
// starts it again once the link is back, with backoff.
//
// A Probe GETs the VIP from the console's host every 200 ms and reads which
// node answered from the body ("ok nginx-01", as the lab's nginx answers).
// Its dialer is replaceable, so that the lab probes from its client
// namespace and the demo from whichever in-memory node holds the VIP.
//
// The console's guarded actions (console.Gate) run on the nodes over the
// same links, through an Execer.
//
// Prompt confirms unknown host keys on the terminal, before the console
// takes it over (CheckHostKeys).
package feed
