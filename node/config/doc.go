// Package config reads keepalived.conf for vipd: the file an operator runs
// keepalived with today, plus one block of vipd's own. It backs
// `vipd -f FILE` and the checker `vipd -t -f FILE`.
//
// # Syntax
//
// The rules are keepalived 2.2.7's (lib/parser.c), including the surprising
// ones, so that a file means the same to both programs:
//
//   - A line is a keyword and its words. Words are separated by blanks; a
//     word in double quotes may hold blanks and loses its quotes. There is
//     no escape inside quotes and no ";".
//   - "{" and "}" outside quotes are words of their own wherever they are:
//     `name {`, `name` then `{` on the next line, and `track_script { chk }`
//     on one line all work.
//   - "!" and "#" outside double quotes start a comment anywhere, even in
//     the middle of a word: `auth_pass qwert123!` sets the password
//     "qwert123". vipd warns when that happens; write `\!` or `\#` to keep
//     the character.
//   - `include PATTERN` reads the files matching a glob, relative to the
//     including file's directory, at that point of the file, even inside a
//     block. A literal path that does not exist and an include cycle are
//     errors; a pattern matching nothing is a warning.
//   - $NAME=... definitions, @ROUTER_ID conditional lines and ~SEQ are not
//     supported and are errors.
//
// # Errors and warnings
//
// Load and Parse collect every problem; none stops the parse. Each carries
// file:line and says what was expected:
//
//	keepalived.conf:14: virtual_router_id: expected an integer 1-255, got "abc"
//
// A keyword vipd does not read is a warning, never silently skipped. Where
// keepalived would change what the file says with no more than a log line,
// vipd refuses it with an error that explains why:
//
//   - nopreempt with state MASTER or with priority 255 (keepalived drops
//     nopreempt), preempt_delay with nopreempt or state MASTER;
//   - a track_script naming no script, or a vrrp_script defined below the
//     instance that tracks it (keepalived ignores the track);
//   - an unquoted command with arguments (keepalived drops the arguments);
//   - a fractional advert_int under VRRPv2, or one that is not whole
//     centiseconds under VRRPv3 (keepalived rounds);
//   - authentication under VRRPv3, or without a password (keepalived
//     ignores it);
//   - a missing include file, a line over 1022 bytes (keepalived splits it);
//   - a file that starts with a UTF-8 byte-order mark (keepalived drops the
//     first block);
//   - under vrrp_strict, what strict mode changes: state MASTER without
//     being the address owner, authentication, unicast peers, no VIP;
//   - auth_type AH, which vipd does not speak, before keepalived's own AH
//     rules;
//   - a vrrp_sync_group member that does not exist or is in another group.
//
// As in keepalived, the words after a notify command are the user and
// group it runs as (notify_master "CMD" USER [GROUP]), and a vrrp_script
// command starting "</" runs through /bin/sh -c.
//
// An auth_pass longer than 8 characters is truncated to 8, as keepalived
// does, with a warning.
//
// # Defaults
//
// As in keepalived: priority 100 (255 for state MASTER without a priority),
// state BACKUP, advert_int 1 s, vrrp_version 2, VIP prefix /32 (/128 for
// IPv6), vrrp_script interval 1 s with timeout equal to the interval, rise
// and fall 1, weight 0, garp_master_delay 5 s and garp_master_repeat 5.
// virtual_router_id and interface have no default. The defaults and rules of
// vrrp_script and vipd_nginx_check blocks are package guard's, which runs
// them (ScriptConfig, NginxConfig): the parser fills a block from the
// guard's WithDefaults and refuses what the guard's Validate refuses.
//
// # Weights
//
// vipd changes no priority: a failed track_script, or a track_interface
// going down, puts the instance in FAULT whatever its weight, as weight 0
// does in keepalived. keepalived would lower the priority instead, which
// under nopreempt never moves the VIP. A non-zero weight draws a warning,
// and Explain shows it as ignored.
//
// # The nginx guard
//
// vipd checks nginx itself instead of running a script such as
// check_nginx.sh. The check is a top-level block, tracked by name from an
// instance's track_script block like any vrrp_script:
//
//	vipd_nginx_check nginx {
//	    url http://127.0.0.1/        # GET must answer below 500 within timeout (a 4xx is nginx answering)
//	    pidfile /run/nginx.pid       # the master process must be alive
//	    interval 0.1                 # seconds between checks, fractions allowed; default 0.1
//	    timeout 0.075                # per GET; default: 3/4 of interval
//	    rise 2                       # successes to be healthy again; default 1
//	    fall 2                       # failures to act; default 1
//	    start_command "systemctl start nginx"   # the default
//	    restart_deadline 1           # seconds nginx has to come back; default 1, 0: no restart
//	    weight 0                     # vipd always means FAULT; another weight draws a warning
//	}
//	vrrp_instance VI_1 {
//	    ...
//	    track_script {
//	        nginx
//	    }
//	}
//
// At least one of url and pidfile is required. When the check fails, vipd
// runs start_command once and waits up to restart_deadline for nginx to
// pass again; if it does not, the instance gives up its VIPs (FAULT). This
// is check_nginx.sh's policy, without the script's `sleep 1` racing the
// interval, and with a FAULT instead of stopping the daemon.
//
// keepalived reads such a file too: it warns about each line of the
// vipd_nginx_check block as an unknown keyword and ignores the track_script
// entry ("track script nginx not found"), and it reads everything else the
// same. The block must stay at the top level for that: inside an instance,
// keepalived would take its "}" as the end of the instance.
//
// # Failover budget
//
// Config.Budget and Config.Explain turn the effective values into the
// worst-case time until the peer holds the VIPs, assuming the peer has the
// same priority. The engine's timers come from package vrrp
// (Version.SkewTime, Version.MasterDownInterval) and the checks' detection
// times from package guard (NginxConfig.Death and Hang,
// ScriptConfig.Failure), so that each rule is written once, where it runs:
//
//	Skew_Time          (256-priority)/256 s for VRRPv2; (256-priority)*advert_int/256 for VRRPv3
//	graceful handover  Skew_Time (the master sends priority 0)
//	silent crash       Master_Down_Interval = 3*advert_int + Skew_Time
//	check failure      interval*fall + timeout [+ restart_deadline] + Skew_Time
//	nginx dies         at once with a pid file, + interval*(fall-1) [+ restart_deadline] + Skew_Time
//	nginx hangs        interval*fall + timeout [+ timeout, the confirming GET, with a pid file]
//	                   [+ restart_deadline without a pid file] + Skew_Time
//
// A check GETs the url only when clients wait in the accept queue of the
// socket it reaches, when nothing listens there, while the check is failing,
// and every 10 s (guard.DefaultProbeEvery); otherwise it reads the queue
// (sock_diag) and, with a pidfile, nothing else. The hang bound is for an
// nginx with clients: one that hangs with none is found by the next 10 s
// GET, and nobody waited for it meanwhile.
//
// (With a timeout longer than the interval, interval*fall + timeout becomes
// interval + timeout*fall: checks never overlap.)
//
// Skew_Time is why the priority matters even when both nodes are equal.
// At the default priority 100 every handover waits 0.609 s; equal
// priorities of 254 on both nodes (nopreempt allows at most 254) cut it to
// 8 ms. Measured with keepalived on this project's lab: nginx death was
// handed over in 0.016 s instead of 0.616 s. Explain prints that hint where
// it applies.
package config
