package feed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui"
)

// The keepalived feed: a node that runs keepalived rather than vipd, read
// without an agent over the same SSH link (kaScript, kaMonitor). What it
// reads becomes the documents the console already takes from vipd: a
// snapshot once keepalived is found, a status after every dump (every
// StatusEvery, so that silence means unknown as for vipd), a transition
// when a dump shows a new state, and a status at once when the VIP comes
// or goes on the interface (the monitor stream).

// kaBadDumps is how many unreadable dumps in a row make the node's data
// unreadable: one may be a file read while keepalived still wrote it.
const kaBadDumps = 3

// kaKind is what the script found on the node.
type kaKind int

const (
	kaUnknown    kaKind = iota
	kaVipd              // vipd's control socket: watch vipd
	kaNone              // neither daemon runs
	kaKeepalived        // keepalived runs: this feed
)

// kaState is what the feed knows of one keepalived, built from the
// script's lines and the monitor's.
type kaState struct {
	pid                int
	tmp, conf, version string
	hostname           string
	ready              bool
	dump               []kaInstance
	dumpAt             time.Time // node clock, when the dump was asked for
	data               kaData
	dataKnown          bool
	nginx              int // live nginx masters; -1 unknown
	nginxPID           int
	addrs              *addrTable           // the node's addresses, from the monitor
	rcvd               map[string]uint64    // advert_rcvd by instance, at the last dump
	lastAdvert         map[string]time.Time // when advert_rcvd last grew
	states             map[string]control.State
	transitions        map[string]uint64
}

// addrTable is the node's addresses by interface, as the monitor keeps
// them; known once its initial listing is complete.
type addrTable struct {
	known bool
	m     map[string]map[netip.Addr]bool
}

// apply takes a line of the monitor.
func (t *addrTable) apply(a addrLine) {
	if t.m == nil {
		t.m = map[string]map[netip.Addr]bool{}
	}
	set := t.m[a.Dev]
	if set == nil {
		set = map[netip.Addr]bool{}
		t.m[a.Dev] = set
	}
	if a.Deleted {
		delete(set, a.Prefix.Addr())
	} else {
		set[a.Prefix.Addr()] = true
	}
}

func newKaState(pid int, addrs *addrTable) *kaState {
	return &kaState{
		pid: pid, nginx: -1, addrs: addrs,
		rcvd: map[string]uint64{}, lastAdvert: map[string]time.Time{},
		states: map[string]control.State{}, transitions: map[string]uint64{},
	}
}

// applyDump takes a new JSON dump taken at at, and returns the
// transitions it shows.
func (k *kaState) applyDump(ins []kaInstance, at time.Time) []control.Event {
	var evs []control.Event
	for _, in := range ins {
		d := in.Data
		st := kaStates[d.State]
		if old, ok := k.states[d.Name]; ok && old != st {
			k.transitions[d.Name]++
			evs = append(evs, control.Event{Time: at, Type: control.EventTransition, Instance: d.Name, From: old, To: st, Reason: k.reason(d.Name, st)})
		}
		k.states[d.Name] = st
		if r, ok := k.rcvd[d.Name]; !ok || in.Stats.AdvertRcvd > r {
			if ok {
				k.lastAdvert[d.Name] = at
			}
		}
		k.rcvd[d.Name] = in.Stats.AdvertRcvd
	}
	k.dump, k.dumpAt = ins, at
	return evs
}

// reason says why an instance went to st, as far as keepalived tells.
func (k *kaState) reason(inst string, st control.State) string {
	if st != control.StateFault {
		return "keepalived"
	}
	return k.faultReason(inst)
}

// faultReason is what keepalived.data says of an instance in FAULT.
func (k *kaState) faultReason(inst string) string {
	var bad []string
	for _, s := range k.data.Scripts {
		if s.Status != "" && s.Status != "GOOD" {
			bad = append(bad, fmt.Sprintf("track script %s %s", s.Name, s.Status))
		}
	}
	switch {
	case len(bad) > 0:
		return "keepalived: " + strings.Join(bad, ", ")
	case k.dataKnown && k.data.Faults[inst] > 0:
		return fmt.Sprintf("keepalived: %d interface or track script fault(s)", k.data.Faults[inst])
	}
	return "keepalived: an interface down or a track script failing"
}

