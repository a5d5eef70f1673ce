package config

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// Limits that keep a hostile or broken file from costing much.
const (
	maxFileSize     = 4 << 20
	maxIncludeDepth = 16
	maxFiles        = 256
	// keepalived reads lines with fgets into 1024 bytes: a longer line is
	// silently cut in two, the rest read as a line of its own.
	maxLineLen = 1022
)

// itemKind tells a line of words from a brace.
type itemKind int

const (
	itemWords itemKind = iota
	itemOpen
	itemClose
)

// item is a logical line after comments are removed and the line is split
// at braces, as keepalived's read_line does.
type item struct {
	kind  itemKind
	pos   Pos
	words []string
	raw   string // the line's text, for the keywords that re-split it
}

// maxDiags caps each list, so that a file of a million stray braces costs
// little memory; the rest is counted.
const maxDiags = 1000

// diags collects errors and warnings in the order they are found.
type diags struct {
	errs                ErrorList
	warns               []Diagnostic
	moreErrs, moreWarns int
}

// Count returns how many errors l stands for: its "N more errors not
// shown" line counts N.
func (l ErrorList) Count() int { return countDiags(l) }

// CountDiagnostics is Count for warnings.
func CountDiagnostics(ds []Diagnostic) int { return countDiags(ds) }

func countDiags(ds []Diagnostic) int {
	n := 0
	for _, d := range ds {
		n += max(d.more, 1)
	}
	return n
}

func (d *diags) errorf(p Pos, format string, args ...any) {
	if len(d.errs) >= maxDiags {
		d.moreErrs++
		return
	}
	d.errs = append(d.errs, Diagnostic{File: p.File, Line: p.Line, Msg: fmt.Sprintf(format, args...)})
}

// count is how many errors were found so far.
func (d *diags) count() int { return len(d.errs) + d.moreErrs }

func (d *diags) warnf(p Pos, format string, args ...any) {
	if len(d.warns) >= maxDiags {
		d.moreWarns++
		return
	}
	d.warns = append(d.warns, Diagnostic{File: p.File, Line: p.Line, Msg: fmt.Sprintf(format, args...)})
}

// fileSystem is where included files come from: the OS or an fs.FS.
type fileSystem interface {
	readFile(name string) ([]byte, error)
	isDir(name string) bool
	glob(pattern string) ([]string, error)
	// resolve makes an include pattern relative to the including file.
	resolve(from, pattern string) string
	// key identifies a file for cycle detection.
	key(name string) string
}

type osFS struct{}

func (osFS) readFile(name string) ([]byte, error) { return readLimited(os.Open(name)) }

func (osFS) isDir(name string) bool {
	fi, err := os.Stat(name)
	return err == nil && fi.IsDir()
}

func (osFS) glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

func (osFS) resolve(from, pattern string) string {
	if filepath.IsAbs(pattern) {
		return pattern
	}
	return filepath.Join(filepath.Dir(from), pattern)
}

func (osFS) key(name string) string {
	if p, err := filepath.EvalSymlinks(name); err == nil {
		name = p
	}
	if p, err := filepath.Abs(name); err == nil {
		name = p
	}
	return name
}

type ioFS struct{ fsys fs.FS }

func (f ioFS) readFile(name string) ([]byte, error) { return readLimited(f.fsys.Open(name)) }

func (f ioFS) isDir(name string) bool {
	fi, err := fs.Stat(f.fsys, name)
	return err == nil && fi.IsDir()
}

func (f ioFS) glob(pattern string) ([]string, error) { return fs.Glob(f.fsys, pattern) }

func (ioFS) resolve(from, pattern string) string {
	if strings.HasPrefix(pattern, "/") {
		return path.Clean(strings.TrimLeft(pattern, "/"))
	}
	return path.Join(path.Dir(from), pattern)
}

func (ioFS) key(name string) string { return path.Clean(name) }

// rootFS is an fs.FS that holds a host's root, named with absolute slash
// paths as the host names them ("/etc/keepalived/keepalived.conf"): a
// remote node's files read over SSH. Names keep their leading slash in
// diagnostics; only fsys sees them without it, as fs.FS wants.
type rootFS struct{ fsys fs.FS }

func (f rootFS) rel(name string) string {
	if r := strings.TrimLeft(path.Clean("/"+name), "/"); r != "" {
		return r
	}
	return "."
}

func (f rootFS) readFile(name string) ([]byte, error) { return readLimited(f.fsys.Open(f.rel(name))) }

func (f rootFS) isDir(name string) bool {
	fi, err := fs.Stat(f.fsys, f.rel(name))
	return err == nil && fi.IsDir()
}

