package vrrp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// State is the state of a VRRP instance.
type State uint8

const (
	StateInit   State = iota // not running (RFC "Initialize")
	StateBackup              // listening for the master
	StateMaster              // holding the virtual addresses
	StateFault               // out of service (keepalived's FAULT): no adverts, no VIPs
)

var stateNames = [...]string{"INIT", "BACKUP", "MASTER", "FAULT"}

// String returns the state as keepalived names it: INIT, BACKUP, MASTER or FAULT.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// Defaults of Config.
const (
	DefaultPriority     = 100                     // keepalived's default
	DefaultVersion      = Version2                // keepalived's default
	DefaultInterval     = time.Second             // advert_int 1
	DefaultGARPRepeat   = 3                       // announcements per burst
	DefaultGARPInterval = 1100 * time.Millisecond // just over Linux's 1 s neighbour locktime
)

// Config configures one VRRP instance (one VRID on one interface). The zero
// value of every field but VRID, Primary and Addresses means its default.
type Config struct {
	VRID     uint8 // 1 to 255
	Priority uint8 // 1 to 255, 0 means DefaultPriority; 255 is the address owner
	Version  Version
	Interval time.Duration // whole seconds in v2, whole centiseconds in v3; 0 means 1 s

	// NoPreempt is keepalived's nopreempt: a backup never takes over from
	// a working master, even one of lower priority, and the instance
	// starts as BACKUP. It cannot be combined with priority 255,
	// InitialState StateMaster or a PreemptDelay.
	NoPreempt bool
	// PreemptDelay (keepalived's preempt_delay) lets a lower-priority
	// master stay until PreemptDelay after startup or Resume.
	PreemptDelay time.Duration
	// InitialState StateMaster (keepalived's "state MASTER") becomes master
	// at startup without waiting for Master_Down_Interval; StateInit and
	// StateBackup start as BACKUP.
	InitialState State

	// Primary is the source address of our adverts, so it must be the
	// address the Conn sends from (the v3 checksum covers it). It breaks
	// ties between equal priorities (the higher address wins), and adverts
	// from it are our own.
	Primary   netip.Addr
	Addresses []netip.Prefix // the virtual addresses, 1 to 255
	// Excluded are held with Addresses but not advertised (keepalived's
	// virtual_ipaddress_excluded): of either family, any number.
	Excluded []netip.Prefix

	AuthType AuthType // v2 only
	AuthPass string   // v2 AuthSimple password; like keepalived, only the first 8 bytes count
	// Peers, when not empty, makes adverts unicast to each peer (keepalived's
	// unicast_peer) instead of multicast to 224.0.0.18, and only adverts
	// from them are accepted.
	Peers []netip.Addr

	// GARPRepeat is how many gratuitous ARPs announce each VIP on becoming
	// master, GARPInterval apart (defaults 3 and 1.1 s). GARPRefresh, when
	// not zero, repeats one announcement that often while master.
	GARPRepeat   int
	GARPInterval time.Duration
	GARPRefresh  time.Duration
	// StartupDelay (keepalived's vrrp_startup_delay) pushes the first
	// master-down deadline out, so that a router whose network is still
	// coming up does not take over before it can hear the master.
	StartupDelay time.Duration

	// AdoptVIPs keeps virtual addresses found on the interface at startup,
	// as a daemon that was killed (SIGKILL, OOM) leaves them, instead of
	// removing them at once. The instance then listens for AdoptWindow
	// (1.5 advert intervals, well under a backup's Master_Down_Interval):
	// an advert from a master (priority above 0) makes it drop them and
	// carry on as a BACKUP; silence makes it MASTER with the addresses it
	// never dropped (advert and GARPs at once), so a master restarted
	// quickly by its supervisor keeps serving with no gap. Without
	// AdoptVIPs, leftovers are removed at startup and the instance waits a
	// full Master_Down_Interval. Not combined with StartupDelay: after a
	// crash the network is up; after a reboot nothing is left over.
	AdoptVIPs bool

	// SyncGate, when set, makes the instance a member of a sync group
	// (keepalived's vrrp_sync_group). It is asked when Master_Down_Timer
	// expires in BACKUP: false keeps the instance BACKUP, wanting to be
	// master (Status.WantMaster), with the timer started again, as
	// keepalived's vrrp_sync_can_goto_master prefers BACKUP to thrashing
	// until every member wants to take over. It runs on the instance's own
	// goroutine: it must not block or call this Instance.
	SyncGate func() bool

	// StrangerHold is how long, in multicast mode, a stranger (a source
	// this instance never obeyed, see strangers) must advertise before a
	// MASTER steps down for it, or a BACKUP follows it while the known
	// master speaks. 0 obeys strangers at once, as RFC 5798 does, counting
	// and logging them (Stats.Strangers); vipd uses DefaultStrangerHold.
	StrangerHold time.Duration

	// OnEvent, if set, receives the state transitions in Events' place, in
	// order, on a goroutine of Run's: on a Mux, Run's own, which otherwise
	// only waits, so that a daemon of many instances runs no goroutine per
	// instance just to pump them. It may block (transitions queue
	// meanwhile, up to EventBuffer) but must not wait for this Instance's
	// Run to return. The last is delivered before Run returns.
	OnEvent func(Event)

	Logger *slog.Logger // nil: no logging
}

