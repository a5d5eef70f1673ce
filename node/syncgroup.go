package node

import (
	"slices"
	"sync"

	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/vrrp"
)

// srcSync is the fault source a sync group puts on its members while
// another member is in FAULT on its own account.
const srcSync = "vrrp_sync_group"

// syncGroup runs a vrrp_sync_group as keepalived does (vrrp_sync.c): its
// members are MASTER, BACKUP and FAULT together.
//
//   - A member in FAULT on its own account (a check, a link, the operator)
//     puts every other member in FAULT (fault source srcSync); when no
//     member has a fault of its own any more, they all resume as BACKUP.
//   - A member that becomes MASTER takes the other BACKUPs to MASTER at
//     once (vrrp.Instance.SyncMaster).
//   - A MASTER that steps down to BACKUP takes the other MASTERs to BACKUP
//     (vrrp.Instance.SyncBackup), with no priority-0 advert: the peer's
//     group takes over as a group.
//
// A member whose Master_Down_Timer expires takes over only when every
// other member is MASTER or wants to be (vrrp.Config.SyncGate), so a group
// prefers BACKUP to thrashing when only some of its VRIDs fall silent.
//
// The group's own notify scripts run when the group's state changes:
// FAULT when any member is in FAULT, MASTER when all are MASTER, BACKUP
// when none is MASTER or FAULT, STOP when all have stopped; notify gets
// keepalived's arguments "GROUP" NAME STATE 0.
type syncGroup struct {
	d      *Daemon
	name   string
	notify config.Notify
	user   string // script_user

	mu      sync.Mutex
	members []*unit
	state   vrrp.State // last notified; StateInit before the first
	stopped bool       // notify_stop sent
}

// newSyncGroups builds the groups of c over units (in configuration
// order) and ties each member unit to its group.
func newSyncGroups(d *Daemon, c *config.Config, units []*unit) {
	byName := map[string]*unit{}
	for _, u := range units {
		byName[u.name()] = u
		u.setGroup(nil)
	}
	for _, sg := range c.SyncGroups {
		g := &syncGroup{d: d, name: sg.Name, notify: sg.Notify, user: c.Global.ScriptUser, state: vrrp.StateInit}
		for _, m := range sg.Members {
			if u := byName[m]; u != nil {
				g.members = append(g.members, u)
				u.setGroup(g)
			}
		}
	}
}

func (u *unit) setGroup(g *syncGroup) {
	u.mu.Lock()
	u.group = g
	u.mu.Unlock()
}

func (u *unit) syncGroup() *syncGroup {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.group
}

// syncGate is u's vrrp.Config.SyncGate: outside a group u may always take
// over; in one, only when every other member is MASTER or wants to be
// (its own Master_Down_Timer expired), as keepalived's
// vrrp_sync_can_goto_master. It runs on u's engine goroutine.
func (u *unit) syncGate() bool {
	g := u.syncGroup()
	if g == nil {
		return true
	}
	g.mu.Lock()
	members := slices.Clone(g.members)
	g.mu.Unlock()
	for _, m := range members {
		if m == u {
			continue
		}
		m.mu.Lock()
		e := m.eng
		m.mu.Unlock()
		if e == nil {
			return false
		}
		if st := e.Status(); st.State != vrrp.StateMaster && !st.WantMaster {
			return false
		}
	}
	return true
}

// ownFault returns the reasons of u's fault sources other than the group's.
func (u *unit) ownFault() string { return u.faultedBy(srcSync) }

// faultsChanged brings the group's srcSync fault sources in line with the
// members' own faults. Call it without any unit's lock.
func (g *syncGroup) faultsChanged() {
	g.mu.Lock()
	defer g.mu.Unlock()
	own := make([]string, len(g.members))
	for i, m := range g.members {
		own[i] = m.ownFault()
	}
	for i, m := range g.members {
		var cause *unit
		for j, o := range own {
			if j != i && o != "" {
				cause = g.members[j]
				break
			}
		}
		if cause != nil {
			m.setFault(srcSync, "vrrp_sync_group "+g.name+": "+cause.name()+" in FAULT: "+own[slices.Index(g.members, cause)])
		} else {
			m.clearFault(srcSync, "vrrp_sync_group "+g.name+": no member in FAULT")
		}
	}
}

// transition is called for each transition of member u: it moves the
// others with it and runs the group's notify scripts when the group's
// state changes.
func (g *syncGroup) transition(u *unit, ev vrrp.Event) {
	g.mu.Lock()
	others := make([]*unit, 0, len(g.members))
	for _, m := range g.members {
		if m != u {
			others = append(others, m)
		}
	}
	g.mu.Unlock()
	why := "vrrp_sync_group " + g.name + ": " + u.name() + " " + ev.To.String()
	switch {
	case ev.To == vrrp.StateMaster:
		for _, m := range others {
			m.engine(func(e *vrrp.Instance) { e.SyncMaster(why) })
		}
	case ev.From == vrrp.StateMaster && ev.To == vrrp.StateBackup:
		for _, m := range others {
			m.engine(func(e *vrrp.Instance) { e.SyncBackup(why) })
		}
	}
	g.notifyState(u, ev.To)
}

// notifyState queues the group's notify scripts if the group's state
// changed now that member u is in to; the others' states are read from
// their engines.
func (g *syncGroup) notifyState(u *unit, to vrrp.State) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var master, fault, init, n int
	for _, m := range g.members {
		st := to
		if m != u {
			st = m.state()
		}
		n++
		switch st {
		case vrrp.StateMaster:
			master++
		case vrrp.StateFault:
			fault++
		case vrrp.StateInit:
			init++
		}
	}
	var st vrrp.State
	switch {
	case init == n:
		if g.stopped || g.state == vrrp.StateInit {
			return
		}
		g.stopped = true
		st = vrrp.StateInit
	case fault > 0:
		st = vrrp.StateFault
	case master == n:
		st = vrrp.StateMaster
	case master == 0 && init == 0:
		st = vrrp.StateBackup
	default:
		return // on the way from one state to another
	}
	if st == g.state {
		return
	}
	g.state = st
	s := spec{Name: g.name, Notify: g.notify, User: g.user}
	jobs := notifyJobs(s, st)
	for i := range jobs {
		if jobs[i].hook == "notify" {
			// keepalived: "GROUP" NAME STATE 0 (a group has no priority).
			a := jobs[i].argv
			a[len(a)-4], a[len(a)-1] = "GROUP", "0"
		}
	}
	g.d.notifier.enqueue(jobs...)
}

// engine runs f on u's running engine, if any.
func (u *unit) engine(f func(*vrrp.Instance)) {
	u.mu.Lock()
	e := u.eng
	u.mu.Unlock()
	if e != nil {
		f(e)
	}
}
