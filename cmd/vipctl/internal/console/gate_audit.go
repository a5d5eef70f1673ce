package console

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/vipkit/vip/ui"
)

// AuditFile appends the gate's verdicts to a file, one JSON object a line
// (who, when, what, node, result). It implements ui.Auditor.
type AuditFile struct {
	Path string

	mu sync.Mutex
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
	return nil
}
