// Package checkcmd is `vipctl check`: both nodes of each pair read over SSH
// (package ui/check/remote), compared (package ui/check), the findings
// printed with file:line on each side. The exit status is the worst
// pair's: 0 consistent (warnings allowed), 1 a mismatch, 2 a node that
// cannot be read (or a usage error).
//
//	vipctl check --node nginx-01=root@lb1 --node nginx-02=root@lb2 --vip 198.51.100.100
//	vipctl check -c cluster.conf
//	vipctl check --lab          the namespace lab's pair (root, Linux)
package checkcmd
