package config

import (
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"strings"
	"time"
)

// Defaults that keepalived 2.2.7 applies when a keyword is missing, and the
// ones vipd picks for its own nginx guard.
const (
	DefaultPriority        = 100 // without priority; 255 when state is MASTER
	DefaultVRRPVersion     = 2
	DefaultAdvertInt       = time.Second
	DefaultScriptInterval  = time.Second
	DefaultGARPMasterDelay = 5 * time.Second
	DefaultGARPRepeat      = 5

	DefaultNginxInterval        = 200 * time.Millisecond // the guard's own default: a dead nginx is seen within 0.2 s
	DefaultNginxRestartDeadline = time.Second
	DefaultNginxStartCommand    = "systemctl start nginx"
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
	Warnings    []Diagnostic // what was accepted but deserves a look
	Files       []string     // every file read, the main one first
}

// Global is the global_defs block.
type Global struct {
	RouterID             string
	VRRPVersion          int // 2 or 3
	ScriptUser           string
	ScriptGroup          string
	EnableScriptSecurity bool
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
	Interval time.Duration // whole seconds, default 1 s
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

// NginxCheck is vipd's built-in nginx guard (block vipd_nginx_check). See
// the package documentation for its meaning.
type NginxCheck struct {
	Name            string
	Pos             Pos
	URL             string        // http or https URL probed with GET; may be empty if PIDFile is set
	PIDFile         string        // nginx master pid file; may be empty if URL is set
	Interval        time.Duration // default 0.2 s; fractions allowed
	Timeout         time.Duration // per probe, default 3/4 of Interval (0.15 s)
	Rise            int
	Fall            int
	Weight          int           // as for vrrp_script; 0 means FAULT on failure
	StartCommand    []string      // default systemctl start nginx
	RestartDeadline time.Duration // default 1 s; 0 disables the restart attempt

	given map[string]Pos
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
	Name            string
	Pos             Pos // where vrrp_instance was written
	State           State
	Interface       string
	VRID            int // virtual_router_id, 1..255
	Priority        int // 1..255; DefaultPriority when missing
	Version         int // VRRP version for this instance, 2 or 3
	AdvertInt       time.Duration
	Nopreempt       bool
	PreemptDelay    time.Duration
	Auth            *Auth // nil without an authentication block
	VIPs            []VIP
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

// VIP is one virtual_ipaddress entry.
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

// Instance returns the vrrp_instance called name, or nil.
func (c *Config) Instance(name string) *Instance {
	for i := range c.Instances {
		if c.Instances[i].Name == name {
			return &c.Instances[i]
		}
	}
	return nil
}
