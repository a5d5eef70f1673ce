package ssh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	sshconfig "github.com/kevinburke/ssh_config"
)

// Defaults used when neither Config nor ~/.ssh/config sets a value.
const (
	DefaultTimeout      = 15 * time.Second
	DefaultKeepAlive    = 15 * time.Second
	DefaultKeepAliveMax = 3
)

var discard = slog.New(slog.DiscardHandler)

// maxJumpDepth bounds ProxyJump chains, which can loop through aliases.
const maxJumpDepth = 8

// Config says where to connect and how. Only Target is required; every path
// defaults to where OpenSSH keeps it under Home.
type Config struct {
	// Target is "[user@]host[:port]" or a Host alias of the ssh config file.
	Target string

	// ConfigFile is the ssh_config(5) file; default Home/.ssh/config. A
	// missing file is fine. "none" reads no file, as `ssh -F none` does.
	ConfigFile string

	// KnownHosts is the known_hosts file read and appended to; default
	// UserKnownHostsFile from the config file, else Home/.ssh/known_hosts.
	KnownHosts string

	// Confirm is asked about a host key known_hosts does not hold. It must
	// show p.Fingerprint and return true only on an explicit yes. It is
	// called during the handshake (Timeout is paused meanwhile) and should
	// give up when ctx is done. Nil refuses every unknown key.
	Confirm func(ctx context.Context, p HostKeyPrompt) bool

	// IdentityFiles are private keys tried before IdentityFile entries of
	// the config file. If neither names a key, ~/.ssh/id_ed25519, id_ecdsa
	// and id_rsa are tried.
	IdentityFiles []string

	// AgentSocket is the ssh-agent socket; default IdentityAgent from the
	// config file, else $SSH_AUTH_SOCK. "none" disables the agent.
	AgentSocket string

	// Sudo says when commands are prefixed with "sudo -n".
	Sudo SudoMode

	// KeepAlive is the interval between keepalive@openssh.com requests;
	// default ServerAliveInterval, else DefaultKeepAlive. Negative disables.
	KeepAlive time.Duration
	// KeepAliveMax is how many keepalives may go unanswered before the
	// connection is declared dead; default ServerAliveCountMax, else
	// DefaultKeepAliveMax.
	KeepAliveMax int

	// Timeout bounds connecting, through every ProxyJump hop, up to a logged
	// in session; default ConnectTimeout, else DefaultTimeout.
	Timeout time.Duration

	// Reconnect paces Conn's redials.
	Reconnect Backoff

	// Home replaces the user's home directory for "~" and the defaults.
	Home string

	// Logger receives connection events; default discards them.
	Logger *slog.Logger

	// DialContext opens the TCP connection to the first hop; default
	// net.Dialer. A console run for a namespace lab makes its sockets inside
	// the lab's client namespace through it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

// endpoint is one hop, resolved from a target and the ssh config file.
type endpoint struct {
	alias      string // as the user wrote it, for messages
	host, port string // what is dialled and looked up in known_hosts
	user       string
	identities []string // explicit ones: Config.IdentityFiles then IdentityFile
	jumps      []string // ProxyJump, not yet resolved
}

func (e endpoint) addr() string { return net.JoinHostPort(e.host, e.port) }

// String names the hop as the user would: "deploy@lb1 (127.0.0.1:2222)".
func (e endpoint) String() string {
	if e.alias == e.host || e.alias == e.addr() {
		return e.user + "@" + e.addr()
	}
	return fmt.Sprintf("%s@%s (%s)", e.user, e.alias, e.addr())
}

// settings is a Config with every default filled in and the config file read.
type settings struct {
	Config
	file      *sshconfig.Config // nil when there is none
	localUser string
}

func newSettings(cfg Config) (*settings, error) {
	s := &settings{Config: cfg}
	if s.Logger == nil {
		s.Logger = discard
	}
	if s.Home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("failed to find the home directory: %w", err)
		}
		s.Home = h
	}
	s.localUser = os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		s.localUser = u.Username
	}

	if s.ConfigFile == "" {
		s.ConfigFile = filepath.Join(s.Home, ".ssh", "config")
	}
	if s.ConfigFile != "none" {
		b, err := os.ReadFile(s.ConfigFile)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("failed to read ssh config: %w", err)
		default:
			if s.file, err = sshconfig.DecodeBytes(b); err != nil {
				return nil, fmt.Errorf("failed to parse ssh config %s: %w", s.ConfigFile, err)
			}
		}
	}

	// Settings that belong to the target host, not to each hop.
	alias := targetAlias(s.Target)
	if s.KnownHosts == "" {
		s.KnownHosts = filepath.Join(s.Home, ".ssh", "known_hosts")
		if v := s.get(alias, "UserKnownHostsFile"); v != "" && v != "none" {
			s.KnownHosts = s.expand(strings.Fields(v)[0], nil)
		}
	}
	if s.AgentSocket == "" {
		s.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
		if v := s.get(alias, "IdentityAgent"); v != "" {
			if v == "SSH_AUTH_SOCK" {
				v = "$SSH_AUTH_SOCK"
			}
			s.AgentSocket = s.expand(os.ExpandEnv(v), nil)
		}
	}
	if s.AgentSocket == "" {
		s.AgentSocket = "none"
	}
	var err error
	if s.Timeout == 0 {
		s.Timeout, err = s.seconds(alias, "ConnectTimeout", DefaultTimeout)
		if err != nil {
			return nil, err
		}
	}
	if s.KeepAlive == 0 {
		s.KeepAlive, err = s.seconds(alias, "ServerAliveInterval", DefaultKeepAlive)
		if err != nil {
			return nil, err
		}
	}
	if s.KeepAliveMax <= 0 {
		s.KeepAliveMax = DefaultKeepAliveMax
		if v := s.get(alias, "ServerAliveCountMax"); v != "" {
			if s.KeepAliveMax, err = strconv.Atoi(v); err != nil || s.KeepAliveMax < 1 {
				return nil, fmt.Errorf("invalid ServerAliveCountMax %q for %s in %s", v, alias, s.ConfigFile)
			}
		}
	}
	return s, nil
}

