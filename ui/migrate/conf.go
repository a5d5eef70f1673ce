package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/vipkit/vip/node/config"
)

// Guard is the vipd_nginx_check block migrate adds to a node's
// configuration, as the README's migration section writes it: the seed's
// check_nginx.sh (ps -C nginx, systemctl start nginx) becomes vipd's nginx
// guard.
type Guard struct {
	URL     string   // GET it: nginx answers
	PIDFile string   // nginx's master pid file
	Start   []string // the command that starts nginx
}

// DefaultGuard is the README's block.
var DefaultGuard = Guard{URL: "http://127.0.0.1/", PIDFile: "/run/nginx.pid", Start: []string{"systemctl", "start", "nginx"}}

// guardName is the added block's name, as in the README.
const guardName = "nginx"

// VipdConfig is a node's keepalived.conf as vipd will run it: the same
// instances, the nginx check replaced by vipd's guard, in one file of its
// own (the node's keepalived.conf is never edited, so going back is
// starting keepalived).
type VipdConfig struct {
	Source  string   // the node's keepalived.conf
	Files   []string // every file it read (includes)
	Text    []byte   // the file vipd gets
	Changes []string // what differs from Source, for people
	// Warnings are the parse's, about the node's own files.
	Warnings []string
	// VIPs are every instance's virtual addresses, and Handover the
	// Skew_Time a graceful handover waits (the slowest instance's).
	VIPs     []netip.Prefix
	Handover time.Duration
}

// Refusal is why vipd cannot run a node's configuration: each problem with
// its file:line. Nothing on the node was changed.
type Refusal struct {
	Node     string
	File     string
	Problems []string
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("vipd cannot run %s's %s (nothing was changed on the node):\n  %s", r.Node, r.File, strings.Join(r.Problems, "\n  "))
}

// BuildConfig reads the configuration at file (absolute, on fsys rooted at
// the node's /) and writes vipd's. A configuration vipd cannot run (an
// error of the parse, AH authentication, LVS virtual servers) is a
// *Refusal.
func BuildConfig(node string, fsys fs.FS, file string, g Guard) (*VipdConfig, error) {
	c, err := config.ParseFS(fsys, strings.TrimPrefix(path.Clean(file), "/"))
	ref := &Refusal{Node: node, File: file}
	var list config.ErrorList
	switch {
	case errors.As(err, &list):
		for _, d := range list {
			ref.Problems = append(ref.Problems, diag(d))
		}
	case err != nil:
		return nil, fmt.Errorf("failed to read %s on %s: %w", file, node, err)
	}
	if c == nil {
		return nil, ref
	}
	v := &VipdConfig{Source: file}
	for _, f := range c.Files {
		v.Files = append(v.Files, abs(f))
	}
	for _, d := range c.Warnings {
		// keepalived's LVS half: vipd would ignore it, and the load
		// balancing with it.
		if kw, _, _ := strings.Cut(d.Msg, ":"); kw == "virtual_server" || kw == "virtual_server_group" {
			ref.Problems = append(ref.Problems, fmt.Sprintf("%s:%d: %s: LVS is keepalived's, not vipd's: keep keepalived on this pair, or move the virtual servers elsewhere first", abs(d.File), d.Line, kw))
			continue
		}
		v.Warnings = append(v.Warnings, diag(d))
	}
	for _, in := range c.Instances {
		if in.Auth != nil && in.Auth.Type == "AH" {
			ref.Problems = append(ref.Problems, fmt.Sprintf("%s: vrrp_instance %s: auth_type AH is not supported by vipd: use PASS or no authentication on both nodes first", pos(in.Pos), in.Name))
		}
	}
	if len(ref.Problems) > 0 {
		return nil, ref
	}
	if len(c.Instances) == 0 {
		return nil, &Refusal{Node: node, File: file, Problems: []string{abs(file) + ": no vrrp_instance: nothing for vipd to run"}}
	}
	v.Changes = addGuard(c, g)
	for _, in := range c.Instances {
		for _, p := range in.HeldVIPs() {
			v.VIPs = append(v.VIPs, p.Prefix)
		}
		v.Handover = max(v.Handover, c.Budget(&in).Handover)
	}
	if v.Text, err = c.MarshalText(); err != nil {
		return nil, fmt.Errorf("failed to write vipd's configuration for %s: %w", node, err)
	}
	header := fmt.Sprintf("# vipd's configuration, written by vipctl migrate from %s.\n# keepalived still reads that file, unchanged: going back is starting keepalived.\n", strings.Join(v.Files, ", "))
	for _, ch := range v.Changes {
		header += "# " + ch + "\n"
	}
	v.Text = append([]byte(header), v.Text...)
	return v, nil
}

// addGuard puts vipd's nginx guard in c where an nginx check script was
// tracked (every instance when none was), drops the scripts nothing tracks
// any more, and says what it changed.
func addGuard(c *config.Config, g Guard) []string {
	var changes []string
	if c.NginxCheck(guardName) == nil {
		c.NginxChecks = append(c.NginxChecks, config.NginxCheck{Name: guardName, URL: g.URL, PIDFile: g.PIDFile, StartCommand: g.Start}.WithDefaults())
		changes = append(changes, fmt.Sprintf("added: vipd_nginx_check %s (url %s, pidfile %s, start_command %q)", guardName, g.URL, g.PIDFile, strings.Join(g.Start, " ")))
	}
	isNginx := func(t config.Track) bool {
		if t.Nginx {
			return false
		}
		s := c.Script(t.Name)
		return s != nil && strings.Contains(strings.Join(s.Command, " "), "nginx")
	}
	tracked := false
	for i := range c.Instances {
		tracked = tracked || slices.ContainsFunc(c.Instances[i].Tracks, isNginx)
	}
	for i := range c.Instances {
		in := &c.Instances[i]
		var tracks []config.Track
		has := false
		for _, t := range in.Tracks {
			if isNginx(t) {
				changes = append(changes, fmt.Sprintf("vrrp_instance %s: track_script %s (%s) is now vipd's guard %s", in.Name, t.Name, pos(t.Pos), guardName))
				continue
			}
			has = has || t.Nginx && t.Name == guardName
			tracks = append(tracks, t)
		}
		if !has && (!tracked || slices.ContainsFunc(in.Tracks, isNginx)) {
			tracks = append(tracks, config.Track{Name: guardName, Nginx: true})
			if !tracked {
				changes = append(changes, fmt.Sprintf("vrrp_instance %s: tracks vipd's guard %s (it tracked no nginx check)", in.Name, guardName))
			}
		}
		in.Tracks = tracks
	}
	var scripts []config.Script
	for _, s := range c.Scripts {
		used := false
		for _, in := range c.Instances {
			used = used || slices.ContainsFunc(in.Tracks, func(t config.Track) bool { return !t.Nginx && t.Name == s.Name })
		}
		if used {
			scripts = append(scripts, s)
		} else {
			changes = append(changes, fmt.Sprintf("dropped: vrrp_script %s (%s), tracked no more", s.Name, pos(s.Pos)))
		}
	}
	c.Scripts = scripts
	return changes
}

// abs is a file name of the node's file system as the node writes it.
func abs(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "/" + name
}

func pos(p config.Pos) string {
	p.File = abs(p.File)
	return p.String()
}

func diag(d config.Diagnostic) string {
	d.File = abs(d.File)
	return d.String()
}
