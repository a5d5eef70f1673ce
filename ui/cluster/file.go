package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vipkit/vip/ssh"
)

// A LineError is a mistake in a cluster file.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// maxLine bounds a line of a cluster file.
const maxLine = 4096

// Load reads a cluster file.
func Load(path string) (*Cluster, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read the cluster file: %w", err)
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads a cluster file from r; name is used in errors. It returns
// every mistake at once, each a *LineError, joined by errors.Join.
func Parse(name string, r io.Reader) (*Cluster, error) {
	p := parser{name: name, c: &Cluster{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLine)
	for sc.Scan() {
		p.line++
		p.directive(sc.Text())
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			p.errorf("line longer than %d bytes", maxLine)
		} else {
			return nil, fmt.Errorf("failed to read %s: %w", name, err)
		}
	}
	p.endPair()
	if len(p.c.Pairs) == 0 && len(p.errs) == 0 {
		p.line = max(p.line, 1)
		p.errorf("no pair: add `pair NAME` with a vip and its nodes")
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, func(a, b error) int {
			return a.(*LineError).Line - b.(*LineError).Line
		})
		return nil, errors.Join(p.errs...)
	}
	return p.c, nil
}

type parser struct {
	name string
	line int
	c    *Cluster
	errs []error // each a *LineError

	// Defaults for the pairs that follow.
	socket    string
	vipd      string
	sudo      ssh.SudoMode
	cur       *Pair // the pair being read
	curLine   int   // where it started
	unnamed   bool  // its name is missing: that error says enough
	pairsSeen map[string]int
}

func (p *parser) errorf(format string, args ...any) {
	p.errs = append(p.errs, &LineError{File: p.name, Line: p.line, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) directive(line string) {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	words := strings.Fields(line)
	if len(words) == 0 {
		return
	}
	key, args := words[0], words[1:]
	one := func(what string) (string, bool) {
		if len(args) != 1 {
			p.errorf("%s: expected one %s, got %d words", key, what, len(args))
			return "", false
		}
		return args[0], true
	}
	switch key {
	case "pair":
		name, ok := one("name")
		p.endPair()
		if !ok {
			name = fmt.Sprintf("(line %d)", p.line)
		}
		if p.pairsSeen == nil {
			p.pairsSeen = map[string]int{}
		}
		if at, dup := p.pairsSeen[name]; dup && ok {
			p.errorf("pair %s: already defined at line %d", name, at)
		}
		p.pairsSeen[name] = p.line
		p.cur, p.curLine, p.unnamed = &Pair{Name: name, Socket: p.socket, Vipd: p.vipd, Sudo: p.sudo}, p.line, !ok
	case "vip":
		v, ok := one("ADDRESS[:PORT]")
		if !ok || !p.inPair(key) {
			return
		}
		if p.cur.VIP.IsValid() {
			p.errorf("vip: pair %s has a vip already; one per pair", p.cur.Name)
			return
		}
		vip, err := ParseVIP(v)
		if err != nil {
			p.errorf("vip: %v", err)
			return
		}
		p.cur.VIP = vip
	case "node":
		if len(args) == 2 && !strings.Contains(args[0], "=") {
			p.errorf("node: write NAME=TARGET (node %s=%s)", args[0], args[1])
			return
		}
		v, ok := one("NAME=[USER@]HOST[:PORT]")
		if !ok || !p.inPair(key) {
			return
		}
		n, err := ParseNode(v)
		if err != nil {
			p.errorf("node: %v", err)
			return
		}
		p.cur.Nodes = append(p.cur.Nodes, n)
	case "socket":
		v, ok := one("path")
		if !ok {
			return
		}
		if !strings.HasPrefix(v, "/") {
			p.errorf("socket: %q is not an absolute path", v)
			return
		}
		if p.cur != nil {
			p.cur.Socket = v
		} else {
			p.socket = v
		}
	case "vipd":
		v, ok := one("path")
		if !ok {
			return
		}
		if !strings.HasPrefix(v, "/") {
			p.errorf("vipd: %q is not an absolute path", v)
			return
		}
		if p.cur != nil {
			p.cur.Vipd = v
		} else {
			p.vipd = v
		}
	case "sudo":
		v, ok := one("mode (auto, always or never)")
		if !ok {
			return
		}
		var m ssh.SudoMode
		if err := m.UnmarshalText([]byte(v)); err != nil {
			p.errorf("sudo: %v", err)
			return
		}
		if p.cur != nil {
			p.cur.Sudo = m
		} else {
			p.sudo = m
		}
	case "known_hosts":
		v, ok := one("file")
		if !ok {
			return
		}
		if p.cur != nil {
			p.errorf("known_hosts: applies to every pair: put it before the first pair")
			return
		}
		f, err := expandHome(v)
		if err != nil {
			p.errorf("known_hosts: %v", err)
			return
		}
		p.c.KnownHosts = f
	default:
		p.errorf("unknown directive %q: want pair, vip, node, socket, vipd, sudo or known_hosts", key)
	}
}

// inPair reports whether a pair is open, and complains if not.
func (p *parser) inPair(key string) bool {
	if p.cur == nil {
		p.errorf("%s: outside a pair: start one with `pair NAME`", key)
		return false
	}
	return true
}

// endPair checks and keeps the pair being read.
func (p *parser) endPair() {
	if p.cur == nil {
		return
	}
	for _, msg := range p.cur.check() {
		if p.unnamed {
			break
		}
		p.errs = append(p.errs, &LineError{File: p.name, Line: p.curLine, Msg: fmt.Sprintf("pair %s: %s", p.cur.Name, msg)})
	}
	p.c.Pairs = append(p.c.Pairs, *p.cur)
	p.cur = nil
}
