package config

import (
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/guard"
)

// Defaults that keepalived 2.2.7 applies when a keyword is missing. Those of
// vrrp_script and vipd_nginx_check blocks are the guard's (package guard:
// ScriptConfig and NginxConfig.WithDefaults), which runs them.
const (
	DefaultPriority        = 100 // without priority; 255 when state is MASTER
	DefaultVRRPVersion     = 2
	DefaultAdvertInt       = time.Second
	DefaultGARPMasterDelay = 5 * time.Second
	DefaultGARPRepeat      = 5
)

// OwnerPriority is the priority of the address owner. keepalived gives it to
// an instance with state MASTER and no priority.
const OwnerPriority = 255

// Config is a parsed keepalived.conf with every default filled in.
type Config struct {
	Global      Global
	Scripts     []Script     // vrrp_script blocks, in file order
	NginxChecks []NginxCheck // vipd_nginx_check blocks, in file order
	Instances   []Instance   // vrrp_instance blocks, in file order
	SyncGroups  []SyncGroup  // vrrp_sync_group blocks, in file order
	Warnings    []Diagnostic // what was accepted but deserves a look
	Files       []string     // every file read, the main one first
	// Sources are the files read, as in Files, each with the digest of
	// the bytes parsed: what says whether a file on disk is still the one
	// a daemon loaded.
	Sources []Source
}

// Source is one file read: its name (as in Files), size and SHA-256.
type Source struct {
	Name   string
	Size   int
	SHA256 [32]byte
}

// Global is the global_defs block.
type Global struct {
	RouterID             string
	VRRPVersion          int // 2 or 3
	ScriptUser           string
	ScriptGroup          string
	EnableScriptSecurity bool
	Strict               bool          // vrrp_strict: its effects on instances are checked, not emulated
	StartupDelay         time.Duration // vrrp_startup_delay
	GARPMasterDelay      time.Duration // vrrp_garp_master_delay, default 5 s
	GARPMasterRepeat     int           // vrrp_garp_master_repeat, default 5

	given map[string]Pos
}

// Script is a vrrp_script block: an external command run every Interval.
type Script struct {
	Name     string
	Pos      Pos
	Command  []string      // program and arguments, split as keepalived does
	Interval time.Duration // whole seconds, default guard.DefaultScriptInterval (1 s)
	Timeout  time.Duration // default: Interval, as in keepalived
	Weight   int           // -253..253; 0 means failure puts the instance in FAULT
	Reverse  bool          // "weight N reverse"
	Rise     int
	Fall     int
	User     string
	Group    string
	InitFail bool

	given map[string]Pos
}

// NginxCheck is vipd's built-in nginx guard (block vipd_nginx_check), with
// the guard's defaults (guard.NginxConfig) filled in. See the package
// documentation for its meaning.
type NginxCheck struct {
	Name         string
	Pos          Pos
	URL          string        // http or https URL probed with GET; may be empty if PIDFile is set
	PIDFile      string        // nginx master pid file; may be empty if URL is set
	Interval     time.Duration // default guard.DefaultInterval (0.2 s); fractions allowed
	Timeout      time.Duration // per probe, default guard.DefaultTimeout(Interval) (0.15 s)
	Rise         int
	Fall         int
	Weight       int      // as for vrrp_script
	StartCommand []string // default guard.DefaultStart, systemctl start nginx
	// RestartDeadline is as in guard.NginxConfig: default 1 s, and
	// guard.NoRestart (negative) for no restart attempt, which the file
	// writes as restart_deadline 0.
	RestartDeadline time.Duration

	given map[string]Pos
}

// Guard is the guard configuration k stands for, without OS effects or
// callbacks; the daemon runs exactly this.
func (k NginxCheck) Guard() guard.NginxConfig {
	return guard.NginxConfig{
		Name: k.Name, URL: k.URL, PIDFile: k.PIDFile,
		Interval: k.Interval, Timeout: k.Timeout, Rise: k.Rise, Fall: k.Fall, Weight: k.Weight,
		Start: k.StartCommand, RestartDeadline: k.RestartDeadline,
	}
}

// WithDefaults returns k with every zero setting given the default the
// parser gives a block without its keyword (the guard's, see Guard): what
// a program that writes a configuration (MarshalText) rather than parses
// one builds on. A zero RestartDeadline is the default deadline; no
// restart attempt is guard.NoRestart.
func (k NginxCheck) WithDefaults() NginxCheck {
	g := k.Guard().WithDefaults()
	k.Name, k.Interval, k.Timeout, k.Rise, k.Fall = g.Name, g.Interval, g.Timeout, g.Rise, g.Fall
	k.StartCommand, k.RestartDeadline = g.Start, g.RestartDeadline
	return k
}

// Guard is the guard configuration s stands for, without OS effects or
// callbacks. User is the block's own; the daemon falls back to global_defs'
// script_user.
func (s Script) Guard() guard.ScriptConfig {
	return guard.ScriptConfig{
		Name: s.Name, Command: s.Command, User: s.User,
		Interval: s.Interval, Timeout: s.Timeout, Rise: s.Rise, Fall: s.Fall, Weight: s.Weight,
	}
}