// status is the node as vipd's status would say it, from the last dump.
func (k *kaState) status() *control.Status {
	st := &control.Status{
		RouterID: k.data.RouterID, Hostname: k.hostname, VipdVersion: k.version,
		Time: k.dumpAt, PID: k.pid, Instances: []control.Instance{},
	}
	for _, in := range k.dump {
		d := in.Data
		ci := control.Instance{
			Name: d.Name, Interface: d.Interface, VRID: uint8(d.VRID), Version: d.Version,
			AdverInt: control.Seconds(seconds(d.AdverInt)), MasterAdverInt: control.Seconds(seconds(d.MasterAdverInt)),
			State: kaStates[d.State], BasePriority: uint8(d.BasePriority), EffectivePriority: uint8(d.EffectivePriority),
			NoPreempt: d.NoPreempt, MasterPriority: uint8(d.MasterPriority), Transitions: k.transitions[d.Name],
			Stats: control.Stats{
				AdvertRcvd: in.Stats.AdvertRcvd, AdvertSent: in.Stats.AdvertSent,
				BecomeMaster: in.Stats.BecomeMaster, ReleaseMaster: in.Stats.ReleaseMaster,
				PriZeroRcvd: in.Stats.PriZeroRcvd, PriZeroSent: in.Stats.PriZeroSent,
				AuthFailure: in.Stats.AuthFailure, IPTTLErr: in.Stats.IPTTLErr,
			},
		}
		drops := map[string]uint64{}
		for name, n := range map[string]uint64{
			"packet_len_err": in.Stats.PacketLenErr, "advert_interval_err": in.Stats.AdvIntErr, "addr_list_err": in.Stats.AddrListErr,
			"invalid_authtype": in.Stats.InvalidAuth, "authtype_mismatch": in.Stats.AuthMismatch, "auth_failure": in.Stats.AuthFailure,
			"ip_ttl_err": in.Stats.IPTTLErr, "invalid_type_rcvd": in.Stats.InvalidType,
		} {
			if n > 0 {
				drops[name] = n
			}
		}
		if len(drops) > 0 {
			ci.Stats.Drops = drops
		}
		if d.LastTransition > 0 {
			ci.LastTransition = time.Unix(0, int64(d.LastTransition*1e9))
		}
		if t, ok := k.lastAdvert[d.Name]; ok {
			ci.LastAdvert = t
			ci.LastAdvertAge = control.Millis(k.dumpAt.Sub(t))
		}
		present := len(d.VIPs) > 0
		for _, s := range append(slices.Clip(d.VIPs), d.EVIPs...) {
			v, err := parseKeepalivedVIP(s)
			if err != nil {
				present = false
				continue
			}
			dev := v.Dev
			if dev == "" {
				dev = d.Interface
			}
			ci.VIPs = append(ci.VIPs, v.Prefix.String()+" dev "+dev)
			// The kernel's word once the monitor has it; keepalived's
			// own ("set") before.
			if k.addrs != nil && k.addrs.known {
				present = present && k.addrs.m[dev][v.Prefix.Addr()]
			} else {
				present = present && v.Set
			}
		}
		ci.VIPPresent = present
		if ci.State == control.StateFault {
			ci.FaultReason = k.faultReason(d.Name)
		}
		st.Instances = append(st.Instances, ci)
	}
	if k.nginx >= 0 {
		g := &control.Guard{Name: "nginx", Healthy: k.nginx > 0, Verdict: control.VerdictHealthy}
		if k.nginx == 0 {
			g.Verdict, g.Reason = control.VerdictFailed, "no nginx master process in this node's network namespace"
		}
		st.Nginx = g
	}
	for _, s := range k.data.Scripts {
		g := control.Guard{Name: s.Name, Command: s.Command, Verdict: control.VerdictUnknown}
		switch s.Status {
		case "GOOD":
			g.Healthy, g.Verdict = true, control.VerdictHealthy
		case "BAD":
			g.Verdict, g.Reason = control.VerdictFailed, "keepalived: script status BAD"
		}
		st.Scripts = append(st.Scripts, g)
	}
	return st
}