// withDefaults returns c with its defaults applied, or why it is invalid.
func (c Config) withDefaults() (Config, error) {
	if c.Priority == 0 {
		c.Priority = DefaultPriority
	}
	if c.Version == 0 {
		c.Version = DefaultVersion
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.GARPRepeat == 0 {
		c.GARPRepeat = DefaultGARPRepeat
	}
	if c.GARPInterval == 0 {
		c.GARPInterval = DefaultGARPInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Addresses, c.Excluded, c.Peers = slices.Clone(c.Addresses), slices.Clone(c.Excluded), slices.Clone(c.Peers) // ours now
	if c.VRID == 0 {
		return c, errors.New("VRID must be 1 to 255")
	}
	switch c.Version {
	case Version2:
		if c.Interval%time.Second != 0 || c.Interval < time.Second || c.Interval > 255*time.Second {
			return c, fmt.Errorf("VRRPv2 interval %v: want whole seconds from 1s to 255s", c.Interval)
		}
	case Version3:
		const cs = 10 * time.Millisecond
		if c.Interval%cs != 0 || c.Interval < cs || c.Interval > v3MaxCentis*cs {
			return c, fmt.Errorf("VRRPv3 interval %v: want whole centiseconds from 10ms to 40.95s", c.Interval)
		}
		if c.AuthType != AuthNone {
			return c, errors.New("VRRPv3 has no authentication")
		}
	default:
		return c, fmt.Errorf("version %d: want 2 or 3", c.Version)
	}
	switch c.AuthType {
	case AuthNone:
	case AuthSimple:
		if c.AuthPass == "" {
			return c, errors.New("authentication PASS needs a password")
		}
	default:
		return c, fmt.Errorf("authentication type %d: want none (0) or PASS (1)", c.AuthType)
	}
	// One family per instance, the primary address's (RFC 5798 section
	// 5.2.9: an IPv6 router advertises IPv6 addresses only).
	fam := FamilyOf(c.Primary)
	c.Primary = c.Primary.Unmap()
	switch {
	case !c.Primary.IsValid() || c.Primary.Zone() != "" || !c.Primary.IsGlobalUnicast() && !c.Primary.IsLinkLocalUnicast():
		return c, fmt.Errorf("primary address %v: want a unicast address without a zone", c.Primary)
	case fam == IPv6 && c.Version != Version3:
		return c, errors.New("VRRP over IPv6 is version 3 only")
	case fam == IPv6 && len(c.Peers) == 0 && !c.Primary.IsLinkLocalUnicast():
		// Receivers drop multicast adverts from any other source.
		return c, fmt.Errorf("primary address %v: VRRP over IPv6 multicast is sent from the link-local address", c.Primary)
	}
	if len(c.Addresses) == 0 || len(c.Addresses) > MaxAddresses {
		return c, fmt.Errorf("%d virtual addresses: want 1 to %d", len(c.Addresses), MaxAddresses)
	}
	for _, p := range c.Addresses {
		if !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() || FamilyOf(p.Addr()) != fam {
			return c, fmt.Errorf("virtual address %v: want an %v prefix, the family of the primary address", p, fam)
		}
	}
	for _, p := range c.Excluded {
		if !p.IsValid() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
			return c, fmt.Errorf("excluded virtual address %v: want an IPv4 or IPv6 prefix", p)
		}
	}
	for _, p := range c.Peers {
		if !p.IsValid() || p.Zone() != "" || FamilyOf(p) != fam || p.Unmap() == c.Primary {
			return c, fmt.Errorf("unicast peer %v: want an %v address other than the primary", p, fam)
		}
	}
	switch c.InitialState {
	case StateInit, StateBackup, StateMaster:
	default:
		return c, fmt.Errorf("initial state %v: want BACKUP or MASTER", c.InitialState)
	}
	if c.NoPreempt {
		// keepalived clears nopreempt in these cases with a warning; an
		// embedder should decide, so say it.
		switch {
		case c.Priority == 255:
			return c, errors.New("nopreempt cannot work with priority 255 (address owner)")
		case c.InitialState == StateMaster:
			return c, errors.New("nopreempt cannot work with initial state MASTER")
		case c.PreemptDelay != 0:
			return c, errors.New("preempt delay has no meaning with nopreempt")
		}
	}
	if c.PreemptDelay < 0 || c.GARPRepeat < 0 || c.GARPInterval < 0 || c.GARPRefresh < 0 || c.StartupDelay < 0 || c.StrangerHold < 0 {
		return c, errors.New("negative delay, interval or count")
	}
	return c, nil
}

// An Event is a state transition.
type Event struct {
	Time     time.Time
	From, To State
	Reason   string     // why: "master down", "higher priority advert", Fault's reason, ...
	Master   netip.Addr // the master after the transition (our Primary when To is MASTER), if known
	// Adopting is a BACKUP that keeps the virtual addresses a previous run
	// left (Config.AdoptVIPs) while it listens for a master: clients
	// reach it as a master until Status.Adopting turns false (a master
	// heard: the addresses dropped, no transition) or it becomes MASTER.
	Adopting bool
}

// Status is a snapshot of an instance.
type Status struct {
	State State
	// Priority is the configured priority; EffectivePriority is the one we
	// advertise now: Priority in BACKUP and MASTER, 0 in INIT and FAULT.
	Priority, EffectivePriority uint8
	Master                      netip.Addr // the master we follow (our Primary when MASTER), if known
	MasterPriority              uint8
	MasterAdverInterval         time.Duration // v3 backups learn it from the master
	LastAdvert                  time.Time     // when the last accepted advert arrived
	// WantMaster is a sync group member's BACKUP whose Master_Down_Timer
	// expired while Config.SyncGate held it back.
	WantMaster bool
	// Adopting: see Event.Adopting.
	Adopting bool
	// Stranger is the last host that sent adverts for our VRID without
	// being a peer (see Stats.Strangers), and StrangerAt when; zero if none.
	Stranger   netip.Addr
	StrangerAt time.Time
	// MismatchPeer is the last peer whose advert listed other virtual
	// addresses than ours (see Stats.AddressMismatch), MismatchAddresses
	// its list, sorted, and MismatchAt when; zero if none.
	MismatchPeer      netip.Addr
	MismatchAddresses []netip.Addr
	MismatchAt        time.Time
	Stats             Stats
}

// Stats are an instance's counters since NewInstance.
type Stats struct {
	AdvertRcvd    uint64 // adverts accepted
	AdvertSent    uint64 // adverts sent (to the group or to every peer)
	BecomeMaster  uint64
	ReleaseMaster uint64
	PriZeroRcvd   uint64
	PriZeroSent   uint64
	GARPSent      uint64 // successful Announce calls
	// Drops counts rejected packets by reason; index it with a
	// DropReason, or use Drop.
	Drops          [numDropReasons]uint64
	SendErrors     uint64 // failed encodes and writes
	AddressErrors  uint64 // failed AddAddress/RemoveAddress calls
	AnnounceErrors uint64 // failed Announce calls
	EventsDropped  uint64 // transitions not delivered because Events was full
	// Stalls counts protocol timers that fired late enough to say the
	// process was stopped (SIGSTOP, a frozen VM) and were put off by
	// StallGrace to read what arrived meanwhile.
	Stalls uint64
	// Strangers counts packets from hosts that are not peers: with unicast
	// peers every DropPeer drop; in multicast mode the adverts of a source
	// never obeyed (Config.StrangerHold), whether held off or obeyed.
	Strangers uint64
	// AddressMismatch counts accepted adverts whose virtual addresses
	// differ, as a set, from ours (still obeyed, see mismatched).
	AddressMismatch uint64
	// KernelDrops is how many packets the kernel dropped from the
	// socket's full receive buffer before they were read, when the Conn
	// is a KernelDropper; a socket shared by instances (Mux) counts once
	// for all of them.
	KernelDrops uint64
}

// Drop returns the number of packets dropped for reason r.
func (s Stats) Drop(r DropReason) uint64 {
	if r >= numDropReasons {
		return 0
	}
	return s.Drops[r]
}

// EventBuffer is the capacity of the Events channel: a transition is a
// few a second at most, and a consumer that falls 16 behind is stuck, not
// slow. Each slot costs every instance about 100 bytes.
const EventBuffer = 16

// Internal deadlines of the Instance, after the state machine's.
const (
	timerReconcile = numFSMTimers + iota // retry failed VIP changes
	timerLogFlush                        // summarize rate-limited log lines
	numTimers
)

// Rate-limited log keys: one per drop reason, then the error kinds.
const (
	limitSend = int(numDropReasons) + iota
	limitAnnounce
	limitStranger
	limitMismatch
	numLimits
)

const (
	logEvery     = 10 * time.Second // at most one summary per key this often
	maxPacketLen = 1500
)

// An Instance runs the VRRP state machine for one virtual router. Create it
// with NewInstance and run it with Run; Status, Events, Fault and Resume may
// be called from any goroutine.
type Instance struct {
	cfg    Config
	conn   Conn
	addr   Addresser
	ann    Announcer
	log    *slog.Logger
	filter Filter
	dsts   []netip.Addr // where adverts go: Group or the peers

	events  chan Event
	running atomic.Bool
	ended   chan struct{} // closed when Run returns

	cmdMu   sync.Mutex
	cmds    []command
	cmdWake chan struct{}

	mu     sync.Mutex
	status Status

	// Owned by the loop: Run's goroutine, or its Mux's (runOn).
	m         *fsm
	st        Stats
	lastAdv   time.Time
	deadlines [numTimers]time.Time
	adv       Advertisement // the advert we send
	sendBuf   []byte
	limits    [numLimits]rateLog
	strangers strangers
	stranger  netip.Addr // the last, for Status
	strangeAt time.Time

	held          []netip.Prefix // Addresses, then Excluded: what MASTER holds
	own           []netip.Addr   // adv.Addresses as a set, for the reader
	mismatchPeer  netip.Addr     // the last address mismatch, for Status
	mismatchAddrs []netip.Addr
	mismatchAt    time.Time
	gone          bool // left: deaf to commands until Run returns

	// On a Mux (runOn): the Mux that runs the loop, and its heap's record.
	sched     atomic.Pointer[Mux]
	onMux     bool       // owned by the Mux's goroutine: joined, not parted
	heapIdx   int        // in the Mux's timer heap; -1 when not there
	failed    chan error // why the Mux stopped while running it
	next      time.Time  // the earliest deadline, as the heap has it
	nextTimer timerID    // and whose it is
}

type command struct {
	left   chan struct{} // Leave's: closed once done; overrides the rest
	fault  bool          // Fault, else Resume
	sync   inputKind     // inSyncMaster or inSyncBackup; overrides fault
	reason string
}

// received is what the reader passes to the loop: a copy of the little the
// state machine needs, so the reader can reuse its buffers at once.
type received struct {
	drop     DropReason // DropNone: accepted
	src      netip.Addr
	priority uint8
	interval time.Duration
	addrs    []netip.Addr // its address set when it differs from ours
}

type rateLog struct {
	last       time.Time // when a line was last logged
	suppressed uint64    // not logged since
}

// NewInstance checks cfg and returns an instance that sends and receives
// adverts on c, adds and removes the virtual addresses with a and announces
// them with ann. It starts nothing: call Run.
func NewInstance(cfg Config, c Conn, a Addresser, ann Announcer) (*Instance, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("invalid configuration of VRRP instance %d: %w", cfg.VRID, err)
	}
	if c == nil || a == nil || ann == nil {
		return nil, errors.New("VRRP instance needs a Conn, an Addresser and an Announcer")
	}
	i := &Instance{
		cfg:     cfg,
		conn:    c,
		addr:    a,
		ann:     ann,
		log:     cfg.Logger.With("vrid", cfg.VRID),
		events:  make(chan Event, EventBuffer),
		ended:   make(chan struct{}),
		cmdWake: make(chan struct{}, 1),
		heapIdx: -1,
		filter: Filter{
			Version:  cfg.Version,
			Family:   FamilyOf(cfg.Primary),
			VRID:     cfg.VRID,
			AuthType: cfg.AuthType,
			AuthData: AuthData(cfg.AuthPass),
			Interval: cfg.Interval,
			Peers:    cfg.Peers,
			Self:     []netip.Addr{cfg.Primary},
		},
		m: newFSM(fsmConfig{
			Priority:      cfg.Priority,
			Version:       cfg.Version,
			Interval:      cfg.Interval,
			Preempt:       !cfg.NoPreempt,
			PreemptDelay:  cfg.PreemptDelay,
			InitialMaster: cfg.InitialState == StateMaster,
			Primary:       cfg.Primary,
			GARPRepeat:    cfg.GARPRepeat,
			GARPInterval:  cfg.GARPInterval,
			GARPRefresh:   cfg.GARPRefresh,
			StartupDelay:  cfg.StartupDelay,
			AdoptVIPs:     cfg.AdoptVIPs,
		}),
		adv: Advertisement{
			Version:  cfg.Version,
			VRID:     cfg.VRID,
			Interval: cfg.Interval,
			AuthType: cfg.AuthType,
		},
		strangers: strangers{hold: cfg.StrangerHold},
	}
	if cfg.AuthType != AuthNone {
		i.adv.AuthData = AuthData(cfg.AuthPass)
	}
	for _, p := range cfg.Addresses {
		i.adv.Addresses = append(i.adv.Addresses, p.Addr())
	}
	i.own = setOf(slices.Clone(i.adv.Addresses))
	i.held = append(slices.Clip(cfg.Addresses), cfg.Excluded...)
	fam := FamilyOf(cfg.Primary)
	i.adv.Family = fam
	i.dsts = []netip.Addr{GroupOf(fam)}
	if len(cfg.Peers) > 0 {
		i.dsts = cfg.Peers
	}
	i.publish()
	return i, nil
}

