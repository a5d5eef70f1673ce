// Package node is vipd, the node daemon: it reads keepalived.conf (package
// config), runs one VRRP engine (package vrrp) per vrrp_instance, guards
// nginx and runs vrrp_script checks (package guard), and serves the control
// socket (package control). cmd/vipd only parses flags and handles signals.
//
// # Failover policy
//
// The seed's policy (check_nginx.sh) without its races: when nginx stops
// answering, the guard starts it once; if it does not come back within
// restart_deadline, every instance that tracks the check goes to FAULT: a
// master sends a priority-0 advert and removes its VIPs at once, so the
// peer takes over after its Skew_Time. A failed check is always a FAULT,
// never a priority change, whatever its weight: under nopreempt a lowered
// priority never moves the VIP (`vipd -t` warns about non-zero weights).
// The same holds for vrrp_script checks and for track_interface (and the
// instance's own interface) losing its carrier.
//
// An instance is in FAULT while any fault source holds, and each clears on
// its own: a guard that turns healthy ends its own fault only. An operator's
// fault (`vipd ctl fault`) gives the VIP up and holds until `vipd ctl
// resume`, even while nginx is healthy. Leaving FAULT is a resume to
// BACKUP, which under nopreempt never takes the VIP back from a working
// master.
//
// # Restarts and reloads
//
// A vipd killed with SIGKILL leaves its VIPs on the interface. The engine
// runs with vrrp.Config.AdoptVIPs: a vipd restarted at once (systemd
// Restart=always, RestartSec=0) finds them, keeps them and listens for 1.5
// advert intervals; if the peer is master it drops them, otherwise it stays
// master without the VIP ever going away. A graceful stop (SIGTERM) hands
// over with priority 0 and removes the VIPs.
//
// Reload (SIGHUP) parses the file anew. A file with errors is refused and
// everything keeps running, and so is one that would give the VIPs up by
// mistake: no vrrp_instance left (an emptied file), or a running instance
// moved to an interface this host lacks. A VIP set changed, or an instance
// removed, is applied with a warning: the peer's file must change too.
// Otherwise an instance keeps running untouched
// unless its engine settings changed (interface, VRID, priority, VIPs,
// authentication, ...); notify scripts, track_script and track_interface
// entries change in place. A changed guard is replaced; the instances
// keep its last verdict until the new one decides. An operator's fault
// survives a reload.
//
// # Sync groups
//
// A vrrp_sync_group's instances are MASTER, BACKUP and FAULT together, as
// in keepalived: a member's own fault (a check, a link, the operator) puts
// the others in FAULT until no member has one; a member becoming MASTER
// takes the others to MASTER, and one stepping down takes them to BACKUP.
// A member whose Master_Down_Timer expires takes over only when every other
// member wants to as well, so a group prefers BACKUP to thrashing. The
// group's notify scripts run on the group's state changes. See syncGroup.
//
// # Notify scripts
//
// notify_master, notify_backup, notify_fault, notify_stop and notify (with
// keepalived's arguments "INSTANCE" NAME STATE PRIORITY) run one at a time,
// as the user written after the command, else script_user,
// in the order of the transitions, each bounded by Options.NotifyTimeout;
// their exit status and output are logged and published as notify events.
// They never delay the protocol: the engine has moved on when they run.
//
// # Observability
//
// Daemon implements control.Handler: status (with vip_present read back
// from the kernel and drops by reason), watch (a snapshot, then transitions,
// check results, verdicts, operator actions and notify runs) and
// fault/resume. Collector gives the metrics (named by the Metric
// constants) to a Prometheus registry of the caller's; MetricsHandler
// serves a registry at /metrics.
package node
