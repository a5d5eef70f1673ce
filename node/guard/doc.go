// Package guard watches what a node serves and says when it is healthy.
//
// Nginx is vipd's nginx guard. It implements the seed's failover policy
// (check_nginx.sh) without its races:
//
//  1. nginx stops answering: run the start command once (default
//     `systemctl start nginx`) and re-check every 50 ms for up to 1 s;
//  2. still failing: verdict Failed at once, and keep checking (and, every
//     Retry, try starting it again);
//  3. healthy again (Rise successes in a row): verdict Healthy.
//
// The daemon wires verdicts to the VRRP engine: Failed means FAULT (a
// priority-0 advert, the VIP removed, notify_fault run), Healthy means
// back to BACKUP, never preempting. The guard knows nothing of VRRP and runs
// the same on both nodes.
//
// A check is healthy when the master process named by the pid file is alive
// (read from /proc/PID/stat: a zombie is dead, a stopped process alive) and
// a GET of the URL answers with a status below 500 within Timeout; see
// DefaultMaxStatus for why 4xx counts. The GET is sent only when it can
// tell something: while nginx is healthy, a check reads the accept queue of
// the socket the URL reaches (Backlog, through sock_diag) and GETs when
// clients wait there, when nothing listens, or once every ProbeEvery; a
// healthy idle nginx sees one request in ProbeEvery (10 s) and the guard
// costs a timer and a netlink round trip per Interval. Only the GET notices a hung nginx,
// and a hung nginx is not restarted: its master is alive, so a start command
// would find it running and change nothing; the verdict is Failed at once
// (when a pid file is configured to tell). A live master that refuses
// connections is stopping (SIGQUIT from `systemctl stop nginx` closes the
// listeners first): the guard waits for it to exit, then starts nginx, all
// within the restart deadline. A start command that fails
// (non-zero exit) while nginx still fails ends the attempt at once instead
// of waiting out the deadline. With a pid file the master is also watched
// through a pidfd (PIDWatch), so its exit starts a check at once: the FAULT
// comes the start command's own run time (a few milliseconds for `nginx -c`
// with a broken config) after nginx's death, not up to an Interval later.
//
// Script runs keepalived vrrp_script programs (exit 0 = success) with the
// same schedule and rise/fall rules; a program outliving its timeout is
// killed with its whole process group and counts as a failure.
//
// Both are Tasks: Run(ctx) checks on a fixed schedule, one check at a time
// (a check that overruns delays the next one, never overlaps it), each under
// its own context deadline. Results and verdict changes go to callbacks;
// Status returns the verdict, the last error and latency, and the recent
// history. OS effects sit behind ProcessChecker, Prober, Backlog and
// Runner, whose real implementations are PIDWatch, HTTPProbe, ListenQueue
// and Exec.
//
// The package owns its rules: the defaults (NginxConfig.WithDefaults,
// ScriptConfig.WithDefaults), what it refuses (Validate, which node/config
// runs on every block of keepalived.conf) and how long it takes to fail
// (Detection: NginxConfig.Death and Hang, ScriptConfig.Failure), which
// `vipd -t` adds Skew_Time to for its failover budget.
package guard
