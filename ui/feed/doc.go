// Package feed is what the console hears from the nodes and the VIP: the
// I/O behind package ui's Feed and ProbeFeed.
//
// A Node keeps an SSH link to one node up (ssh.Conn) and streams `vipd
// watch --json --status-every 100ms` over it: a snapshot, then every event
// as it happens, and status events, with no polling and no other command.
// vipd sends a status right after each transition, once the status shows
// it, so the console learns at once whether the VIP followed the role
// (vip_present, read back from the kernel); and one every StatusEvery,
// which keeps counters and advert ages current and lets the console tell
// a node that has gone silent (a stalled link, a hung vipd) within 400 ms,
// long before SSH's keepalive gives the link up: the snapshot's update
// carries the pace (ui.Update.StatusEvery). A console that falls behind
// gets the newest status, not a backlog. When the stream ends it says why
// (vipd stopped, not installed, too old, unreadable output, host key
// changed, ...; ui.ErrVipdStopped and ui.ErrUnreadable mark two of them),
// watches again at once when a watch that ran has ended (vipd stopping or
// restarting: the next watch says which), and otherwise once the link is
// back, with backoff.
//
// With NodeConfig.Keepalived (the console sets it) each watch first finds
// out what the node runs, over the same link and without an agent: one
// POSIX shell loop (keepalived.go, kascript.go) that says "vipd" when
// vipd's control socket is there (the vipd watch above follows), else
// finds the keepalived whose network namespace is the SSH session's own
// (the lab's nodes share one process table), reads its TMPDIR from its
// environment and its configuration file from its command line, and
// polls its JSON dump (`kill -s $(keepalived --signum=JSON)`, then
// TMPDIR/keepalived.json) every StatusEvery, its DATA dump (track scripts,
// router_id) and nginx's master process less often; `ip -o monitor
// address` streams the VIP coming and going. What it reads becomes
// vipd's documents (a snapshot, statuses, transitions, nginx's checks and
// verdicts), so the console, its freshness and its gate take a keepalived
// node as they take a vipd one. What it cannot read is said on the card
// (ui.ErrNoDaemon, ui.ErrKeepalivedUnreadable, ui.ErrKeepalivedStopped),
// never guessed. A shell that cannot run the loop (the in-process demo's)
// is watched as vipd.
//
// A Probe GETs the VIP from the console's host every 200 ms, and every
// 5 ms with a 10 ms timeout while the console has it dense (an action
// runs), following a request that misses that timeout to tell a slow
// answer from a lost one. It reads which node answered from the
// X-Served-By header, else from the VIP's MAC in the console host's
// neighbour table (Neighbors; Linux) when that is one node's, else from
// the lab nginx's body ("ok nginx-01"). Its dialer is replaceable, so that
// the lab probes from its client namespace and the demo from whichever
// in-memory node holds the VIP.
//
// The console's guarded actions (console.Executor) run on the nodes over the
// same links, through an Execer.
//
// Prompt confirms unknown host keys on the terminal, before the console
// takes it over (CheckHostKeys: each key of each host once, however many
// pairs name it). Later a Node's link redials after a host-key error only
// when the operator reconnects it (Node.Reconnect), which may ask inside
// the console.
package feed