// get returns the first value of key for alias, as OpenSSH does, or "".
func (s *settings) get(alias, key string) string {
	if s.file == nil {
		return ""
	}
	v, _ := s.file.Get(alias, key) // only fails on a bad conditional Include
	return v
}

func (s *settings) seconds(alias, key string, def time.Duration) (time.Duration, error) {
	v := s.get(alias, key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s %q for %s in %s", key, v, alias, s.ConfigFile)
	}
	if n == 0 {
		return -1, nil // 0 means "off" in ssh_config
	}
	return time.Duration(n) * time.Second, nil
}

// expand replaces a leading "~" and the ssh_config(5) tokens %d %u %h %p %r
// %n %%; hop-specific ones are left alone when e is nil.
func (s *settings) expand(v string, e *endpoint) string {
	if v == "~" || strings.HasPrefix(v, "~/") {
		v = s.Home + v[1:]
	}
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch c := v[i]; {
		case c == '%':
			b.WriteByte('%')
		case c == 'd':
			b.WriteString(s.Home)
		case c == 'u':
			b.WriteString(s.localUser)
		case c == 'h' && e != nil:
			b.WriteString(e.host)
		case c == 'p' && e != nil:
			b.WriteString(e.port)
		case c == 'r' && e != nil:
			b.WriteString(e.user)
		case c == 'n' && e != nil:
			b.WriteString(e.alias)
		default:
			b.WriteByte('%')
			b.WriteByte(c)
		}
	}
	return b.String()
}

// resolve turns one target into an endpoint, applying the config file.
func (s *settings) resolve(target string) (endpoint, error) {
	user, host, port, err := parseTarget(target)
	if err != nil {
		return endpoint{}, err
	}
	e := endpoint{alias: target, host: host, port: port, user: user}
	if user != "" {
		e.alias = strings.TrimPrefix(target, user+"@")
	}
	alias := host // ssh_config matches Host patterns against the name typed
	if v := s.get(alias, "HostName"); v != "" {
		e.host = strings.ReplaceAll(v, "%h", host)
	}
	if e.port == "" {
		e.port = s.get(alias, "Port")
	}
	if e.port == "" {
		e.port = "22"
	}
	if n, err := strconv.Atoi(e.port); err != nil || n < 1 || n > 65535 {
		return endpoint{}, fmt.Errorf("invalid port %q for %s", e.port, target)
	}
	if e.user == "" {
		e.user = s.get(alias, "User")
	}
	if e.user == "" {
		e.user = s.localUser
	}
	if e.user == "" {
		return endpoint{}, fmt.Errorf("no user for %s: give user@host or a User in %s", target, s.ConfigFile)
	}
	if v := s.get(alias, "ProxyCommand"); v != "" && v != "none" {
		return endpoint{}, fmt.Errorf("ProxyCommand for %s in %s is not supported; use ProxyJump", target, s.ConfigFile)
	}
	if v := s.get(alias, "ProxyJump"); v != "" && v != "none" {
		for _, j := range strings.Split(v, ",") {
			if j = strings.TrimSpace(j); j != "" {
				e.jumps = append(e.jumps, j)
			}
		}
	}
	for _, f := range s.IdentityFiles {
		e.identities = append(e.identities, s.expand(f, &e))
	}
	if s.file != nil {
		files, _ := s.file.GetAll(alias, "IdentityFile")
		for _, f := range files {
			e.identities = append(e.identities, s.expand(strings.Trim(f, `"`), &e))
		}
	}
	return e, nil
}