// Events returns the state transitions, unless Config.OnEvent takes them.
// The channel holds EventBuffer events; when it is full, new ones are dropped (and counted in
// Stats.EventsDropped) rather than stall the protocol. It is never closed:
// after Run returns, drain it without blocking.
func (i *Instance) Events() <-chan Event { return i.events }

// Status returns a snapshot of the instance.
func (i *Instance) Status() Status {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.status
}

// Fault puts the instance in FAULT, for example because the service behind
// the VIP failed: a master sends a priority-0 advert so a backup takes over
// after Skew_Time, and the VIPs are removed. It does not wait: the
// transition shows on Events and Status. Before Run, it makes Run start in
// FAULT.
func (i *Instance) Fault(reason string) { i.command(command{fault: true, reason: reason}) }

// Resume takes the instance out of FAULT into BACKUP as if it had just
// started: it waits Master_Down_Interval for adverts before it takes over,
// and the preempt delay starts again. With preemption it then takes over
// from a lower-priority master; with NoPreempt it follows whichever master
// it hears and never takes over from a working one. It does not wait.
func (i *Instance) Resume() { i.command(command{}) }

// SyncMaster makes a BACKUP take over at once, because another member of
// its sync group (keepalived's vrrp_sync_group) became MASTER. Other states
// ignore it. It does not wait.
func (i *Instance) SyncMaster(reason string) {
	i.command(command{sync: inSyncMaster, reason: reason})
}

