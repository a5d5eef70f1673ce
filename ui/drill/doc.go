// Package drill is `vipctl drill`: the seed's test section as a guided
// walkthrough on a live pair. Baseline; kill nginx on the MASTER and watch
// vipd start it again with the VIP staying; fail the MASTER over (vipd
// stopped, as the seed kills keepalived; or nginx held down; or a forced
// give-up); repair the failed node; re-enable it without preemption and
// see it come up BACKUP with the VIP where it is and not one failed
// request.
//
// Each step is an action of the console (package ui) and passes its one
// gate: pre-checks, a confirmation (typing the node's name when the VIP
// moves), the commands (console.Executor), the post-checks and the audit log.
// Interactively the console shows the drill and waits for enter before
// each step; with --yes it runs without a terminal and confirms by itself.
//
// It runs on a real pair over SSH, on the embedded demo pair (--demo), or
// on a namespace lab made for it (--lab, root, Linux only: demo.Lab, real
// nginx, sshd and vipd). After each failover the VIP's new home is checked another way
// than the probe: in the demo from its in-memory record; in the lab from
// the nodes' interfaces and from the lab's client namespace as a third
// host, whose ARP entry for the VIP must be the new MASTER's MAC (a stale
// ARP cache is the classic hidden outage).
//
// The report (Markdown and JSON) has each step's timeline, the outage the
// VIP's probe measured and a verdict per expectation. However the drill
// ends (a failed step, q, Ctrl-C, a lost link) it restores what it broke
// (Gate.Restore: nginx started, vipd started, faults ended; dialling afresh
// where a link is down) and reports the state the pair is left in, read
// from each node's vipd. Unattended, an interruption aborts the console's
// drill as ctrl+c would, so that the step it cut is in the report with
// what it had done.
package drill
