package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vipkit/vip/ssh"
	"github.com/vipkit/vip/ui/feed"
)

// Runner runs a command on a node: *ssh.Client and *ssh.Conn are Runners.
type Runner interface {
	Exec(ctx context.Context, cmd string) ([]byte, error)
}

// maxRead bounds a file read: node/config's own limit is 4 MiB.
const maxRead = 4<<20 + 1

// FS is a node's file system over SSH, rooted at "/" as fs.FS wants (names
// without the leading slash), for node/config's LoadFS. Each operation is
// one command: cat, stat, ls. It implements fs.ReadFileFS, fs.StatFS and
// fs.ReadDirFS, which is what fs.Glob and node/config use.
type FS struct {
	ctx context.Context
	r   Runner
}

// NewFS returns the file system of the node r runs commands on; ctx bounds
// every operation.
func NewFS(ctx context.Context, r Runner) *FS { return &FS{ctx: ctx, r: r} }

var (
	_ fs.ReadFileFS = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadDirFS  = (*FS)(nil)
)

func (f *FS) run(op, name, cmd string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	out, err := f.r.Exec(f.ctx, cmd)
	if err == nil {
		return out, nil
	}
	var exit *ssh.ExitError
	if errors.As(err, &exit) {
		switch msg := exit.Stderr; {
		case strings.Contains(msg, "No such file"):
			err = fs.ErrNotExist
		case strings.Contains(msg, "Permission denied"):
			err = fs.ErrPermission
		case strings.Contains(msg, "Is a directory"):
			err = errors.New("is a directory")
		}
	}
	return nil, &fs.PathError{Op: op, Path: "/" + name, Err: err}
}

func abs(name string) string {
	if name == "." {
		return "/"
	}
	return "/" + name
}

// ReadFile reads a file with cat, at most maxRead bytes.
func (f *FS) ReadFile(name string) ([]byte, error) {
	return f.run("read", name, "head -c "+strconv.Itoa(maxRead)+" -- "+feed.Quote(abs(name)))
}

// Open reads the whole file at once: node/config reads every file it
// opens, and one command is cheaper than two.
func (f *FS) Open(name string) (fs.File, error) {
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	base := name[strings.LastIndexByte(name, '/')+1:]
	return &file{info: info{name: base, size: int64(len(data)), mode: 0o444}, r: bytes.NewReader(data)}, nil
}

// Stat runs stat -L: a symlinked file counts as the file, as for the daemon.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	out, err := f.run("stat", name, "stat -L -c '%F|%s|%Y' -- "+feed.Quote(abs(name)))
	if err != nil {
		return nil, err
	}
	fi, err := parseStat(strings.TrimSpace(string(out)), name)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: abs(name), Err: err}
	}
	return fi, nil
}

// ModTimes returns the modification times of the files, by absolute name,
// in one command.
func ModTimes(ctx context.Context, r Runner, files []string) (map[string]time.Time, error) {
	if len(files) == 0 {
		return nil, nil
	}
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = feed.Quote(f)
	}
	// One line per file, in order; a file gone since prints nothing, so
	// each line names its file.
	out, err := r.Exec(ctx, "stat -L -c '%Y %n' -- "+strings.Join(q, " "))
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("failed to read the modification times of %s: %w", strings.Join(files, ", "), err)
	}
	m := map[string]time.Time{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		sec, name, ok := strings.Cut(line, " ")
		if n, err := strconv.ParseInt(sec, 10, 64); ok && err == nil {
			m[name] = time.Unix(n, 0)
		}
	}
	return m, nil
}

func parseStat(s, name string) (fs.FileInfo, error) {
	parts := strings.Split(s, "|")
	if len(parts) != 3 {
		return nil, fmt.Errorf("unexpected stat output %q", s)
	}
	size, err1 := strconv.ParseInt(parts[1], 10, 64)
	mtime, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("unexpected stat output %q", s)
	}
	mode := fs.FileMode(0o444)
	if parts[0] == "directory" {
		mode |= fs.ModeDir
	}
	base := name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		base = name[i+1:]
	}
	return info{name: base, size: size, mode: mode, mtime: time.Unix(mtime, 0)}, nil
}

// ReadDir lists a directory with ls -ap (directories end in "/").
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	out, err := f.run("readdir", name, "ls -1ap -- "+feed.Quote(abs(name)))
	if err != nil {
		return nil, err
	}
	var ents []fs.DirEntry
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || l == "./" || l == "../" {
			continue
		}
		mode := fs.FileMode(0o444)
		if strings.HasSuffix(l, "/") {
			l, mode = strings.TrimSuffix(l, "/"), mode|fs.ModeDir
		}
		ents = append(ents, dirEntry{info{name: l, mode: mode}})
	}
	slices.SortFunc(ents, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return ents, nil
}

type info struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return i.size }
func (i info) Mode() fs.FileMode  { return i.mode }
func (i info) ModTime() time.Time { return i.mtime }
func (i info) IsDir() bool        { return i.mode.IsDir() }
func (i info) Sys() any           { return nil }

type dirEntry struct{ info }

func (d dirEntry) Type() fs.FileMode          { return d.mode.Type() }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.info, nil }

type file struct {
	info fs.FileInfo
	r    *bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }
func (f *file) Read(p []byte) (int, error) { return f.r.Read(p) }
