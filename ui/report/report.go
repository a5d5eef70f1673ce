// Package report holds what the drill's and the migration's reports share:
// writing a report as PREFIX.md and PREFIX.json, and the small formats of
// their tables.
package report

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write writes a report as PREFIX.md (markdown) and PREFIX.json (json),
// each mode 0600 (they name hosts and what was done to them), creating the
// directory as needed.
func Write(prefix string, markdown, json func(io.Writer) error) (md, js string, err error) {
	if err := os.MkdirAll(filepath.Dir(prefix), 0o700); err != nil {
		return "", "", fmt.Errorf("failed to create the report's directory: %w", err)
	}
	md, js = prefix+".md", prefix+".json"
	for _, f := range []struct {
		path  string
		write func(io.Writer) error
	}{{md, markdown}, {js, json}} {
		fd, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return "", "", fmt.Errorf("failed to write the report: %w", err)
		}
		err = f.write(fd)
		if cerr := fd.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", "", fmt.Errorf("failed to write %s: %w", f.path, err)
		}
	}
	return md, js, nil
}

// MS writes a figure in milliseconds as a table cell: "58ms", "1.2s".
func MS(ms int64) string {
	if ms < 1000 {
		return fmt.Sprintf("%dms", ms)
	}
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}

// OrDash is s, or "-" for an empty cell.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