func (f rootFS) glob(pattern string) ([]string, error) {
	m, err := fs.Glob(f.fsys, f.rel(pattern))
	for i := range m {
		m[i] = "/" + m[i]
	}
	return m, err
}

func (rootFS) resolve(from, pattern string) string {
	if strings.HasPrefix(pattern, "/") {
		return path.Clean(pattern)
	}
	return path.Join(path.Dir(from), pattern)
}

func (rootFS) key(name string) string { return path.Clean(name) }

func readLimited(f fs.File, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, nil
}

// lexer turns files into items, following includes.
type lexer struct {
	fsys    fileSystem // nil: include is not available
	d       *diags
	emit    func(item)
	stack   []string // keys of the files being read, for cycle detection
	names   []string // their names, for the cycle message
	files   []string
	sources []Source
	// unsupported maps a syntax vipd refuses ($NAME=, @ROUTER_ID, ~SEQ)
	// to its error in d.errs: it is named once, with every place.
	unsupported map[string]int
	skipped     bool // a line was dropped: later "is required" errors may be its doing
}

// refuse reports a line whose syntax vipd does not support, once per kind.
func (l *lexer) refuse(kind string, pos Pos, msg string) {
	l.skipped = true
	if i, ok := l.unsupported[kind]; ok && i < len(l.d.errs) {
		e := &l.d.errs[i]
		if !strings.HasSuffix(e.Msg, ")") {
			e.Msg += " (also at "
		} else {
			e.Msg = strings.TrimSuffix(e.Msg, ")") + ", "
		}
		e.Msg += pos.String() + ")"
		return
	}
	if l.unsupported == nil {
		l.unsupported = map[string]int{}
	}
	l.unsupported[kind] = len(l.d.errs)
	l.d.errorf(pos, "%s", msg)
}