// State is the initial state of an instance.
type State string

// States accepted by the state keyword.
const (
	Backup State = "BACKUP"
	Master State = "MASTER"
)

// Instance is a vrrp_instance block.
type Instance struct {
	Name         string
	Pos          Pos // where vrrp_instance was written
	State        State
	Interface    string
	VRID         int // virtual_router_id, 1..255
	Priority     int // 1..255; DefaultPriority when missing
	Version      int // VRRP version for this instance, 2 or 3
	AdvertInt    time.Duration
	Nopreempt    bool
	PreemptDelay time.Duration
	Auth         *Auth // nil without an authentication block
	VIPs         []VIP
	// ExcludedVIPs (virtual_ipaddress_excluded) are held with the VIPs but
	// not advertised: any family, any number.
	ExcludedVIPs    []VIP
	Tracks          []Track // track_script entries, in file order
	TrackInterfaces []TrackInterface
	UnicastSrc      netip.Addr // invalid when unset
	UnicastPeers    []netip.Addr
	Notify          Notify
	GARPMasterDelay time.Duration // default: global vrrp_garp_master_delay
	GARPRepeat      int           // default: global vrrp_garp_master_repeat

	given map[string]Pos
}

// Auth is the authentication block. Only VRRPv2 carries it.
type Auth struct {
	Type string // PASS or AH
	Pass string // at most 8 bytes, truncated as keepalived does
}

// HeldVIPs returns every address the instance holds as MASTER: its VIPs,
// then its excluded ones.
func (in *Instance) HeldVIPs() []VIP {
	return append(slices.Clip(in.VIPs), in.ExcludedVIPs...)
}

// VIPBlock names the block v was written in.
func (in *Instance) VIPBlock(v VIP) string {
	for _, e := range in.ExcludedVIPs {
		if e.Pos == v.Pos && e.Prefix == v.Prefix {
			return "virtual_ipaddress_excluded"
		}
	}
	return "virtual_ipaddress"
}

// VIP is one virtual_ipaddress (or virtual_ipaddress_excluded) entry.
type VIP struct {
	Prefix netip.Prefix // address with prefix length; /32 (or /128) when none was given
	Dev    string       // empty means the instance's interface
	Label  string
	Brd    string // broadcast: an address, "+" or "-"; empty when unset
	Scope  string
	Pos    Pos
}

// Track is one track_script entry. It names a vrrp_script or a
// vipd_nginx_check.
type Track struct {
	Name   string
	Nginx  bool // the name is a vipd_nginx_check
	Weight int  // effective weight: the entry's, else the script's
	Pos    Pos
}

// TrackInterface is one track_interface entry.
type TrackInterface struct {
	Name   string
	Weight int
	Pos    Pos
}

// Notify holds the notify scripts, each split into program and arguments.
type Notify struct {
	Master []string
	Backup []string
	Fault  []string
	Stop   []string
	Any    []string // notify: called on every transition
	// RunAs holds, by keyword (notify_master, ..., notify), the user a
	// script runs as when its line names one after the command, as in
	// keepalived: notify_master "CMD" USER [GROUP]. Without, the script
	// runs as global_defs' script_user.
	RunAs map[string]NotifyScript
	// At is where each script was written, by keyword.
	At map[string]Pos
}

// NotifyScript is one notify line: the command, and the user and group
// written after it.
type NotifyScript struct {
	Command     []string
	User, Group string
	Pos         Pos
}

// Hooks returns the notify scripts in keyword order, without the unset ones.
func (n Notify) Hooks() []NotifyHook {
	var hs []NotifyHook
	for _, h := range []NotifyHook{
		{Keyword: "notify_master", Command: n.Master}, {Keyword: "notify_backup", Command: n.Backup},
		{Keyword: "notify_fault", Command: n.Fault}, {Keyword: "notify_stop", Command: n.Stop},
		{Keyword: "notify", Command: n.Any},
	} {
		if len(h.Command) == 0 {
			continue
		}
		h.User = n.RunAs[h.Keyword].User
		h.Group = n.RunAs[h.Keyword].Group
		h.Pos = n.At[h.Keyword]
		hs = append(hs, h)
	}
	return hs
}

// NotifyHook is one set notify script with its keyword.
type NotifyHook struct {
	Keyword     string
	Command     []string
	User, Group string // empty: script_user
	Pos         Pos
}

// set records the script of keyword kw.
func (n *Notify) set(kw string, s NotifyScript) {
	switch kw {
	case "notify_master":
		n.Master = s.Command
	case "notify_backup":
		n.Backup = s.Command
	case "notify_fault":
		n.Fault = s.Command
	case "notify_stop":
		n.Stop = s.Command
	case "notify":
		n.Any = s.Command
	}
	if n.At == nil {
		n.At = map[string]Pos{}
	}
	n.At[kw] = s.Pos
	if s.User != "" {
		if n.RunAs == nil {
			n.RunAs = map[string]NotifyScript{}
		}
		n.RunAs[kw] = s
	} else {
		delete(n.RunAs, kw)
	}
}