// SyncBackup makes a MASTER step down to BACKUP, because another member of
// its sync group did: its VIPs go, with no priority-0 advert (as in
// keepalived), and it waits a Master_Down_Interval before it may take over
// again. Other states ignore it. It does not wait.
func (i *Instance) SyncBackup(reason string) {
	i.command(command{sync: inSyncBackup, reason: reason})
}

// Leave shuts the instance down now, as Run does when its context is done
// (a master removes its VIPs and then sends priority 0), and returns once
// it has, or Run has returned. The instance then stays in INIT, deaf to
// adverts and commands, until Run's context is done. A daemon stopping many
// instances has them all leave before any tears down: each one's teardown
// (its log lines, closing its share of the socket) would otherwise delay
// the priority-0 adverts of those not yet stopped, and so the peer's
// takeover of their VIPs. Call it only while Run runs or is about to.
func (i *Instance) Leave() {
	left := make(chan struct{})
	i.command(command{left: left})
	select {
	case <-left:
	case <-i.ended:
	}
}

func (i *Instance) command(c command) {
	i.cmdMu.Lock()
	i.cmds = append(i.cmds, c)
	i.cmdMu.Unlock()
	if m := i.sched.Load(); m != nil {
		m.poke(i)
		return
	}
	select {
	case i.cmdWake <- struct{}{}:
	default:
	}
}

