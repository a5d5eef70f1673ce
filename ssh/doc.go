// Package ssh is the operator console's SSH client: it reaches the nodes the
// way an operator's own ssh(1) would, and runs vipd commands on them.
//
// It follows OpenSSH where an operator would notice a difference:
//
//   - Host keys are checked against known_hosts. An unknown key is shown
//     through Config.Confirm with its SHA256 fingerprint and is accepted, and
//     appended to known_hosts (unless a line for it is there already), only
//     on an explicit yes. A changed key is
//     refused with a *HostKeyChangedError naming the offending file:line.
//   - The host-key algorithms offered put the types known_hosts already holds
//     for the host first, so a host known by its ed25519 key is not rejected
//     because the server preferred to present its ECDSA key.
//   - Authentication uses ssh-agent and identity files (IdentityFile from
//     ~/.ssh/config, else id_ed25519, id_ecdsa, id_rsa). Keys that need a
//     passphrase are skipped with a note; add them to the agent instead.
//   - ~/.ssh/config supplies Host aliases, HostName, User, Port, IdentityFile,
//     IdentityAgent, UserKnownHostsFile, ProxyJump (any number of hops),
//     ConnectTimeout and ServerAlive*.
//
// Dial makes one connection. Conn keeps one up: its Run method redials with
// bounded exponential backoff, declares a link dead after missed keepalives,
// and reports a State ("disconnected since …") for the UI to show. After a
// changed or untrusted host key it redials only when asked (Conn.Redial,
// an operator's "reconnect"), which may confirm an unknown key on that one
// dial. ConfirmOnce asks about each key of each host once, however many
// dials meet it.
//
// Commands run as a non-root login user are prefixed with "sudo -n" (see
// SudoMode), so that a sudo wanting a password fails at once with
// ErrSudoPassword instead of hanging.
//
// The package imports nothing else of this module. Package sshtest holds an
// in-process SSH server and agent for tests and the demo.
package ssh
