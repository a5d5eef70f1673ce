package control

import (
	"encoding/json"
	"net/netip"
	"time"
)

// State is a VRRP instance's state. Consumers must treat a state they do not
// know as unknown, not as an error: new states keep the contract version.
type State string

// States, spelled as keepalived logs them.
const (
	StateInit   State = "INIT"
	StateBackup State = "BACKUP"
	StateMaster State = "MASTER"
	StateFault  State = "FAULT"
)

// Verdict is a guard's judgement of what it watches.
type Verdict string

// Verdicts. A guard is unknown until its first check.
const (
	VerdictUnknown Verdict = "unknown"
	VerdictHealthy Verdict = "healthy"
	VerdictFailed  Verdict = "failed"
)

// Phase says what produced a Check.
type Phase string

// Phases.
const (
	PhaseCheck   Phase = "check"   // a scheduled check
	PhaseStart   Phase = "start"   // the start command of a restart attempt
	PhaseRestart Phase = "restart" // a re-check during a restart attempt
)

// Status is the document `vipd status --json` prints and the answer to
// {"cmd":"status"}: the node, its VRRP instances and its guards. doc.go
// lists every field.
type Status struct {
	Contract    int        `json:"contract"`     // set to ContractVersion when encoded
	RouterID    string     `json:"router_id"`    // global_defs router_id: the node's name
	Hostname    string     `json:"hostname"`     //
	VipdVersion string     `json:"vipd_version"` // vipd's build version
	Time        time.Time  `json:"time"`         // when the snapshot was taken
	PID         int        `json:"pid"`          // vipd's
	Uptime      Millis     `json:"uptime_ms"`    // since vipd started
	Instances   []Instance `json:"vrrp"`         // in configuration order
	Nginx       *Guard     `json:"nginx,omitempty"`
	Scripts     []Guard    `json:"scripts,omitempty"` // vrrp_script checks
	// Config is the configuration vipd runs: absent from a vipd older
	// than this field.
	Config *LoadedConfig `json:"config,omitempty"`
}

// LoadedConfig says which configuration vipd runs: the file it was started
// with, when it was last loaded (start or reload), and a digest of every
// file read then, so that a console can tell whether the files on disk are
// still those vipd runs.
type LoadedConfig struct {
	Path     string       `json:"path"`      // vipd -f, as given
	LoadedAt time.Time    `json:"loaded_at"` // the last successful load
	Files    []ConfigFile `json:"files"`     // every file read, the main one first
}

// ConfigFile is one file of a LoadedConfig.
type ConfigFile struct {
	Path   string `json:"path"`   // as the main file's includes name it
	Size   int    `json:"size"`   // bytes read
	SHA256 string `json:"sha256"` // hex digest of the bytes read
}

// MarshalJSON stamps the contract version: a document always says which
// contract it follows.
func (s Status) MarshalJSON() ([]byte, error) {
	type status Status // without methods
	s.Contract = ContractVersion
	if s.Instances == nil {
		s.Instances = []Instance{} // "vrrp": [] rather than null
	}
	return json.Marshal(status(s))
}

// Instance is one VRRP instance (vrrp_instance). Where keepalived's JSON
// dump has a field, the name is keepalived's.
type Instance struct {
	Name              string     `json:"iname"`              // VI_1
	Interface         string     `json:"ifp_ifname"`         // eth0
	VRID              uint8      `json:"vrid"`               //
	Version           int        `json:"version"`            // VRRP 2 or 3
	AdverInt          Seconds    `json:"adver_int"`          // configured advert_int
	MasterAdverInt    Seconds    `json:"master_adver_int"`   // the master's (v3 backups adopt it)
	State             State      `json:"state"`              //
	BasePriority      uint8      `json:"base_priority"`      // configured
	EffectivePriority uint8      `json:"effective_priority"` // advertised now
	NoPreempt         bool       `json:"nopreempt"`          //
	Master            netip.Addr `json:"master,omitzero"`    // the master's address, ours when MASTER; absent if unknown
	MasterPriority    uint8      `json:"master_priority"`    //
	VIPs              []string   `json:"vips,omitempty"`     // virtual_ipaddress, as configured
	// VIPPresent is whether every VIP is on the interface now (read back
	// from the kernel, not what vipd believes it did).
	VIPPresent     bool      `json:"vip_present"`
	LastAdvert     time.Time `json:"last_advert,omitzero"`        // when the last accepted advert arrived
	LastAdvertAge  Millis    `json:"last_advert_age_ms,omitzero"` // Status.Time - LastAdvert; absent with it
	FaultReason    string    `json:"fault_reason,omitempty"`      // why FAULT; only in FAULT
	LastTransition time.Time `json:"last_transition,omitzero"`    //
	Transitions    uint64    `json:"transitions"`                 // state changes since vipd started
	// Stranger is the last host that sent adverts for this VRID without
	// being a peer (Stats.Strangers), and StrangerAt when; absent if none.
	Stranger   netip.Addr `json:"stranger,omitzero"`
	StrangerAt time.Time  `json:"stranger_at,omitzero"`
	// MismatchPeer is the last peer whose advert listed other virtual
	// addresses than this instance's (Stats.AddressMismatch),
	// MismatchAddresses that list, sorted, and MismatchAt when; absent if
	// none.
	MismatchPeer      netip.Addr   `json:"mismatch_peer,omitzero"`
	MismatchAddresses []netip.Addr `json:"mismatch_addresses,omitempty"`
	MismatchAt        time.Time    `json:"mismatch_at,omitzero"`
	Stats             Stats        `json:"stats"`
}