func (i *Instance) takeCommands() []command {
	i.cmdMu.Lock()
	defer i.cmdMu.Unlock()
	cmds := i.cmds
	i.cmds = nil
	return cmds
}

// Run runs the instance until ctx is done, then shuts it down as RFC 5798
// says (a master sends a priority-0 advert) and removes the VIPs, and
// returns nil. It returns an error, after the same shutdown, if reading
// from the Conn fails. Run does not close the Conn. It may be called once.
func (i *Instance) Run(ctx context.Context) error {
	if !i.running.CompareAndSwap(false, true) {
		return errors.New("VRRP instance is already running or has run")
	}
	defer close(i.ended)
	if err := i.conn.SetReadDeadline(time.Time{}); err != nil {
		return fmt.Errorf("failed to clear read deadline of VRRP socket: %w", err)
	}
	if mc, ok := muxConnOf(i.conn); ok {
		return i.runOn(ctx, mc.m)
	}
	return i.runAlone(ctx)
}

// runAlone runs the instance on its own socket: Run's goroutine is the
// protocol loop, a second one reads the socket.
func (i *Instance) runAlone(ctx context.Context) error {
	if i.cfg.OnEvent != nil {
		// Here Run's goroutine is the protocol's: a callback that blocks
		// must not hold adverts up.
		stop, pumped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(pumped)
			for {
				select {
				case ev := <-i.events:
					i.cfg.OnEvent(ev)
				case <-stop:
					i.drainEvents()
					return
				}
			}
		}()
		defer func() { close(stop); <-pumped }()
	}
	rx := make(chan received, 16)
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go i.read(rx, stop, readErr)

	i.begin(time.Now())
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var err error
loop:
	for {
		i.arm(timer)
		select {
		case <-ctx.Done():
			break loop
		case r := <-rx:
			i.receive(time.Now(), r)
		case <-timer.C:
			now := time.Now()
			i.fire(now, now)
		case <-i.cmdWake:
			i.obey(time.Now())
		case err = <-readErr:
			err = fmt.Errorf("failed to read VRRP advertisement: %w", err)
			i.log.Error("VRRP socket failed, shutting down", "err", err)
			break loop
		}
		i.publish()
	}

	i.finish(time.Now())
	close(stop)
	// Unblock the reader: any past deadline will do.
	_ = i.conn.SetReadDeadline(time.Unix(1, 0))
	if err == nil {
		<-readErr
	}
	return err
}

// runOn runs the instance on its Mux's goroutine, which reads the shared
// socket and keeps every instance's timers in one heap: no goroutine of
// the instance wakes per advert or per timer. Run's goroutine only waits
// for ctx (handing transitions to OnEvent meanwhile), then has the Mux
// shut the instance down. Should the Mux stop
// first (its socket failed), the instance is handed back and shuts down
// here.
func (i *Instance) runOn(ctx context.Context, m *Mux) error {
	i.sched.Store(m)
	defer i.sched.Store(nil) // also on the return after a part
	defer i.drainEvents()    // the shutdown's transitions too
	failed, err := m.join(i)
	if err == nil {
		if err = i.await(ctx, failed); err == nil {
			if !m.part(i) { // the Mux stopped first: ours again
				i.sched.Store(nil)
				i.finish(time.Now())
			}
			return nil
		}
	}
	return i.muxFailed(err)
}

// await waits on a Mux until ctx is done (nil) or the Mux fails (its
// error), handing transitions to OnEvent meanwhile. Its frame and
// runOn's are what an instance on a Mux keeps on its stack: small, so
// that the stack shrinks to a few KiB.
func (i *Instance) await(ctx context.Context, failed <-chan error) error {
	var events <-chan Event // nil without OnEvent: Events keeps them
	if i.cfg.OnEvent != nil {
		events = i.events
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-failed:
			return err
		case ev := <-events:
			i.cfg.OnEvent(ev)
		}
	}
}

// muxFailed shuts the instance down here after its Mux's socket failed.
func (i *Instance) muxFailed(err error) error {
	i.sched.Store(nil)
	err = fmt.Errorf("failed to read VRRP advertisement: %w", err)
	i.log.Error("VRRP socket failed, shutting down", "err", err)
	i.finish(time.Now())
	return err
}