// chain resolves target and its ProxyJump hops into the order they are
// dialled: the first element is reached over TCP, each next one through the
// one before. As with ssh(1), "ProxyJump a,b" reaches b through a, and only
// the first jump host's own ProxyJump is honoured.
func (s *settings) chain(target string) ([]endpoint, error) {
	return s.chainDepth(target, 0)
}

func (s *settings) chainDepth(target string, depth int) ([]endpoint, error) {
	if depth > maxJumpDepth {
		return nil, fmt.Errorf("ProxyJump chain for %s is longer than %d hops; is there a loop in %s?", target, maxJumpDepth, s.ConfigFile)
	}
	last, err := s.resolve(target)
	if err != nil {
		return nil, err
	}
	if len(last.jumps) == 0 {
		return []endpoint{last}, nil
	}
	hops, err := s.chainDepth(last.jumps[0], depth+1)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve ProxyJump of %s: %w", target, err)
	}
	for _, j := range last.jumps[1:] {
		e, err := s.resolve(j)
		if err != nil {
			return nil, fmt.Errorf("failed to resolve ProxyJump of %s: %w", target, err)
		}
		e.jumps = nil // overridden by the chain, as `ssh -J` does
		hops = append(hops, e)
	}
	last.jumps = nil
	return append(hops, last), nil
}

// parseTarget splits "[user@]host[:port]" (host may be "[v6]" or a bare
// IPv6 address without a port) and the "ssh://" URI form ProxyJump allows.
func parseTarget(t string) (user, host, port string, err error) {
	orig := t
	t = strings.TrimPrefix(t, "ssh://")
	if i := strings.LastIndexByte(t, '@'); i >= 0 {
		user, t = t[:i], t[i+1:]
		if user == "" {
			return "", "", "", fmt.Errorf("invalid target %q: empty user", orig)
		}
	}
	switch {
	case strings.HasPrefix(t, "["):
		end := strings.IndexByte(t, ']')
		if end < 0 {
			return "", "", "", fmt.Errorf("invalid target %q: missing ']'", orig)
		}
		host, t = t[1:end], t[end+1:]
		if t != "" {
			if !strings.HasPrefix(t, ":") {
				return "", "", "", fmt.Errorf("invalid target %q: junk after ']'", orig)
			}
			port = t[1:]
		}
	case strings.Count(t, ":") == 1:
		host, port, _ = strings.Cut(t, ":")
	default:
		host = t
	}
	if host == "" || strings.ContainsAny(host, " \t/") {
		return "", "", "", fmt.Errorf("invalid target %q: bad host", orig)
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", "", "", fmt.Errorf("invalid target %q: bad port %q", orig, port)
		}
	}
	return user, host, port, nil
}

// targetAlias is the host part of a target, as config lookups want it.
func targetAlias(t string) string {
	if _, host, _, err := parseTarget(t); err == nil {
		return host
	}
	return t
}

// SudoMode says when remote commands are run through "sudo -n".
type SudoMode int

const (
	// SudoAuto uses sudo when the login user is not root.
	SudoAuto SudoMode = iota
	// SudoAlways uses sudo even as root.
	SudoAlways
	// SudoNever runs commands as the login user.
	SudoNever
)

var sudoModes = [...]string{"auto", "always", "never"}

func (m SudoMode) String() string {
	if m < 0 || int(m) >= len(sudoModes) {
		return "SudoMode(" + strconv.Itoa(int(m)) + ")"
	}
	return sudoModes[m]
}

// MarshalText implements encoding.TextMarshaler.
func (m SudoMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText accepts "auto", "always" or "never", so a SudoMode can be a
// flag.TextVar.
func (m *SudoMode) UnmarshalText(b []byte) error {
	for i, s := range sudoModes {
		if string(b) == s {
			*m = SudoMode(i)
			return nil
		}
	}
	return fmt.Errorf("invalid sudo mode %q: want auto, always or never", b)
}

// use reports whether commands of user get the sudo prefix.
func (m SudoMode) use(user string) bool {
	switch m {
	case SudoAlways:
		return true
	case SudoNever:
		return false
	default:
		return user != "root"
	}
}