// User is the user the script of keyword kw runs as: the one its line
// names, else dflt (script_user).
func (n Notify) User(kw, dflt string) string {
	if s, ok := n.RunAs[kw]; ok && s.User != "" {
		return s.User
	}
	return dflt
}

// SyncGroup is a vrrp_sync_group block: instances that are MASTER, BACKUP
// and FAULT together, as in keepalived. One member's fault takes every
// member to FAULT; one becoming MASTER takes the others to MASTER; one
// going BACKUP takes the others to BACKUP.
type SyncGroup struct {
	Name    string
	Pos     Pos
	Members []string // vrrp_instance names, in the order of the group block
	Notify  Notify   // run with "GROUP" NAME STATE 0 for notify
	// Tracks and TrackInterfaces are the group's own entries; the parser
	// also gives them to every member instance, as keepalived does, and
	// MarshalText writes them there.
	Tracks          []Track
	TrackInterfaces []TrackInterface

	noGroup bool // the block has no group { } (an error)
}

// Pos is a place in a configuration file.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Diagnostic is an error or warning tied to a place in the configuration.
type Diagnostic struct {
	File string
	Line int
	Msg  string
	more int // > 0: this line stands for that many diagnostics not shown
}

// String formats d as "file:line: msg", the form compilers and nginx -t use.
func (d Diagnostic) String() string {
	return Pos{d.File, d.Line}.String() + ": " + d.Msg
}

// Error makes a single Diagnostic usable as an error.
func (d Diagnostic) Error() string { return d.String() }

// ErrorList is every error found in a configuration, in the order found.
type ErrorList []Diagnostic

// Error lists all errors, one per line.
func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, d := range l {
		s[i] = d.String()
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes each Diagnostic to errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, d := range l {
		errs[i] = d
	}
	return errs
}

// Load reads the configuration at path and every file it includes. Include
// patterns are relative to the including file's directory.
//
// When the configuration has errors, Load returns them all as an ErrorList
// together with the partly filled Config, so that a checker can print the
// warnings too. Only a nil error means the Config is complete.
func Load(path string) (*Config, error) {
	return parse(osFS{}, path, nil)
}

// ParseFS is Load on a file system other than the OS's, such as an
// fstest.MapFS. An absolute include pattern is taken from the root of fsys.
func ParseFS(fsys fs.FS, name string) (*Config, error) {
	return parse(ioFS{fsys}, name, nil)
}

// LoadFS is Load on another host's file system (a node's, read over SSH):
// fsys holds that host's root, and path and include patterns are absolute
// or relative as on the host. Unlike ParseFS, names keep their leading
// slash, so that diagnostics and positions name the files as the host
// does ("/etc/keepalived/keepalived.conf:14").
func LoadFS(fsys fs.FS, path string) (*Config, error) {
	return parse(rootFS{fsys}, path, nil)
}

// Parse reads one configuration from r; name is used in diagnostics. An
// include directive is an error, as there is no directory to resolve it in.
func Parse(name string, r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", name, err)
	}
	return parse(nil, name, data)
}

// Script returns the vrrp_script called name, or nil.
func (c *Config) Script(name string) *Script {
	for i := range c.Scripts {
		if c.Scripts[i].Name == name {
			return &c.Scripts[i]
		}
	}
	return nil
}

// NginxCheck returns the vipd_nginx_check called name, or nil.
func (c *Config) NginxCheck(name string) *NginxCheck {
	for i := range c.NginxChecks {
		if c.NginxChecks[i].Name == name {
			return &c.NginxChecks[i]
		}
	}
	return nil
}

// SyncGroupOf returns the vrrp_sync_group that instance belongs to, or nil.
func (c *Config) SyncGroupOf(instance string) *SyncGroup {
	for i := range c.SyncGroups {
		for _, m := range c.SyncGroups[i].Members {
			if m == instance {
				return &c.SyncGroups[i]
			}
		}
	}
	return nil
}

// At returns where keyword kw of the instance was written, or the
// vrrp_instance line when it was not.
func (in *Instance) At(kw string) Pos {
	if p, ok := in.Where(kw); ok {
		return p
	}
	return in.Pos
}

// Instance returns the vrrp_instance called name, or nil.
func (c *Config) Instance(name string) *Instance {
	for i := range c.Instances {
		if c.Instances[i].Name == name {
			return &c.Instances[i]
		}
	}
	return nil
}

// Where returns where keyword kw was given in the instance block ("priority",
// "advert_int", "authentication", ...), and false when it was not: the
// value is then a default. With a keyword given twice it is the first.
func (in *Instance) Where(kw string) (Pos, bool) {
	p, ok := in.given[kw]
	return p, ok
}

// Where returns where keyword kw was given in global_defs ("vrrp_version",
// ...), and false when it was not.
func (g *Global) Where(kw string) (Pos, bool) {
	p, ok := g.given[kw]
	return p, ok
}
