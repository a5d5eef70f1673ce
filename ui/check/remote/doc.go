// Package remote reads a node's effective configuration over SSH for
// package check: vipctl check, the console's banner, vipctl migrate's
// pre-flight. Nothing is installed on the node; every command is a plain
// POSIX shell line (through sudo -n when the login is not root).
//
// It finds the daemon in the node's own network namespace: lab nodes are
// namespaces of one host and share one process table, so a process counts
// only when its /proc/PID/ns/net is the SSH session's /proc/self/ns/net.
//
// vipd: its status says which file it loaded, when, and each file's
// SHA-256 (node/control's LoadedConfig). The files are read from disk and
// parsed with node/config; a digest that differs means the file changed
// since vipd loaded it, which is certain, and the report says so. A vipd
// too old to say falls back to its -f.
//
// keepalived: the file is the parent process's -f/--use-file, by default
// /etc/keepalived/keepalived.conf, read with its includes (globs too)
// through node/config over the same SSH. keepalived says nothing about
// what it loaded, so what can be known is less: a file modified after the
// daemon started may or may not be what it runs, since a reload (SIGHUP,
// systemctl reload) re-reads the files in the same process and leaves no
// trace in /proc. The report says so for each such file; a file removed
// from an include since the start cannot be seen at all. Times come from
// the node's clock, to the second: a change within two seconds of the
// start is not told.
//
// Privileges: a daemon's /proc/PID/ns/net and cmdline, and often its
// files, are root's. A login other than root runs every command through
// sudo -n (package ssh): sh, head, stat and ls must be allowed without a
// password, or the node is reported unreadable with sudo's refusal.
package remote
