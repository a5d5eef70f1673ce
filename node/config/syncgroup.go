package config

import "slices"

// syncGroup decodes a vrrp_sync_group block. Its members are resolved in
// finish, once every vrrp_instance is read: keepalived links them after
// the whole file (vrrp_sync_set_group), so order does not matter.
func (dc *decoder) syncGroup(n *node) {
	name, ok := dc.name(n)
	if !ok {
		return
	}
	for _, g := range dc.cfg.SyncGroups {
		if g.Name == name {
			dc.d.errorf(n.pos, "vrrp_sync_group %s: already defined at %s (keepalived would skip this one)", name, g.Pos)
			return
		}
	}
	g := SyncGroup{Name: name, Pos: n.pos}
	given := map[string]Pos{}
	notify := func(kw string) handler {
		return handler{false, func(n *node) {
			if ns, ok := dc.notifyCommand(n); ok {
				g.Notify.set(kw, ns)
			}
		}}
	}
	// track_script and track_interface apply to every member, as in
	// keepalived; other group tracking (track_file, ...) is named as
	// unsupported by unknown().
	var tracks []*node
	var ifs []TrackInterface
	dc.keywords("vrrp_sync_group "+name, n.block, given, map[string]handler{
		"track_script": {true, func(n *node) {
			if dc.none(n) {
				tracks = append(tracks, dc.entries(n)...)
			}
		}},
		"track_interface": {true, func(n *node) {
			if dc.none(n) {
				for _, e := range dc.entries(n) {
					if t, ok := dc.trackInterface(e); ok {
						ifs = append(ifs, t)
					}
				}
			}
		}},
		"group": {true, func(n *node) {
			if !dc.none(n) {
				return
			}
			for _, e := range dc.entries(n) {
				for _, m := range e.words {
					g.Members = append(g.Members, m)
					dc.groupPos = append(dc.groupPos, e.pos)
				}
			}
		}},
		"notify_master": notify("notify_master"),
		"notify_backup": notify("notify_backup"),
		"notify_fault":  notify("notify_fault"),
		"notify_stop":   notify("notify_stop"),
		"notify":        notify("notify"),
	})
	if _, ok := given["group"]; !ok {
		dc.d.errorf(n.pos, "vrrp_sync_group %s: no group { ... } block: keepalived removes the group (\"no virtual router(s)\") and runs its instances apart; list them inside group { ... }", name)
		g.noGroup = true
	}
	dc.groupSpan = append(dc.groupSpan, len(dc.groupPos))
	dc.groupTracks = append(dc.groupTracks, tracks)
	dc.groupIfs = append(dc.groupIfs, ifs)
	dc.groupSeq = append(dc.groupSeq, dc.seq)
	dc.cfg.SyncGroups = append(dc.cfg.SyncGroups, g)
}

// finishSyncGroups checks each group's members once every instance is
// known. keepalived ignores, with only a log line, a member that does not
// exist and a member already in another group; both are errors here.
func (dc *decoder) finishSyncGroups(used map[string]bool) {
	start := 0
	in := map[string]string{} // instance -> its group
	for i := range dc.cfg.SyncGroups {
		g := &dc.cfg.SyncGroups[i]
		pos := dc.groupPos[start:dc.groupSpan[i]]
		start = dc.groupSpan[i]
		var members []string
		for j, m := range g.Members {
			switch prev, dup := in[m]; {
			case dc.findInstance(m) == nil:
				dc.d.errorf(pos[j], "vrrp_sync_group %s: no vrrp_instance %s; keepalived would ignore this member with only a log line", g.Name, m)
			case dup && prev == g.Name:
				dc.d.warnf(pos[j], "vrrp_sync_group %s: %s listed twice", g.Name, m)
			case dup:
				dc.d.errorf(pos[j], "vrrp_sync_group %s: vrrp_instance %s is already in vrrp_sync_group %s; an instance can be in one group only (keepalived would ignore this member)", g.Name, m, prev)
			default:
				in[m] = g.Name
				members = append(members, m)
			}
		}
		g.Members = members
		if len(members) == 0 && len(pos) == 0 && !g.noGroup {
			dc.d.warnf(g.Pos, "vrrp_sync_group %s: empty group block; keepalived removes the group", g.Name)
		}
		dc.groupTracking(i, used)
		if len(members) == 1 {
			dc.d.warnf(g.Pos, "vrrp_sync_group %s: only one member, %s: the group changes nothing (keepalived: \"this probably isn't what you want\")", g.Name, members[0])
		}
	}
}

// groupTracking gives every member of sync group i the group's
// track_script and track_interface entries (keepalived's
// vrrp_complete_init), each resolved once, where the group was written.
func (dc *decoder) groupTracking(i int, used map[string]bool) {
	g := &dc.cfg.SyncGroups[i]
	owner := "vrrp_sync_group " + g.Name
	var tracks []Track
	for _, e := range dc.groupTracks[i] {
		if t, ok := dc.trackFor(owner, tracks, dc.groupSeq[i], e); ok {
			tracks = append(tracks, t)
			used[t.Name] = true
			if t.Weight != 0 {
				dc.d.warnf(t.Pos, "track_script %s: weight %d: vipd does not change priorities; a failure puts every member of %s in FAULT, as weight 0 does", t.Name, t.Weight, owner)
			}
		}
	}
	for _, t := range dc.groupIfs[i] {
		if t.Weight != 0 {
			dc.d.warnf(t.Pos, "track_interface %s: weight %d: vipd does not change priorities; the interface going down puts every member of %s in FAULT, as weight 0 does", t.Name, t.Weight, owner)
		}
	}
	g.Tracks, g.TrackInterfaces = tracks, dc.groupIfs[i]
	for _, m := range g.Members {
		in := dc.findInstance(m)
		for _, t := range tracks {
			if !slices.ContainsFunc(in.Tracks, func(o Track) bool { return o.Name == t.Name }) {
				in.Tracks = append(in.Tracks, t)
			}
		}
		for _, t := range dc.groupIfs[i] {
			if !slices.ContainsFunc(in.TrackInterfaces, func(o TrackInterface) bool { return o.Name == t.Name }) {
				in.TrackInterfaces = append(in.TrackInterfaces, t)
			}
		}
	}
}
