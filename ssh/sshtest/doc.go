// Package sshtest runs an SSH server and an ssh-agent in process, on
// 127.0.0.1 and a unix socket, for tests of package ssh and for the
// console's demo.
//
// The server answers exec requests through a Handler, keepalives, and, if
// allowed, direct-tcpip channels so it can be a ProxyJump host. Stall makes
// it go silent without closing anything, as a host cut off from the network
// would, to exercise keepalives and reconnection.
package sshtest