// drainEvents hands OnEvent the transitions still queued; without OnEvent
// they stay on Events.
func (i *Instance) drainEvents() {
	if i.cfg.OnEvent == nil {
		return
	}
	for {
		select {
		case ev := <-i.events:
			i.cfg.OnEvent(ev)
		default:
			return
		}
	}
}

// begin starts the state machine, after the commands given before Run: a
// Fault makes it start in FAULT rather than flap through MASTER, a Leave
// keeps it in INIT.
func (i *Instance) begin(now time.Time) {
	var faulted *command
	for _, c := range i.takeCommands() {
		switch {
		case c.left != nil: // nothing to give up yet
			i.gone = true
			close(c.left)
		case i.gone:
		case c.sync != 0: // a sync group's step, moot before startup
		case c.fault:
			faulted = &c
		default:
			faulted = nil
		}
	}
	if !i.gone {
		held := faulted == nil && i.cfg.AdoptVIPs && i.holdsVIPs()
		if faulted != nil {
			i.step(now, input{kind: inFault, reason: faulted.reason})
		}
		i.step(now, input{kind: inStartup, held: held})
	}
	i.publish()
}

// obey carries out the commands given since the last call.
func (i *Instance) obey(now time.Time) {
	for _, c := range i.takeCommands() {
		switch {
		case i.gone: // deaf until Run returns
			if c.left != nil {
				close(c.left)
			}
		case c.left != nil:
			i.step(now, input{kind: inShutdown})
			i.publish()
			i.gone = true
			close(c.left)
		case c.sync != 0:
			i.step(now, input{kind: c.sync, reason: c.reason})
		case c.fault:
			i.step(now, input{kind: inFault, reason: c.reason})
		default:
			i.step(now, input{kind: inResume})
		}
	}
}

// finish shuts the state machine down as Run ends.
func (i *Instance) finish(now time.Time) {
	i.step(now, input{kind: inShutdown})
	i.publish()
}

// holdsVIPs reports whether any virtual address is on the interface. A
// failed look-up counts as absent: the instance then starts as without
// AdoptVIPs.
func (i *Instance) holdsVIPs() bool {
	for _, p := range i.held {
		has, err := i.addr.HasAddress(p)
		if err != nil {
			i.log.Warn("failed to look for leftover virtual address", "vip", p, "err", err)
			continue
		}
		if has {
			i.log.Info("virtual address left over by a previous run: keeping it while listening for a master",
				"vip", p, "window", AdoptWindow(i.cfg.Interval))
			return true
		}
	}
	return false
}

// read is Run's reader goroutine: it reads, checks and decodes adverts into
// reused buffers and hands the loop a copy of what matters. It allocates
// nothing per packet.
func (i *Instance) read(rx chan<- received, stop <-chan struct{}, done chan<- error) {
	buf := make([]byte, maxPacketLen)
	adv := Advertisement{Addresses: make([]netip.Addr, 0, MaxAddresses)}
	for {
		n, info, err := i.conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-stop:
				done <- nil
			default:
				done <- err
			}
			return
		}
		r := i.accept(buf[:n], info, &adv)
		select {
		case rx <- r:
		case <-stop:
			done <- nil
			return
		}
	}
}

// accept checks and decodes one packet into adv and returns what the loop
// needs of it. It allocates only for an address mismatch.
func (i *Instance) accept(b []byte, info PacketInfo, adv *Advertisement) received {
	r := received{src: info.Src.Unmap()}
	if err := i.filter.Accept(b, info, adv); err != nil {
		r.drop = DropShort // Accept returns only DropErrors
		if de, ok := err.(*DropError); ok {
			r.drop = de.Reason
		}
		return r
	}
	r.priority, r.interval = adv.Priority, adv.Interval
	if set := setOf(adv.Addresses); !slices.Equal(set, i.own) {
		r.addrs = slices.Clone(set)
	}
	return r
}

// receive handles one packet from the reader.
func (i *Instance) receive(now time.Time, r received) {
	if r.drop != DropNone {
		i.st.Drops[r.drop]++
		if r.drop == DropPeer {
			i.met(now, r.src)
		}
		if i.limited(now, int(r.drop)) {
			i.log.Warn("dropped VRRP packet", "reason", r.drop, "src", r.src)
		}
		return
	}
	if len(i.cfg.Peers) == 0 && !i.judge(now, r) {
		return
	}
	if r.addrs != nil {
		i.mismatched(now, r)
	}
	i.st.AdvertRcvd++
	if r.priority == 0 {
		i.st.PriZeroRcvd++
	}
	i.lastAdv = now
	i.step(now, input{kind: inAdvert, src: r.src, priority: r.priority, interval: r.interval})
}

// judge asks the multicast stranger rule about an accepted advert and says
// whether the state machine may have it; a stranger's is counted and logged.
func (i *Instance) judge(now time.Time, r received) bool {
	st := i.m.state
	if st == StateBackup && i.m.adopting {
		// It holds the VIP a crashed run left, as the master it was: a
		// stranger heard first must not take it (it knows no peer yet).
		st = StateMaster
	}
	v := i.strangers.judge(now, r.src, r.priority, st, r.priority > i.cfg.Priority, i.m.masterDown())
	if v == obey {
		return true
	}
	i.met(now, r.src)
	if i.limited(now, limitStranger) {
		i.log.Warn("VRRP advert from a host that is not a peer", "src", r.src, "priority", r.priority,
			"state", i.m.state, "obeyed", v != strangeHeld, "hold", i.cfg.StrangerHold)
	}
	return v != strangeHeld
}