// nginxEvents are the check and verdict events vipd's guard would send
// when nginx's master process goes (failed) or comes back (a restart:
// check_nginx.sh, or an operator, started it), from the counts and master
// pids before and now (count -1: not known yet, no event). The feed looks
// for nginx every third poll, so a restart quicker than that (check_nginx.sh
// starts it within its interval) shows only as a new master pid: that is a
// failure and a restart too.
func nginxEvents(prev, prevPID, now, pid int, at time.Time) []control.Event {
	const why = "no nginx master process in this node's network namespace"
	failed := []control.Event{
		{Time: at, Type: control.EventCheck, Guard: "nginx", Check: &control.Check{Time: at, Error: why, Phase: control.PhaseCheck}},
		{Time: at, Type: control.EventVerdict, Guard: "nginx", Verdict: control.VerdictFailed, Reason: why},
	}
	back := []control.Event{
		{Time: at, Type: control.EventCheck, Guard: "nginx", Check: &control.Check{Time: at, OK: true, Phase: control.PhaseRestart}},
		{Time: at, Type: control.EventVerdict, Guard: "nginx", Verdict: control.VerdictHealthy, Reason: "nginx's master process is back"},
	}
	switch {
	case prev > 0 && now == 0:
		return failed
	case prev == 0 && now > 0:
		return back
	case prev > 0 && now > 0 && prevPID > 0 && pid > 0 && pid != prevPID:
		failed[0].Check.Error = fmt.Sprintf("nginx's master process (pid %d) went: pid %d is its new one", prevPID, pid)
		failed[1].Reason = failed[0].Check.Error
		return append(failed, back...)
	}
	return nil
}

// keepalivedError is what the feed says of a keepalived node it cannot
// read, or whose keepalived stopped: it wraps the ui sentinel the card
// explains.
type keepalivedError struct {
	host, msg string
	kind      error
}

func (e *keepalivedError) Error() string   { return e.msg }
func (e *keepalivedError) Unwrap() []error { return []error{e.kind} }

func kaStopped(host, evidence string) error {
	return &keepalivedError{host: host, msg: "keepalived stopped on " + host + ": " + evidence, kind: ui.ErrKeepalivedStopped}
}

func kaUnreadable(host, why string) error {
	return &keepalivedError{host: host, msg: "keepalived on " + host + ": " + why, kind: ui.ErrKeepalivedUnreadable}
}

func kaNeither(host, socket string) error {
	return &keepalivedError{host: host, kind: ui.ErrNoDaemon,
		msg: fmt.Sprintf("neither vipd nor keepalived runs on %s: no control socket at %s, no keepalived process in the SSH session's network namespace", host, socket)}
}

