// Package cli is vipd's client side: `vipd status`, `vipd watch` and
// `vipd ctl` against a running daemon's control socket. The console runs
// these commands over SSH and parses their --json output with
// control.DecodeStatus and control.NewEventDecoder, so --json prints vipd's
// documents unchanged; without it they print tables and lines for people.
// `vipd watch --status-every 1s` also streams status events (after each
// transition too), which is how the console keeps counters and VIP
// presence current without running `vipd status` in a loop.
// cmd/vipd runs it, and so does vipctl's demo, whose embedded nodes answer
// the same commands.
package cli