// met records a packet from a stranger.
func (i *Instance) met(now time.Time, src netip.Addr) {
	i.st.Strangers++
	i.stranger, i.strangeAt = src, now
}

// fire handles every deadline that has passed by until (now, or a Mux's
// slack later), earliest first, at now: a timer fired early sets its next
// deadline from when it really fired.
func (i *Instance) fire(now, until time.Time) {
	var fired uint16          // timers fired early in this call: not again
	for range 2 * numTimers { // each handler sets its timer in the future
		t, ok := i.earliest()
		if !ok {
			return
		}
		if d := i.deadlines[t]; d.After(now) {
			if d.After(until) || fired&(1<<t) != 0 {
				return
			}
			fired |= 1 << t
		}
		if late := now.Sub(i.deadlines[t]); i.stalled(t, late) {
			// Adverts that came while we were stopped wait in the
			// socket: read them before acting on a timer that they may
			// have reset, or a resumed backup takes over from a live
			// master (and a resumed master advertises over a newer one)
			// and announces itself to the clients.
			i.st.Stalls++
			i.log.Info("VRRP timer fired late: the process was stalled; reading queued adverts first",
				"timer", t, "late", late.Round(time.Millisecond), "grace", StallGrace)
			i.deadlines[t] = now.Add(StallGrace)
			continue
		}
		i.deadlines[t] = time.Time{}
		switch t {
		case timerReconcile:
			i.reconcile(now)
		case timerLogFlush:
			i.flushLogs(now)
		case timerMasterDown:
			in := input{kind: inTimer, timer: t}
			if i.cfg.SyncGate != nil && i.m.state == StateBackup {
				in.held = !i.cfg.SyncGate()
			}
			i.step(now, in)
			if in.held {
				i.publish() // at once: the next member to ask reads it
				// Members whose timers expire together each ask while
				// the other's wish is not yet visible, and both would
				// wait another Master_Down_Interval, again together.
				// Asked again now that ours is published, the later of
				// them sees the other's and takes the group over.
				if i.m.state == StateBackup && i.cfg.SyncGate() {
					i.step(now, input{kind: inTimer, timer: t})
				}
			}
		default:
			i.step(now, input{kind: inTimer, timer: t})
		}
	}
}

// StallGrace is how long a protocol timer that fired late from a stall
// waits for the adverts queued meanwhile: the socket's backlog reaches the
// instance in well under a millisecond once the process runs again.
const StallGrace = 10 * time.Millisecond

// stalled says whether timer t firing late by late means the process was
// stopped: a quarter of the advert interval is beyond any scheduling delay
// of a running process here, yet well within the interval, so a stall ends
// before a backup that was stopped with the master alive can take over.
// Only the timers that claim mastership matter: Master_Down_Timer in
// BACKUP, Adver_Timer in MASTER.
func (i *Instance) stalled(t timerID, late time.Duration) bool {
	if late <= i.cfg.Interval/4 {
		return false
	}
	return t == timerMasterDown && i.m.state == StateBackup || t == timerAdvert && i.m.state == StateMaster
}

func (i *Instance) earliest() (timerID, bool) {
	var best timerID
	found := false
	for t := range timerID(numTimers) {
		d := i.deadlines[t]
		if !d.IsZero() && (!found || d.Before(i.deadlines[best])) {
			best, found = t, true
		}
	}
	return best, found
}

func (i *Instance) arm(timer *time.Timer) {
	t, ok := i.earliest()
	if !ok {
		timer.Stop()
		return
	}
	timer.Reset(max(time.Until(i.deadlines[t]), 0))
}

// step feeds the state machine and carries out its actions.
func (i *Instance) step(now time.Time, in input) {
	for _, a := range i.m.step(now, in) {
		switch a.kind {
		case actSend:
			i.send(now, a.priority)
		case actAddVIPs:
			i.setVIPs(now, true)
		case actRemoveVIPs:
			i.setVIPs(now, false)
		case actAnnounce:
			i.announce(now)
		case actSetTimer:
			i.deadlines[a.timer] = a.at
		case actStopTimer:
			i.deadlines[a.timer] = time.Time{}
		case actTransition:
			i.transition(now, a)
		}
	}
}

func (i *Instance) send(now time.Time, prio uint8) {
	i.adv.Priority = prio
	// A lost priority-0 advert costs the backups Master_Down_Interval
	// instead of Skew_Time; a second copy costs nothing, and a backup
	// that heard the first ignores it.
	copies := 1
	if prio == 0 {
		copies = 2
	}
	sent := false
	for _, dst := range i.dsts {
		b, err := i.adv.Append(i.sendBuf[:0], i.cfg.Primary, dst)
		if err == nil {
			i.sendBuf = b
			for range copies {
				if err = i.conn.WriteTo(b, dst); err != nil {
					break
				}
			}
		}
		if err != nil {
			i.st.SendErrors++
			if i.limited(now, limitSend) {
				i.log.Warn("failed to send VRRP advertisement", "dst", dst, "priority", prio, "err", err)
			}
			continue
		}
		sent = true
	}
	if sent {
		i.st.AdvertSent++
		if prio == 0 {
			i.st.PriZeroSent++
		}
	}
}

