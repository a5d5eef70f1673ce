// Package vrrp is an embeddable VRRP router: version 2 (RFC 3768) and
// version 3 (RFC 5798) advertisements over IPv4, version 3 over IPv6 (to
// ff02::12 from the link-local address), the state machine of RFC 5798
// section 6.4 with keepalived's extensions, and the Linux pieces that put it
// on a real interface. It speaks keepalived's dialect on the wire, so a
// router built on it can pair with a keepalived one.
//
// # Embedding
//
// An Instance is one virtual router (one VRID). It reaches the world only
// through three narrow interfaces, so the same engine runs on a raw socket or
// in memory:
//
//   - Conn sends and receives advertisements (Listen opens a raw socket on
//     Linux, of one family, with a kernel filter on VRIDs; a Mux shares one
//     among the instances of an interface; vrrptest.Network is an
//     in-memory segment);
//   - Addresser adds and removes the virtual addresses (NewAddresser;
//     IPv6 ones with nodad);
//   - Announcer sends gratuitous ARP for them, or for IPv6 unsolicited
//     neighbour advertisements with Override (NewAnnouncer).
//
// NewInstance checks the Config and starts nothing; Run runs the protocol
// until its context ends, then shuts down as RFC 5798 says: a master sends a
// priority-0 advertisement so that a backup takes over after Skew_Time, and
// the virtual addresses are removed.
//
//	conn, err := vrrp.Listen("eth0", vrrp.ListenConfig{Source: primary})
//	...
//	inst, err := vrrp.NewInstance(vrrp.Config{
//		VRID:      60,
//		Priority:  100,
//		NoPreempt: true,
//		Primary:   primary, // the source of our adverts: Listen's Source
//		Addresses: []netip.Prefix{vip},
//		AuthType:  vrrp.AuthSimple,
//		AuthPass:  "qwert123",
//		Logger:    logger,
//	}, conn, addresser, announcer)
//	...
//	g, ctx := errgroup.WithContext(ctx)
//	g.Go(func() error { return inst.Run(ctx) })
//	g.Go(func() error {
//		for {
//			select {
//			case ev := <-inst.Events():
//				logger.Info("VRRP", "from", ev.From, "to", ev.To, "reason", ev.Reason)
//			case <-ctx.Done():
//				return nil
//			}
//		}
//	})
//
// Events reports every state transition without ever blocking the protocol
// (or Config.OnEvent takes them on Run's goroutine: a daemon of many
// instances on one Mux then runs one goroutine per instance, not two);
// Status returns a snapshot with counters (adverts, priority-0 adverts,
// drops by DropReason, errors). Fault puts the instance in FAULT, giving the
// virtual addresses up at once, for example when the service behind them
// failed; Resume brings it back as BACKUP.
//
// # Behaviour
//
// The state machine is RFC 5798's: BACKUP takes over when no advert came for
// Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time, where
// Skew_Time = (256 - Priority) * Master_Adver_Interval / 256 in version 3
// and (256 - Priority) / 256 s in version 2, as RFC 3768 and keepalived have
// it (3.609375 s and 0.609375 s at priority 100 and 1 s), or after Skew_Time
// when the master sent priority 0. Equal priorities are broken by the higher primary
// address. A version 3 backup adopts the master's interval. On top of it,
// as keepalived does:
//
//   - NoPreempt (nopreempt): a backup accepts any master, so a repaired
//     router rejoins as BACKUP and never takes the address back;
//   - PreemptDelay (preempt_delay): a lower-priority master is tolerated
//     until that long after startup or Resume;
//   - InitialState StateMaster ("state MASTER") and priority 255 (the
//     address owner) become master at startup without waiting;
//   - StartupDelay (vrrp_startup_delay) pushes the first master-down deadline
//     out while the network comes up;
//   - FAULT sends no adverts and holds no address;
//   - a master that hears a lower-priority master (a healed partition)
//     answers at once and announces its addresses again, so the other steps
//     down within a round trip and clients relearn the MAC;
//   - on becoming master every address is announced GARPRepeat times,
//     GARPInterval apart (3 and 1.1 s: Linux ignores a second update within
//     its 1 s locktime), and every GARPRefresh while master if set.
//
// A router holds the virtual addresses only while it is MASTER: they are
// removed on every way out of MASTER, and at startup in case a crashed run
// left them behind. With AdoptVIPs a restarted router keeps such leftovers
// instead and listens for AdoptWindow: a master heard means it drops them and
// is BACKUP; silence means it is MASTER at once, the addresses never having
// left (a daemon restarted right after a crash costs its clients nothing). A
// failed add or remove is logged, counted and retried.
//
// Received packets pass the checks of RFC 5798 section 7.1 (Filter); each
// rejected one is counted by reason and logged, the first of a reason at
// once and then at most one summary per reason every 10 seconds. Receiving
// and obeying an advert allocates nothing.
//
// # Testing
//
// The state machine itself is pure: events in, actions out, no clock. The
// Instance uses only the time package and channels, so package vrrptest's
// in-memory Network runs whole clusters of Instances under testing/synctest
// with fake time, loss, delay, partitions and crashes.
package vrrp
