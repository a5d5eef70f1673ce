package ui

import (
	"maps"

	"github.com/vipkit/vip/node/control"
)

// PairState is what the console shows of a pair, for callers without a
// screen (a headless console, `vipctl demo --snapshot`, tests): read from
// the model's own state, judged by the same rules as the screen.
type PairState struct {
	Nodes  map[string]NodeState
	Probe  ProbeSample // the latest
	Health string      // as the pair's tab says: "ok", "SPLIT BRAIN VI_1", ...
}

// NodeState is what the console shows of one node.
type NodeState struct {
	Connected bool
	// Live: the console has a current word from the node's vipd.
	Live  bool
	Roles map[string]control.State // by instance, from the last status
	// VIP says, by instance, whether the VIPs are on the node according to
	// a status taken after the instance's last transition; an instance is
	// absent while that is unknown.
	VIP map[string]bool
	Err error
}

// Settled returns the node that is MASTER of every instance and holds its
// VIPs, while every other node is live and holds no VIP and no
// mastership, and the probe's latest answer came from it.
func (p PairState) Settled() (master string, ok bool) {
	for name, n := range p.Nodes {
		if !n.Connected || !n.Live || n.Err != nil || len(n.Roles) == 0 {
			return "", false
		}
		mastered := 0
		for inst, r := range n.Roles {
			held, known := n.VIP[inst]
			switch {
			case !known:
				return "", false
			case r == control.StateMaster && held:
				mastered++
			case r == control.StateMaster || held:
				return "", false // a role the VIP did not follow
			}
		}
		switch {
		case mastered == len(n.Roles) && master == "":
			master = name
		case mastered > 0:
			return "", false // two masters, or a master of some only
		}
	}
	if master == "" || !p.Probe.OK || p.Probe.Backend != master {
		return "", false
	}
	return master, true
}

// PairStates is what the console shows of every pair, by name. Call it
// where the model may be read (its Update's goroutine).
func (m *Model) PairStates() map[string]PairState {
	out := make(map[string]PairState, len(m.pairs))
	for _, p := range m.pairs {
		ps := PairState{Nodes: map[string]NodeState{}}
		_, ps.Health = pairHealth(p.nodes, p.probe, p.vip)
		if p.probe != nil && len(p.probe.samples) > 0 {
			ps.Probe = p.probe.samples[len(p.probe.samples)-1]
		}
		for _, n := range p.nodes {
			ns := NodeState{Connected: n.connected() && !n.closed, Live: n.live(), Err: n.err,
				Roles: map[string]control.State{}, VIP: map[string]bool{}}
			if n.status != nil {
				for _, in := range n.status.Instances {
					ns.Roles[in.Name] = in.State
					if !n.vipUnknown[in.Name] {
						ns.VIP[in.Name] = in.VIPPresent
					}
				}
			}
			ns.Roles, ns.VIP = maps.Clone(ns.Roles), maps.Clone(ns.VIP)
			ps.Nodes[n.name] = ns
		}
		out[p.name] = ps
	}
	return out
}