// setVIPs adds or removes every VIP. A failure is retried until it
// succeeds or the state changes, so that a VIP does not outlive mastership.
func (i *Instance) setVIPs(now time.Time, add bool) {
	failed := false
	for _, p := range i.held {
		var err error
		if add {
			err = i.addr.AddAddress(p)
		} else {
			err = i.addr.RemoveAddress(p)
		}
		if err != nil {
			failed = true
			i.st.AddressErrors++
			op := "remove"
			if add {
				op = "add"
			}
			i.log.Error("failed to "+op+" virtual address", "vip", p, "err", err)
		}
	}
	i.deadlines[timerReconcile] = time.Time{}
	if failed {
		i.deadlines[timerReconcile] = now.Add(max(i.cfg.Interval, time.Second))
	}
}

func (i *Instance) reconcile(now time.Time) {
	i.setVIPs(now, i.m.state == StateMaster)
}

func (i *Instance) announce(now time.Time) {
	for _, p := range i.held {
		if err := i.ann.Announce(p.Addr()); err != nil {
			i.st.AnnounceErrors++
			if i.limited(now, limitAnnounce) {
				i.log.Warn("failed to announce virtual address", "vip", p.Addr(), "err", err)
			}
			continue
		}
		i.st.GARPSent++
	}
}

func (i *Instance) transition(now time.Time, a action) {
	switch {
	case a.to == StateMaster:
		i.st.BecomeMaster++
	case a.from == StateMaster:
		i.st.ReleaseMaster++
	}
	level := slog.LevelInfo
	if a.to == StateFault {
		level = slog.LevelWarn
	}
	i.log.Log(context.Background(), level, "VRRP state change",
		"from", a.from, "to", a.to, "reason", a.reason, "master", a.master)
	// Whoever reads the event may ask for Status at once: it must show the
	// new state already, not the one before this step.
	i.publish()
	select {
	case i.events <- Event{Time: now, From: a.from, To: a.to, Reason: a.reason, Master: a.master, Adopting: a.adopting}:
	default:
		i.st.EventsDropped++
	}
}

// limited says whether to log a line of key now: the first at once, then at
// most one summary per logEvery with the number held back (flushLogs), so
// that a flood of bad packets does not flood the log. Callers build the log
// arguments only when it says yes: the drop path must not allocate.
func (i *Instance) limited(now time.Time, key int) bool {
	l := &i.limits[key]
	if l.suppressed == 0 && (l.last.IsZero() || now.Sub(l.last) >= logEvery) {
		l.last = now
		return true
	}
	l.suppressed++
	if at := l.last.Add(logEvery); i.deadlines[timerLogFlush].IsZero() || at.Before(i.deadlines[timerLogFlush]) {
		i.deadlines[timerLogFlush] = at
	}
	return false
}

func (i *Instance) flushLogs(now time.Time) {
	var next time.Time
	for key := range i.limits {
		l := &i.limits[key]
		if l.suppressed == 0 {
			continue
		}
		if at := l.last.Add(logEvery); at.After(now) {
			if next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		switch {
		case key < int(numDropReasons):
			r := DropReason(key)
			i.log.Warn("dropped VRRP packets", "reason", r, "count", l.suppressed, "total", i.st.Drops[r], "period", logEvery)
		case key == limitSend:
			i.log.Warn("failed to send VRRP advertisements", "count", l.suppressed, "total", i.st.SendErrors, "period", logEvery)
		case key == limitAnnounce:
			i.log.Warn("failed to announce virtual addresses", "count", l.suppressed, "total", i.st.AnnounceErrors, "period", logEvery)
		case key == limitStranger:
			i.log.Warn("VRRP adverts from a host that is not a peer", "src", i.stranger, "count", l.suppressed, "total", i.st.Strangers, "period", logEvery)
		case key == limitMismatch:
			i.log.Warn("VRRP adverts with other virtual addresses than ours", "src", i.mismatchPeer, "addresses", i.mismatchAddrs,
				"ours", i.own, "count", l.suppressed, "total", i.st.AddressMismatch, "period", logEvery)
		}
		l.last, l.suppressed = now, 0
	}
	i.deadlines[timerLogFlush] = next
}

// publish makes the loop's state visible to Status.
func (i *Instance) publish() {
	s := Status{
		State:               i.m.state,
		Priority:            i.cfg.Priority,
		MasterAdverInterval: i.m.masterAdverInterval,
		LastAdvert:          i.lastAdv,
		Stats:               i.st,
	}
	if s.State == StateBackup || s.State == StateMaster {
		s.EffectivePriority = i.cfg.Priority
		s.Master, s.MasterPriority = i.m.master, i.m.masterPrio
	}
	s.WantMaster = i.m.wantMaster
	s.Adopting = i.m.adopting
	s.Stranger, s.StrangerAt = i.stranger, i.strangeAt
	s.MismatchPeer, s.MismatchAddresses, s.MismatchAt = i.mismatchPeer, i.mismatchAddrs, i.mismatchAt
	if kd, ok := i.conn.(KernelDropper); ok {
		s.Stats.KernelDrops = kd.KernelDrops()
	}
	i.mu.Lock()
	i.status = s
	i.mu.Unlock()
}
