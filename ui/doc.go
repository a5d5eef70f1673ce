// Package ui is vipctl's live operator console: the nodes of one or more
// VRRP pairs side by side, who holds each VIP against who answers on it,
// split-brain and no-master banners, and a timeline of what happened.
//
// The console does no I/O of its own. The caller (cmd/vipctl) gives New one
// Pair per cluster, each with a Feed per node and optionally a ProbeFeed,
// and runs the Model in a tea.Program. A Feed delivers one node's data as
// Updates: vipd's watch events (control.Event), full documents from `vipd
// status --json` (control.Status), the SSH link's state (ssh.State) and
// the error that stopped the stream. The watch stream keeps roles and
// health current by itself; counters, advert ages and vip_present come
// only with a Status, which `vipd watch --status-every` brings. A
// ProbeFeed delivers the results of requests to the VIP made from the
// console's host.
//
// What the console shows is current or says it is not (fresh.go). A feed
// that promises a status pace (Update.StatusEvery) makes silence
// meaningful: a node with no word for the pace and 300 ms, or whose last
// status predates another node's status showing it took the VIP, or whose
// reports arrive late (a stalled link releasing its backlog), is UNKNOWN,
// its last state labelled "last known at", and it counts nowhere: not in
// the VIP line, pair health, banners or the gate's checks. A split brain
// takes both nodes' current word that they hold the VIP, or (for a node
// the console cannot hear) answers on the VIP alternating between nodes.
// Freshness is judged on the console's clock, by arrival; node timestamps
// are compared only with the same node's own, and a node clock far off
// the console's is said on its card and its event times moved onto the
// console's clock.
//
// Each feed is read by a Cmd that waits for its next Update and is issued
// again after each one (glow's findNextLocalFile pattern), so the console
// renders a change as soon as Bubble Tea's renderer draws the next frame.
// Close a feed's channel when it ends; the console then stops reading it.
//
// The layout follows soft-serve: one Styles, one KeyMap with help, and a
// Component per region (nodecard.go, viplane.go, timeline.go,
// pairlist.go) composed by the root model in app.go, which gives the
// regions their heights so that every screen is usable at 80x24: a
// confirmation keeps its prompt and input line, a verdict leaves the
// timeline its last events. The timeline folds a node's repeated lines
// into one with a count, and never drops a transition, a verdict or an
// operator's action to make room.
//
// The Reconnect key on a node's panel redials it (a Feed that is a
// Reconnecter); a host key the dial meets that known_hosts does not hold
// is a confirmation in the model too (hostkey.go), answered by typing yes.
//
// Guarded actions (action.go) are failover drills on the MASTER (nginx
// fails, vipd stops, forced give-up), the nginx restart check, repair and
// re-enable without preemption. Every view only sends an ActionMsg; the
// model's one gate (gate.go) takes it: a read-only console refuses it
// there; pre-checks (checks.go) refuse it when the peer is not a healthy
// BACKUP, in a split brain, when a node is disconnected, saying why;
// otherwise it becomes a confirmation held in the model (confirm.go),
// never a blocking call, where the operator types the node's name for
// anything that moves the VIP. A confirmation given on a pair that changed
// since (nodeState.version) is refused and checked again. Only then does
// the gate hand the action to the caller's Gate, whose Cmd runs the
// commands; the post-checks then watch the feeds until every expectation
// holds for a settle time or the deadline passes, and the verdict says
// what is wrong and how to return to a safe state. Each verdict, refusals
// included, goes to the Auditor. A Drill (drill.go) runs a list of actions
// one step at a time through the same gate, waiting for the operator or
// unattended, and reports each step's verdict.
package ui
