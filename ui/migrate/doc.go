// Package migrate is `vipctl migrate`: it moves a running keepalived pair
// to vipd one node at a time, over the same SSH logins, the pair serving
// throughout.
//
// The plan: a pre-flight that changes nothing (the pair check of
// ui/check, one daemon on each node and the VIP on one, nginx alive, and
// vipd's own file built from each node's keepalived.conf with the nginx
// guard in place of the nginx check script, refused with file:line where
// vipd cannot run it: BuildConfig), then the files staged over SFTP and
// checked there with `vipd -t`; then, the VIP probed throughout, the
// BACKUP moves to vipd, and the MASTER hands the VIP over and follows.
//
// Every step that changes a node is one shell script (script.go), started
// detached and only watched: it ends by itself with a daemon running,
// vipd if it came up, else keepalived again. Each step is judged by the
// nodes' state and the probe; a failed step rolls the nodes on vipd back
// to keepalived. Run returns a Report, written as markdown and JSON like a
// drill's. Nodes are reached through the Node interface (SSHNode over
// package ssh and github.com/pkg/sftp); the lab (lab.go) is h1's keepalived
// pair of ui/demo.
package migrate
