package vrrp

import (
	"net/netip"
	"time"
)

// DefaultStrangerHold is the Config.StrangerHold vipd runs with: longer
// than the bursts of forged adverts measured in the lab (a chaos burst lasts
// up to 4 s; issue 13's stranger sent for 10 s), short enough that a real
// peer never heard before (the winner of a partition heal) is obeyed soon.
const DefaultStrangerHold = 15 * time.Second

// maxKnownPeers bounds the learned peers: a pair has one, a segment a few.
const maxKnownPeers = 16

// A stranger is a host that sends adverts for our VRID but is not a peer:
// with unicast peers, any other source (the Filter drops it, DropPeer); in
// multicast mode, a source this instance never obeyed. VRRPv2's password
// travels in clear and v3 has none, so the adverts alone cannot tell a
// forger, or a copy of our configuration on another pair, from a peer. What
// they can tell is history. In multicast mode a BACKUP that hears no known
// master (none since startup, or the known one silent for twice
// Master_Down_Interval) trusts the master it hears: there is nothing to
// compare it with, and RFC 5798 says to follow it. Any other new source is a
// stranger until it has proved itself by advertising for StrangerHold (when
// StrangerHold is 0, the engine's default, it is obeyed at once as RFC 5798
// says, and only counted and logged; then it is known):
//
//   - a BACKUP does not follow it: its Master_Down_Timer runs on the known
//     master's adverts, so a forger cannot keep it BACKUP once that master
//     is gone (it takes over, and holds the forger off as a MASTER);
//   - a MASTER does not step down for its adverts of a higher priority
//     than ours: the VIP is not lost to a host that is not a peer. One of
//     our priority and a higher address is obeyed at once, as the winner
//     of a partition heal or a startup race of a pair of equal priorities
//     must be (so a stranger of our priority still wins by its address).
//     A lower-priority master is learned and obeyed (answered at once,
//     with gratuitous ARPs): it yields to us, as the loser of a heal or a
//     race does. Priority-0 adverts of a stranger are ignored.
//
// A BACKUP adopting leftover VIPs (Config.AdoptVIPs) is judged as a MASTER:
// it holds the VIP, and having just started it knows no peer yet.
//
// keepalived has no such notion in multicast mode and steps down at the
// first higher advert, whoever sends it; that is what issue 13 measured (12.6
// s without a holder). The price of holding on: a real peer of a higher
// priority never heard before, such as the winner of a partition heal that
// this node never followed, waits StrangerHold before this node yields, with both holding the
// VIP meanwhile (the winner answers each of our adverts with gratuitous
// ARPs, so the clients follow it). Unicast peers have no such price:
// configure them where the segment is shared.
type strangers struct {
	hold      time.Duration
	known     []netip.Addr // learned in multicast mode, oldest first
	lastKnown time.Time    // when a known source last advertised

	held        netip.Addr // the stranger a MASTER is holding off
	since, last time.Time  // its continuous run of adverts
}

// verdict is what judge decides about an accepted advert.
type verdict uint8

const (
	obey        verdict = iota // a peer's: hand it to the state machine
	strange                    // a stranger's, obeyed: after StrangerHold, or at once without one
	strangeHeld                // a stranger's, not obeyed
)

// judge decides about an accepted multicast advert from src with priority
// prio, received at now in state st; higher says that prio is above ours.
// masterDown is the current Master_Down_Interval: a longer gap ends a
// stranger's run of adverts.
func (s *strangers) judge(now time.Time, src netip.Addr, prio uint8, st State, higher bool, masterDown time.Duration) verdict {
	v := s.classify(now, src, prio, st, higher, masterDown)
	if v == strangeHeld && s.hold == 0 {
		s.learn(src) // no hold: obeyed, and counted once
		return strange
	}
	return v
}

func (s *strangers) classify(now time.Time, src netip.Addr, prio uint8, st State, higher bool, masterDown time.Duration) verdict {
	if contains(s.known, src) {
		s.lastKnown = now
		return obey
	}
	if st != StateMaster && (s.lastKnown.IsZero() || now.Sub(s.lastKnown) > 2*masterDown) {
		// No known master speaks: this is the first master heard since
		// startup, or the successor of one that died. Trust it. Twice
		// Master_Down_Interval: a BACKUP's own timer fires first, and it
		// then holds the stranger off as a MASTER.
		s.learn(src)
		s.lastKnown = now
		return obey
	}
	switch st {
	case StateBackup:
		return strangeHeld
	case StateMaster:
		switch {
		case prio == 0:
			return strangeHeld
		case !higher:
			// A lower master yields to us: a peer after a heal or a
			// race, or a harmless host. One of our priority wins by
			// its address: the other side of a heal or a startup race
			// of a pair of equal priorities (the seed's), which must
			// end at once.
			s.learn(src)
			return obey
		}
		if s.held != src || now.Sub(s.last) > masterDown {
			s.held, s.since = src, now
		}
		s.last = now
		if now.Sub(s.since) < s.hold {
			return strangeHeld
		}
		s.learn(src)
		s.held = netip.Addr{}
		return strange
	}
	// INIT and FAULT ignore adverts: nothing to hold off, and a peer that
	// took over meanwhile is no stranger.
	return obey
}

func (s *strangers) learn(src netip.Addr) {
	if len(s.known) == maxKnownPeers {
		s.known = append(s.known[:0], s.known[1:]...)
	}
	s.known = append(s.known, src)
}