// Stats are an instance's counters since vipd started. Names are
// keepalived's where it has the counter.
type Stats struct {
	AdvertRcvd     uint64 `json:"advert_rcvd"`
	AdvertSent     uint64 `json:"advert_sent"`
	BecomeMaster   uint64 `json:"become_master"`
	ReleaseMaster  uint64 `json:"release_master"`
	PriZeroRcvd    uint64 `json:"pri_zero_rcvd"`
	PriZeroSent    uint64 `json:"pri_zero_sent"`
	AuthFailure    uint64 `json:"auth_failure"` // also drops["auth_failure"]
	IPTTLErr       uint64 `json:"ip_ttl_err"`   // also drops["ip_ttl_err"]
	GARPSent       uint64 `json:"garp_sent"`
	SendErrors     uint64 `json:"send_errors"`     // adverts that could not be sent
	AddressErrors  uint64 `json:"address_errors"`  // failed VIP adds and removes
	AnnounceErrors uint64 `json:"announce_errors"` // failed gratuitous ARPs
	// Strangers counts packets from hosts that are not peers: with unicast
	// peers, drops["unknown_peer"]; in multicast mode, adverts from a
	// source never heard as a peer (vrrp.Stats.Strangers).
	Strangers uint64 `json:"strangers"`
	// AddressMismatch counts accepted adverts whose virtual addresses
	// differ, as a set, from this instance's (vrrp.Stats.AddressMismatch).
	AddressMismatch uint64 `json:"address_mismatch"`
	// KernelDrops counts packets the kernel dropped from the instance's
	// socket (shared by the instances of its interface and family) because
	// its receive buffer was full: a flood vipd could not read.
	KernelDrops uint64 `json:"kernel_drops"`
	// Drops counts received packets not obeyed, by reason (vrrp.DropReason
	// names: packet_len_err, auth_failure, unknown_vrid, ...). Reasons with
	// no drops may be absent.
	Drops map[string]uint64 `json:"drops,omitempty"`
}

// Guard is the health of something vipd checks: nginx, or a vrrp_script.
type Guard struct {
	Name          string    `json:"name"`                     // "nginx" or the vrrp_script's name
	Healthy       bool      `json:"healthy"`                  // Verdict == healthy
	Verdict       Verdict   `json:"verdict"`                  //
	Since         time.Time `json:"since,omitzero"`           // when Verdict was reached
	Reason        string    `json:"reason,omitempty"`         // why failed
	URL           string    `json:"url,omitempty"`            // nginx: the URL checked
	Command       string    `json:"command,omitempty"`        // vrrp_script: the script run
	Latency       Millis    `json:"latency_ms"`               // of the last check
	LastCheck     time.Time `json:"last_check,omitzero"`      //
	LastError     string    `json:"last_error,omitempty"`     // of the last failed check, kept after recovery
	LastErrorTime time.Time `json:"last_error_time,omitzero"` //
	Checks        uint64    `json:"checks"`                   // scheduled checks run
	Restarts      uint64    `json:"restarts"`                 // nginx restart attempts
	History       []Check   `json:"history,omitempty"`        // recent results, oldest first
}

// Check is the result of one check, or of a start command.
type Check struct {
	Time    time.Time `json:"time"`            // when it started
	OK      bool      `json:"ok"`              //
	Latency Millis    `json:"latency_ms"`      // how long it took
	Error   string    `json:"error,omitempty"` // why it failed
	Phase   Phase     `json:"phase"`           //
}
