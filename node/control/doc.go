// Package control is the versioned JSON contract between vipd and
// everything that talks to it: `vipd status --json`, `vipd watch --json`,
// `vipd ctl fault|resume`, and the operator console vipctl, which runs
// those commands over SSH and parses their output. This comment is the
// reference; the types carry the same names.
//
// vipd serves it on a unix socket (Serve, ListenUnix; DefaultSocketPath,
// mode 0600, root only). The CLI speaks to the socket with a Client and
// prints the documents it gets unchanged, one per line, so the console
// decodes the CLI's output with DecodeStatus and NewEventDecoder exactly as
// it would the socket's.
//
// # Framing
//
// Every document is one line of JSON (UTF-8, ending in "\n", at most
// MaxLineSize = 1 MiB). A client sends one request line and reads the
// answer: one Status for status, one Response for fault and resume, and for
// watch a stream of Event lines until it closes the connection. Several
// status, fault and resume requests may follow each other on a connection;
// watch is the last. A connection idle for a minute is closed. A request
// that is not valid is answered with an error Response and the connection
// stays usable, except a line over 1 MiB, after which vipd hangs up.
//
// # Versions
//
// Every document carries "contract": ContractVersion (1); the encoders stamp
// it. Decoders refuse any other version with a *VersionError that says which
// side to upgrade ("vipd speaks contract 2, this console needs 1: upgrade
// the console"). vipd refuses requests of another version the same way; a
// request without "contract" (typed by hand) is taken as the current one.
//
// Compatibility rules. Within a version only additions are allowed: new
// fields, new event types, new states, new drop reasons, new values of
// verdict, phase and hook. So consumers must ignore fields they do not
// know, skip event types they do not know, and show a state they do not
// know as it is. Fields marked "absent when ..." are left out, not null.
// Anything else (renaming or removing a field, changing its type, unit or
// meaning) bumps ContractVersion. Three fields keep their meaning in every
// version, so that a console can always explain a failure: "contract",
// "ok" and "error".
//
// # Encodings
//
//   - Times are RFC 3339 strings with fractional seconds
//     ("2025-01-02T03:04:05.678Z"), any offset.
//   - Fields ending in _ms are milliseconds, as numbers with up to three
//     decimals (0.412 is 412 µs). adver_int and master_adver_int are seconds,
//     as keepalived writes them (1, 0.1).
//   - Addresses are strings: "198.51.100.11"; VIPs as configured
//     ("198.51.100.100/24").
//   - Counters are unsigned 64-bit integers, counted since vipd started.
//   - Names follow keepalived's JSON dump (keepalived --json, data and stats
//     objects) where it has the field; keepalived writes state as a number,
//     the contract as a string.
//
// # Requests
//
//	contract         number   1; may be left out
//	cmd              string   status, watch, fault or resume
//	instance         string   fault, resume: the vrrp_instance (VI_1); "" or absent: every instance
//	reason           string   fault, resume: why (logged, in the action event); at most 512 bytes
//	by               string   fault, resume: who asks ("alice via vipctl from 198.51.100.7"); at most 512 bytes
//	status_every_ms  number   watch: also a status event this often and after each transition (see Events);
//	                          at least 100 (less counts as 100), at most 3600000; absent or 0: none
//
// Text fields must be printable UTF-8. vipd also records the asking process
// as the kernel reports it (Peer): over SSH that is `vipd ctl`, so the
// console passes the operator in by.
//
// # Responses
//
//	contract   number   1
//	ok         bool     whether the request was carried out
//	error      string   why not; absent when ok
//
// A session on the socket (requests and answers alternate):
//
//	{"contract":1,"cmd":"fault","instance":"VI_1","reason":"drill","by":"alice via vipctl from 198.51.100.7"}
//	{"contract":1,"ok":true}
//	{"contract":1,"cmd":"resume","instance":"VI_9","reason":"drill over","by":"alice"}
//	{"contract":1,"ok":false,"error":"unknown instance \"VI_9\""}
//	{"contract":2,"cmd":"status"}
//	{"contract":1,"ok":false,"error":"request speaks contract 2, this vipd speaks 1: use a matching vipd and console"}
//	{"contract":1,"cmd":"watch","status_every_ms":1000}
//
// A watch is answered by events (below).
//
// # Status
//
// The answer to status, the output of `vipd status --json`, the snapshot
// of every watch, and its status events.
//
//	contract       number   1
//	router_id      string   global_defs router_id: the node's name
//	hostname       string   the host's name
//	vipd_version   string   vipd's build version
//	time           time     when the snapshot was taken
//	pid            number   vipd's process ID
//	uptime_ms      number   since vipd started
//	vrrp           array    one object per vrrp_instance, in configuration order (below); [] if none
//	nginx          object   the nginx guard (below); absent when vipd does not guard nginx
//	scripts        array    one guard per vrrp_script (below); absent when none
//	config         object   the configuration vipd runs (below); absent from older vipd
//
// Each element of vrrp:
//
//	iname               string   the instance's name (VI_1)
//	ifp_ifname          string   its interface
//	vrid                number   virtual router ID, 1-255
//	version             number   VRRP version, 2 or 3
//	adver_int           number   configured advert interval, seconds
//	master_adver_int    number   the master's advert interval, seconds (v3 backups adopt it)
//	state               string   INIT, BACKUP, MASTER or FAULT
//	base_priority       number   configured priority
//	effective_priority  number   priority advertised now (0 in INIT and FAULT)
//	nopreempt           bool     a backup never takes over from a live master
//	master              string   the master's address, ours when MASTER; absent when unknown
//	master_priority     number   the master's priority
//	vips                array    virtual_ipaddress entries, as strings; absent when none
//	vip_present         bool     every VIP is on the interface now, as read back from the kernel
//	last_advert         time     when the last accepted advert arrived; absent when none yet
//	last_advert_age_ms  number   time minus last_advert; absent with it
//	fault_reason        string   why FAULT; absent in other states
//	last_transition     time     when state last changed; absent before the first change
//	transitions         number   state changes since vipd started
//	stranger            string   the last host not a peer that sent VRRP for this VRID; absent if none
//	stranger_at         time     when; absent with it
//	mismatch_peer       string   the last peer whose advert listed other VIPs than this instance's; absent if none
//	mismatch_addresses  array    the addresses it advertised, sorted; absent with it
//	mismatch_at         time     when; absent with it
//	stats               object   counters (below)
//
// stats:
//
//	advert_rcvd      adverts accepted
//	advert_sent      adverts sent
//	become_master    transitions to MASTER
//	release_master   transitions out of MASTER
//	pri_zero_rcvd    priority-0 adverts received (the master is leaving)
//	pri_zero_sent    priority-0 adverts sent
//	auth_failure     adverts with a wrong authentication (also in drops)
//	ip_ttl_err       adverts with an IP TTL other than 255 (also in drops)
//	garp_sent        gratuitous ARPs sent
//	send_errors      adverts that could not be sent
//	address_errors   failed VIP adds and removes (retried)
//	announce_errors  failed gratuitous ARPs
//	strangers        packets from hosts not peers (unicast: unknown_peer drops; multicast: sources never heard as a peer)
//	address_mismatch accepted adverts whose VIPs differ, as a set, from this instance's (still obeyed)
//	kernel_drops     packets the kernel dropped from the socket, its receive buffer full (per socket)
//	drops            object: received packets not obeyed, by reason; absent when none
//
// Drop reasons are the vrrp package's: packet_len_err,
// packet_len_err_count, invalid_version, invalid_type_rcvd, checksum_err,
// addr_count_err, ip_ttl_err, auth_failure, unknown_vrid,
// advert_interval_err, unknown_peer, own_advert.
//
// A guard (nginx, and each element of scripts):
//
//	name             string   "nginx", or the vrrp_script's name
//	healthy          bool     verdict is healthy
//	verdict          string   unknown (no check yet), healthy or failed
//	since            time     when the verdict was reached; absent while unknown
//	reason           string   why failed; absent otherwise
//	url              string   nginx: the URL checked; absent for scripts
//	command          string   vrrp_script: the script run; absent for nginx
//	latency_ms       number   how long the last check took
//	last_check       time     when the last check started; absent before the first
//	last_error       string   the last failed check's error, kept after recovery; absent if none
//	last_error_time  time     when it failed; absent with it
//	checks           number   scheduled checks run
//	restarts         number   nginx restart attempts
//	history          array    the last results, oldest first; absent when none
//
// config: what vipd loaded at start or at its last successful reload
// (SIGHUP). A file on disk whose digest differs has changed since, and vipd
// does not run it until reloaded.
//
//	path       string   vipd -f, as given
//	loaded_at  time     when it was loaded
//	files      array    every file read, the main one first: path, size (bytes), sha256 (hex)
//
// A check result (elements of history, and check events):
//
//	time        time     when it started
//	ok          bool     whether it passed
//	latency_ms  number   how long it took
//	error       string   why it failed; absent when ok
//	phase       string   check (scheduled), start (the start command of a restart), restart (a re-check during one)
//
// Example: a node that is backup for VI_1 and has VI_2 in FAULT for a drill:
//
//	{
//	  "contract": 1,
//	  "router_id": "lb2",
//	  "hostname": "lb2",
//	  "vipd_version": "v0.1.0",
//	  "time": "2025-01-02T03:04:05.678Z",
//	  "pid": 4242,
//	  "uptime_ms": 3600000,
//	  "vrrp": [
//	    {
//	      "iname": "VI_1",
//	      "ifp_ifname": "eth0",
//	      "vrid": 60,
//	      "version": 2,
//	      "adver_int": 1,
//	      "master_adver_int": 1,
//	      "state": "BACKUP",
//	      "base_priority": 100,
//	      "effective_priority": 100,
//	      "nopreempt": true,
//	      "master": "198.51.100.11",
//	      "master_priority": 100,
//	      "vips": ["198.51.100.100/24"],
//	      "vip_present": false,
//	      "last_advert": "2025-01-02T03:04:05.365Z",
//	      "last_advert_age_ms": 313,
//	      "last_transition": "2025-01-02T02:04:06.9Z",
//	      "transitions": 1,
//	      "stranger": "198.51.100.50",
//	      "stranger_at": "2025-01-02T03:04:01Z",
//	      "mismatch_peer": "198.51.100.11",
//	      "mismatch_addresses": ["198.51.100.100", "198.51.100.101"],
//	      "mismatch_at": "2025-01-02T03:04:05.365Z",
//	      "stats": {
//	        "advert_rcvd": 3598,
//	        "advert_sent": 0,
//	        "become_master": 0,
//	        "release_master": 0,
//	        "pri_zero_rcvd": 0,
//	        "pri_zero_sent": 0,
//	        "auth_failure": 0,
//	        "ip_ttl_err": 0,
//	        "garp_sent": 0,
//	        "send_errors": 0,
//	        "address_errors": 0,
//	        "announce_errors": 0,
//	        "strangers": 4,
//	        "address_mismatch": 7,
//	        "kernel_drops": 0,
//	        "drops": {"unknown_vrid": 12}
//	      }
//	    },
//	    {
//	      "iname": "VI_2",
//	      "ifp_ifname": "eth1",
//	      "vrid": 61,
//	      "version": 3,
//	      "adver_int": 0.1,
//	      "master_adver_int": 0.1,
//	      "state": "FAULT",
//	      "base_priority": 100,
//	      "effective_priority": 0,
//	      "nopreempt": true,
//	      "master_priority": 0,
//	      "vips": ["198.51.100.200/24"],
//	      "vip_present": false,
//	      "fault_reason": "fault requested: drill",
//	      "last_transition": "2025-01-02T03:00:00Z",
//	      "transitions": 2,
//	      "stats": {
//	        "advert_rcvd": 0,
//	        "advert_sent": 15,
//	        "become_master": 1,
//	        "release_master": 1,
//	        "pri_zero_rcvd": 0,
//	        "pri_zero_sent": 1,
//	        "auth_failure": 0,
//	        "ip_ttl_err": 0,
//	        "garp_sent": 3,
//	        "send_errors": 0,
//	        "address_errors": 0,
//	        "announce_errors": 0,
//	        "strangers": 0,
//	        "address_mismatch": 0,
//	        "kernel_drops": 0
//	      }
//	    }
//	  ],
//	  "nginx": {
//	    "name": "nginx",
//	    "healthy": true,
//	    "verdict": "healthy",
//	    "since": "2025-01-02T02:30:00.25Z",
//	    "url": "http://198.51.100.12/health",
//	    "latency_ms": 0.412,
//	    "last_check": "2025-01-02T03:04:05.6Z",
//	    "last_error": "GET http://198.51.100.12/health: connection refused",
//	    "last_error_time": "2025-01-02T02:29:59.2Z",
//	    "checks": 17998,
//	    "restarts": 1,
//	    "history": [
//	      {"time": "2025-01-02T02:29:59.2Z", "ok": false, "latency_ms": 0.18, "error": "GET http://198.51.100.12/health: connection refused", "phase": "check"},
//	      {"time": "2025-01-02T02:29:59.201Z", "ok": true, "latency_ms": 31.7, "phase": "start"},
//	      {"time": "2025-01-02T02:29:59.25Z", "ok": true, "latency_ms": 0.52, "phase": "restart"}
//	    ]
//	  },
//	  "scripts": [
//	    {
//	      "name": "chk_disk",
//	      "healthy": false,
//	      "verdict": "failed",
//	      "since": "2025-01-02T03:00:00Z",
//	      "reason": "2 failures in a row (fall 2)",
//	      "command": "/usr/local/bin/chk_disk",
//	      "latency_ms": 3.1,
//	      "last_check": "2025-01-02T03:04:00Z",
//	      "last_error": "exit status 1",
//	      "last_error_time": "2025-01-02T03:04:00Z",
//	      "checks": 720,
//	      "restarts": 0
//	    }
//	  ],
//	  "config": {
//	    "path": "/etc/vipd/keepalived.conf",
//	    "loaded_at": "2025-01-02T02:04:05.1Z",
//	    "files": [
//	      {"path": "/etc/vipd/keepalived.conf", "size": 1204, "sha256": "5d4140bd0a8f4e57a2ab1e2e0e8f38cbde1e3a31b1d2c3a4c8b7e06f9a1b2c3d"}
//	    ]
//	  }
//	}
//
// # Events
//
// A watch answers with a snapshot event, then one event per line as things
// happen, until the client closes. Common fields:
//
//	contract   number   1
//	time       time     when it happened
//	type       string   snapshot, status, transition, check, verdict, action, notify or error
//	instance   string   the vrrp_instance concerned; absent when none
//
// Fields by type (each absent in events of other types):
//
//	snapshot     snapshot   object   a full Status; always the first event of a watch
//	status       status     object   a full Status; only when the watch asked (status_every_ms)
//	transition   from, to   string   the states left and entered
//	             master     string   the master after it, if known; absent otherwise
//	             reason     string   why ("master down: no advert for 3.609s", "priority 0 received", "fault requested: drill")
//	check        guard      string   "nginx" or a vrrp_script's name
//	             check      object   the result, as in history
//	verdict      guard      string   as in check
//	             verdict    string   healthy, failed or unknown
//	             reason     string   why; absent when healthy
//	action       action     string   fault or resume; instance absent means every instance
//	             reason     string   as requested
//	             by         string   as requested
//	             peer       object   the asking process, as the kernel says (below)
//	notify       notify     object   a notify hook of the instance ran (below)
//	error        error      string   what went wrong
//
// notify:
//
//	hook         string   notify_master, notify_backup, notify_fault, notify_stop or notify
//	command      string   as configured
//	exit         number   its exit status; -1 when it did not exit by itself (see error)
//	error        string   killed, timed out, failed to start; absent otherwise
//	duration_ms  number   how long it ran
//
// peer:
//
//	pid  number   process ID of the client (over SSH: of `vipd ctl`)
//	uid  number   its user ID
//	gid  number   its group ID
//
// Status events keep counters and advert ages current without polling,
// and say whether the VIPs followed a role change: vip_present is read back
// from the kernel. A watch that asks (status_every_ms) gets one every
// status_every_ms and one right after each transition event, showing the
// instance in its new state (vipd gives the state 63 ms to show, then
// sends the status as it is). A vipd older than status_every_ms ignores it
// and sends none.
//
// Events are complete facts, not deltas to counters: after the snapshot,
// the state of an instance is the "to" of its last transition. An event
// already reflected in the snapshot may follow it; none is ever missing. A
// watch client that cannot keep up (vipd queues 256 events for it) is sent
// an error event and disconnected, as is every watcher when vipd ends the
// stream: reconnect for a fresh snapshot. When vipd stops, the stream just
// ends.
//
// One of each (the snapshot and the status shortened to a node without
// instances):
//
//	{"contract":1,"time":"2025-01-02T03:04:05.678Z","type":"snapshot","snapshot":{"contract":1,"router_id":"lb2","hostname":"lb2","vipd_version":"v0.1.0","time":"2025-01-02T03:04:05.678Z","pid":4242,"uptime_ms":3600000,"vrrp":[]}}
//	{"contract":1,"time":"2025-01-02T03:05:00.001Z","type":"check","guard":"nginx","check":{"time":"2025-01-02T03:05:00Z","ok":false,"latency_ms":0.21,"error":"GET http://198.51.100.11/health: connection refused","phase":"check"}}
//	{"contract":1,"time":"2025-01-02T03:05:01.2Z","type":"verdict","reason":"not answering after a restart: connection refused","guard":"nginx","verdict":"failed"}
//	{"contract":1,"time":"2025-01-02T03:05:01.2Z","type":"transition","instance":"VI_1","from":"MASTER","to":"FAULT","reason":"nginx failed"}
//	{"contract":1,"time":"2025-01-02T03:05:01.201Z","type":"status","status":{"contract":1,"router_id":"lb2","hostname":"lb2","vipd_version":"v0.1.0","time":"2025-01-02T03:05:01.201Z","pid":4242,"uptime_ms":3655523,"vrrp":[]}}
//	{"contract":1,"time":"2025-01-02T03:05:01.3Z","type":"notify","instance":"VI_1","notify":{"hook":"notify_fault","command":"/etc/vipd/notify.sh fault","exit":0,"duration_ms":14.2}}
//	{"contract":1,"time":"2025-01-02T03:06:00Z","type":"action","instance":"VI_1","reason":"repaired","action":"resume","by":"alice via vipctl from 198.51.100.7","peer":{"pid":5151,"uid":0,"gid":0}}
//	{"contract":1,"time":"2025-01-02T03:06:00.001Z","type":"transition","instance":"VI_1","from":"FAULT","to":"BACKUP","master":"198.51.100.12","reason":"resume requested: repaired"}
//	{"contract":1,"time":"2025-01-02T03:07:00Z","type":"error","error":"watch client too slow (256 events behind): disconnecting: reconnect for a fresh snapshot"}
//
// # Go API
//
// The daemon implements Handler (Hub fans events out without blocking) and
// runs Serve on ListenUnix's listener. Clients use Dial or NewClient and
// Client's Status, Watch (with StatusEvery for status events), Fault and
// Resume. Consoles that read the CLI's output use DecodeStatus and
// EventDecoder.
package control
