package console

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/vipkit/vip/ui"
)

// AuditFile appends the gate's verdicts to a file, one JSON object a line
// (who, when, what, node, result). It implements ui.Auditor.
type AuditFile struct {
	Path string

	mu       sync.Mutex
	recorded int  // lines written by this process
	temp     bool // made by OpenAudit: removed on Close if unused
}

// One rule for where actions are recorded, for every command that acts
// (the console, vipctl drill, vipctl demo): --audit if given; else real
// pairs record in DefaultAuditPath, which every console on this host
// shares and which outlives them, and the demo and the lab (in-process or
// namespaces, made for this run and gone after it) in a new temporary
// file, named on exit.

// AuditUsage is the --audit flag's help.
const AuditUsage = "append every action's verdict to `file`, as JSON lines " +
	"(default: ~/.local/state/vipctl/audit.jsonl for real pairs; for the demo and the lab, a new temporary file, named on exit)"

// RegisterAudit defines --audit on fs.
func RegisterAudit(fs *flag.FlagSet) *string { return fs.String("audit", "", AuditUsage) }

// OpenAudit opens the audit log path names, or the default one (path ""):
// a new temporary file for a throwaway pair (the demo, the lab), else
// DefaultAuditPath. It makes sure the log can be written before any action
// runs: none runs without its record. Close it on exit.
func OpenAudit(path string, throwaway bool) (*AuditFile, error) {
	if path == "" && throwaway {
		f, err := os.CreateTemp("", "vipctl-audit-*.jsonl")
		if err != nil {
			return nil, fmt.Errorf("failed to make a temporary audit log: %w", err)
		}
		f.Close()
		return &AuditFile{Path: f.Name(), temp: true}, nil
	}
	if path == "" {
		path = DefaultAuditPath()
	}
	a := &AuditFile{Path: path}
	if err := a.Check(); err != nil {
		return nil, err
	}
	return a, nil
}

// Close names the log on w if this process recorded in it; a temporary
// log with nothing in it is removed.
func (f *AuditFile) Close(w io.Writer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.recorded > 0:
		fmt.Fprintf(w, "audit log: %s (%s from this run)\n", f.Path, plural(f.recorded, "entry", "entries"))
	case f.temp:
		os.Remove(f.Path)
	}
}

var _ ui.Auditor = (*AuditFile)(nil)

// DefaultAuditPath is $XDG_STATE_HOME/vipctl/audit.jsonl, else
// ~/.local/state/vipctl/audit.jsonl.
func DefaultAuditPath() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "vipctl", "audit.jsonl")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "vipctl-audit.jsonl")
	}
	return filepath.Join(home, ".local", "state", "vipctl", "audit.jsonl")
}

// Check makes sure the log can be written, before any action runs.
func (f *AuditFile) Check() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("failed to create the audit log's directory: %w", err)
	}
	fd, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	return fd.Close()
}

// Record implements ui.Auditor. The file is opened for each line, with
// O_APPEND, so that several consoles may share it and a line is never
// half-written by one of them.
func (f *AuditFile) Record(e ui.AuditEntry) error {
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("failed to encode an audit entry: %w", err)
	}
	line = append(line, '\n')
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return fmt.Errorf("failed to create the audit log's directory: %w", err)
	}
	fd, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	if _, err := fd.Write(line); err != nil {
		fd.Close()
		return fmt.Errorf("failed to write the audit log %s: %w", f.Path, err)
	}
	if err := fd.Close(); err != nil {
		return fmt.Errorf("failed to write the audit log %s: %w", f.Path, err)
	}
	f.recorded++
	return nil
}

// plural is "1 entry", "2 entries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
