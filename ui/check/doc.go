// Package check compares the effective configurations of a pair's two
// nodes, vipd or keepalived, and reports what breaks the pair: `vipctl
// check`, the console's banner and `vipctl migrate`'s pre-flight print the
// same Report.
//
// A Mismatch breaks the pair: two masters, the VIP on both nodes, or a
// failover that does not happen. Each names the file:line on both sides
// (or on the one side that has it):
//
//   - an instance on one node only (instances are matched by VRID and
//     interface, then by name, then by VRID alone);
//   - virtual_router_id, VRRP version, advert_int;
//   - authentication: type and password, of which only the first 8
//     characters count, as in keepalived (VRRPv2 only);
//   - the VIP set, each address's prefix and the interface it goes on;
//   - unicast peers that do not point at each other: when either side
//     uses unicast, each side's unicast_peer must hold the other's
//     unicast_src_ip (else its address on the instance's interface);
//   - nopreempt defeated: with state MASTER or priority 255 keepalived
//     drops nopreempt, and that node takes the VIP back when it returns;
//   - a check (track_script, vipd's nginx guard, track_interface) on one
//     side only: nginx dying there never moves the VIP. vipd's nginx
//     guard and a vrrp_script that checks nginx count as the same check.
//
// A Warning is advice: a slow Skew_Time from a low priority (computed with
// package vrrp's Version.SkewTime), nopreempt on one side only, different
// interface names, the files on disk differing from what the daemon
// loaded, problems node/config found in a file.
//
// The package does no I/O: a Source reads a node (package ui/check/remote
// does it over SSH) and Pair compares two.
package check