// watchKeepalived runs kaScript on the node and turns its lines into
// events on out, until the script ends, ctx is done, or the script finds
// vipd (or only vipd can be there: no keepalived and a vipd installed on
// a node never seen with keepalived), which it returns so that the
// caller watches vipd. It returns kaUnknown when the script could not run
// (a shell that is no POSIX sh, such as the in-process demo's): the
// caller watches vipd as before.
func (n *Node) watchKeepalived(ctx context.Context, out chan<- streamMsg) kaKind {
	send := func(m streamMsg) bool {
		select {
		case out <- m:
			return true
		case <-ctx.Done():
			return false
		}
	}
	socket := n.cfg.Vipd.Socket
	if socket == "" {
		socket = control.DefaultSocketPath
	}
	every := max(n.cfg.StatusEvery, control.MinStatusEvery)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rc, err := n.cfg.Remote.Stream(ctx, kaCommand(kaScript(socket, n.cfg.Vipd.Command, every)))
	if err != nil {
		return kaUnknown
	}
	defer rc.Close()
	lines := make(chan string)
	readDone := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(rc)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				readDone <- ctx.Err()
				return
			}
		}
		err := sc.Err()
		if err == nil {
			err = io.EOF
		}
		readDone <- err
	}()

	var (
		k        *kaState
		kind     = kaUnknown
		addrs    chan addrLine
		monErr   chan error
		table    = &addrTable{}
		inJSON   bool
		jsonAt   time.Time
		jsonBuf  []byte
		inData   bool
		dataBuf  strings.Builder
		bad      int
		lastErr  string
		snapshot bool // the snapshot of this keepalived was sent
	)
	report := func(err error) bool {
		if err.Error() == lastErr {
			return true
		}
		lastErr = err.Error()
		n.log.Warn("keepalived", "err", err)
		return send(streamMsg{note: err})
	}
	emit := func() bool {
		if k == nil || !k.ready || k.dump == nil {
			return true
		}
		st := k.status()
		typ := control.EventStatus
		if !snapshot {
			typ, snapshot = control.EventSnapshot, true
		}
		ev := control.Event{Time: st.Time, Type: typ}
		if typ == control.EventSnapshot {
			ev.Snapshot = st
		} else {
			ev.Status = st
		}
		lastErr = ""
		return send(streamMsg{ev: ev})
	}
	startMonitor := func() {
		addrs, monErr = make(chan addrLine), make(chan error, 1)
		a, e := addrs, monErr
		go n.monitor(ctx, a, e)
	}

	for {
		select {
		case <-ctx.Done():
			return kind
		case err := <-readDone:
			if kind != kaKeepalived && kind != kaNone {
				return kaUnknown // no line of ours: not a shell that runs it
			}
			send(streamMsg{end: true, err: err})
			return kind
		case err := <-monErr:
			monErr, addrs = nil, nil
			table.known = false
			if ctx.Err() == nil {
				n.log.Warn("address monitor ended", "err", err)
			}
		case a := <-addrs:
			if a.Dev == "" { // the monitor's initial listing is complete
				table.known = true
			} else {
				table.apply(a)
			}
			if table.known && !emit() {
				return kind
			}
		case line := <-lines:
			if inJSON {
				if line == "@end" {
					inJSON = false
					ins, err := decodeKeepalivedJSON(jsonBuf)
					if err != nil {
						if bad++; bad >= kaBadDumps {
							if !report(kaUnreadable(n.cfg.Host, fmt.Sprintf("its JSON dump %s/keepalived.json is unreadable (%v)", k.tmp, err))) {
								return kind
							}
						}
						continue
					}
					bad = 0
					for _, ev := range k.applyDump(ins, jsonAt) {
						if !send(streamMsg{ev: ev}) {
							return kind
						}
					}
					if !emit() {
						return kind
					}
					continue
				}
				jsonBuf = append(jsonBuf, line...)
				continue
			}
			if inData {
				if line == "@end" {
					inData = false
					if d, err := parseKeepalivedData(dataBuf.String()); err == nil && k != nil {
						k.data, k.dataKnown = d, true
					}
					dataBuf.Reset()
					continue
				}
				dataBuf.WriteString(line)
				dataBuf.WriteByte('\n')
				continue
			}
			word, rest := kaLine(line)
			switch word {
			case "vipd":
				n.keepalivedSeen.Store(false) // migrated: from now on nothing running is vipd stopped
				return kaVipd
			case "none":
				if kind == kaUnknown && rest == "vipd" && !n.keepalivedSeen.Load() {
					return kaVipd // vipd's own errors say whether it runs
				}
				if kind == kaNone {
					continue // still nothing
				}
				kind, k, snapshot = kaNone, nil, false
				err := kaNeither(n.cfg.Host, socket)
				if n.keepalivedSeen.Load() {
					err = kaStopped(n.cfg.Host, "no keepalived process in this node's network namespace")
				}
				if !report(err) {
					return kind
				}
			case "gone":
				if !report(kaStopped(n.cfg.Host, "keepalived (pid "+rest+") exited")) {
					return kind
				}
				k, snapshot = nil, false
			case "keepalived":
				pid, err := strconv.Atoi(rest)
				if err != nil {
					if !report(kaUnreadable(n.cfg.Host, "the feed's script printed "+strconv.Quote(line))) {
						return kind
					}
					continue
				}
				kind, k, snapshot, bad = kaKeepalived, newKaState(pid, table), false, 0
				n.keepalivedSeen.Store(true)
				if addrs == nil {
					startMonitor()
				}
			case "tmp", "conf", "version", "hostname":
				if k == nil {
					continue
				}
				switch word {
				case "tmp":
					k.tmp = rest
				case "conf":
					k.conf = rest
				case "version":
					k.version = rest
				case "hostname":
					k.hostname = rest
				}
			case "nojson":
				if !report(kaUnreadable(n.cfg.Host, fmt.Sprintf("this keepalived has no JSON dump (keepalived --signum=JSON said %q): it was built without --enable-json, and the console cannot read its state; install a keepalived built with JSON (Debian's is)", rest))) {
					return kind
				}
			case "error":
				if !report(kaUnreadable(n.cfg.Host, rest)) {
					return kind
				}
			case "ready":
				if k != nil {
					k.ready = true
					n.log.Info("keepalived found", "pid", k.pid, "tmpdir", k.tmp, "conf", k.conf, "version", k.version)
				}
			case "json":
				ns, err := strconv.ParseInt(rest, 10, 64)
				if k == nil || err != nil {
					continue
				}
				inJSON, jsonAt, jsonBuf = true, time.Unix(0, ns), jsonBuf[:0]
			case "nodump":
				if bad++; bad >= kaBadDumps {
					if !report(kaUnreadable(n.cfg.Host, "keepalived wrote no JSON dump to "+rest+" when signalled")) {
						return kind
					}
				}
			case "data":
				inData = true
			case "nginx":
				if k == nil {
					continue
				}
				f := strings.Fields(rest)
				prev, prevPID := k.nginx, k.nginxPID
				if len(f) > 0 {
					if c, err := strconv.Atoi(f[0]); err == nil && c >= 0 {
						k.nginx = c
					}
				}
				k.nginxPID = 0
				if len(f) > 1 {
					k.nginxPID, _ = strconv.Atoi(f[1])
				}
				for _, ev := range nginxEvents(prev, prevPID, k.nginx, k.nginxPID, k.dumpAt) { // on the node's clock, as its statuses
					if !send(streamMsg{ev: ev}) {
						return kind
					}
				}
			default:
				if kind == kaUnknown {
					return kaUnknown // not our script's output (a login banner?)
				}
				if !report(kaUnreadable(n.cfg.Host, "the feed's script printed "+strconv.Quote(line))) {
					return kind
				}
			}
		}
	}
}

// monitor streams kaMonitor, sending each address line, and an empty one
// when the initial listing is complete; it sends its end on errc.
func (n *Node) monitor(ctx context.Context, out chan<- addrLine, errc chan<- error) {
	rc, err := n.cfg.Remote.Stream(ctx, kaCommand(kaMonitor))
	if err != nil {
		errc <- err
		return
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	for sc.Scan() {
		line := sc.Text()
		var a addrLine
		if line != "@monitor" {
			var ok bool
			if a, ok, err = parseAddrLine(line); !ok || err != nil {
				continue
			}
		}
		select {
		case out <- a:
		case <-ctx.Done():
			errc <- ctx.Err()
			return
		}
	}
	err = sc.Err()
	if err == nil {
		err = errors.New("ip monitor ended")
	}
	errc <- err
}