var definitionRE = regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_]*(\(|=)`)

// lexFile reads one file's lines. keepalived processes a line in this order:
// strip comments, expand include, split at braces, split into words.
func (l *lexer) lexFile(name string, data []byte) {
	l.files = append(l.files, name)
	l.sources = append(l.sources, Source{Name: name, Size: len(data), SHA256: sha256.Sum256(data)})
	if bom := "\ufeff"; strings.HasPrefix(string(data), bom) {
		// keepalived reads the mark as part of the first keyword, which it
		// then does not know: it drops that line's whole block with only
		// "Unknown keyword" and "Unexpected '{'" log lines.
		first := strings.Fields(strings.TrimPrefix(string(data[:min(len(data), 200)]), bom))
		kw := ""
		if len(first) > 0 {
			kw = fmt.Sprintf(" %q", first[0])
		}
		l.d.errorf(Pos{File: name, Line: 1}, "the file starts with a UTF-8 byte-order mark: keepalived reads it as part of the first keyword%s, does not know that keyword and ignores its line and block; save the file without the mark", kw)
		data = data[len(bom):]
	}
	lines := strings.Split(string(data), "\n")
	for i, raw := range lines {
		pos := Pos{File: name, Line: i + 1}
		if i == len(lines)-1 && raw == "" {
			break
		}
		if len(raw) > maxLineLen {
			l.d.errorf(pos, "line is %d bytes long: keepalived reads at most %d and would split it", len(raw), maxLineLen)
			continue
		}
		if strings.IndexByte(raw, 0) >= 0 {
			l.d.errorf(pos, "line contains a NUL byte")
			continue
		}
		line, ok := l.decomment(pos, strings.TrimRight(raw, "\r\n"))
		if !ok || line == "" {
			continue
		}
		switch {
		case isInclude(line):
			l.include(pos, strings.TrimLeft(line[len("include"):], " \t"))
			continue
		case definitionRE.MatchString(line):
			l.refuse("$", pos, "parameter definitions ($NAME=...) are not supported by vipd; write the values out")
			continue
		case line[0] == '@':
			l.refuse("@", pos, "conditional lines (@ROUTER_ID ...) are not supported by vipd; keep one file per node")
			continue
		case strings.HasPrefix(line, "~SEQ") || strings.HasPrefix(line, "~LST"):
			l.refuse("~", pos, "~SEQ and ~LST are not supported by vipd; write the lines out")
			continue
		}
		l.split(pos, line)
	}
}

// decomment strips leading blanks, the comment, and trailing blanks, as
// keepalived's decomment does: "!" and "#" start a comment anywhere outside
// double quotes, even inside a word; "\!" and "\#" stand for the characters.
func (l *lexer) decomment(pos Pos, s string) (string, bool) {
	lead := len(s) - len(strings.TrimLeft(s, " \t"))
	s = s[lead:]
	var b strings.Builder
	quote := false
loop:
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			quote = !quote
		case c == '\\' && i+1 < len(s):
			if n := s[i+1]; !quote && (n == '#' || n == '!') {
				b.WriteByte(n)
			} else {
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
			continue
		case (c == '!' || c == '#') && !quote:
			if i > 0 && !strings.ContainsRune(" \t{}", rune(s[i-1])) {
				l.d.warnf(pos, "%q inside a word starts a comment: the rest of the line from column %d is ignored (write \\%c to keep it)", string(c), lead+i+1, c)
			}
			break loop
		}
		b.WriteByte(c)
	}
	if quote {
		l.d.errorf(pos, "unterminated quote")
		return "", false
	}
	return strings.TrimRight(b.String(), " \t"), true
}

// isInclude reports whether line is an include directive.
func isInclude(line string) bool {
	return len(line) > len("include") && strings.HasPrefix(line, "include") &&
		(line[7] == ' ' || line[7] == '\t')
}

func (l *lexer) include(pos Pos, pattern string) {
	if pattern == "" {
		l.d.errorf(pos, "include: expected a file name or glob pattern")
		return
	}
	if l.fsys == nil {
		l.d.errorf(pos, "include %s: not possible when parsing from a stream; load the file from disk", pattern)
		return
	}
	if len(l.stack) >= maxIncludeDepth {
		l.d.errorf(pos, "include %s: includes nested deeper than %d", pattern, maxIncludeDepth)
		return
	}
	full := l.fsys.resolve(pos.File, pattern)
	matches, err := l.fsys.glob(full)
	if err != nil {
		l.d.errorf(pos, "include %s: bad pattern: %v", pattern, err)
		return
	}
	if len(matches) == 0 {
		if hasMeta(pattern) {
			l.d.warnf(pos, "include %s: no file matches %s", pattern, full)
		} else {
			// keepalived skips a missing file quietly, losing whatever it held.
			l.d.errorf(pos, "include %s: %s does not exist", pattern, full)
		}
		return
	}
	for _, m := range matches {
		if l.fsys.isDir(m) {
			l.d.warnf(pos, "include %s: skipping directory %s", pattern, m)
			continue
		}
		l.open(pos, m)
	}
}

// open reads a file; from is the include directive, zero for the main file.
func (l *lexer) open(from Pos, name string) {
	if len(l.files) >= maxFiles {
		l.d.errorf(from, "more than %d files included", maxFiles)
		return
	}
	key := l.fsys.key(name)
	for i, k := range l.stack {
		if k == key {
			chain := append(append([]string{}, l.names[i:]...), name)
			l.d.errorf(from, "include cycle: %s", strings.Join(chain, " -> "))
			return
		}
	}
	data, err := l.fsys.readFile(name)
	if err != nil {
		if from.File == "" {
			from = Pos{File: name}
		}
		l.d.errorf(from, "failed to read %s: %v", name, err)
		return
	}
	l.stack = append(l.stack, key)
	l.names = append(l.names, name)
	l.lexFile(name, data)
	l.stack = l.stack[:len(l.stack)-1]
	l.names = l.names[:len(l.names)-1]
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// split cuts a line at braces outside quotes; each brace is an item.
func (l *lexer) split(pos Pos, line string) {
	for line != "" {
		i := braceIndex(line)
		switch {
		case i == 0:
			k := itemOpen
			if line[0] == '}' {
				k = itemClose
			}
			l.emit(item{kind: k, pos: pos})
			line = strings.TrimLeft(line[1:], " \t")
		case i < 0:
			l.words(pos, line)
			return
		default:
			l.words(pos, line[:i])
			line = line[i:]
		}
	}
}

// braceIndex returns the index of the first brace outside quotes, or -1.
func braceIndex(s string) int {
	quote := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quote = !quote
		case '{', '}':
			if !quote {
				return i
			}
		}
	}
	return -1
}

const whitespace = " \t\f\n\r\v"

// words splits a segment like keepalived's alloc_strvec: words end at
// whitespace or a quote; a quoted string is one word without its quotes.
func (l *lexer) words(pos Pos, s string) {
	raw := strings.Trim(s, " \t")
	var w []string
	for {
		s = strings.TrimLeft(s, whitespace)
		if s == "" {
			break
		}
		if s[0] == '"' {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				l.d.errorf(pos, "unmatched quote")
				return
			}
			w = append(w, s[1:1+end])
			s = s[2+end:]
			continue
		}
		end := strings.IndexAny(s, whitespace+`"`)
		if end < 0 {
			end = len(s)
		}
		w = append(w, s[:end])
		s = s[end:]
	}
	if len(w) > 0 {
		l.emit(item{kind: itemWords, pos: pos, words: w, raw: raw})
	}
}
