// Package console puts vipctl together: for a cluster it builds a feed per
// node over SSH and a probe per VIP (package feed), hands them to the
// console model (package ui), and runs everything as one task group until
// the operator quits or the context ends.
//
// Gate (gate.go) runs the console's guarded actions on the nodes over the
// same SSH links: configurable commands (systemctl by default, `demo ...`
// in the demo), a refusal of everything when read-only, and a record of
// what drills broke so that Restore can put it back, dialling afresh if a
// link is down. AuditFile appends every verdict to a JSON-lines log.
//
// Run draws the console on a terminal. RunHeadless runs the very same
// feeds and model without a terminal, for tests and `vipctl demo
// --snapshot`: it can wait until the nodes agree on a master that the probe
// reaches (Settled) and render the screen as plain text (View).
package console
