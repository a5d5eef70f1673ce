// Package console puts vipctl together: for a cluster it builds a feed per
// node over SSH and a probe per VIP (package feed), hands them to the
// console model (package ui), and runs everything as one task group until
// the operator quits or the context ends.
//
// Run draws the console on a terminal. RunHeadless runs the very same
// feeds and model without a terminal, for tests and `vipctl demo
// --snapshot`: it can wait until the nodes agree on a master that the probe
// reaches (Settled) and render the screen as plain text (View).
package console
