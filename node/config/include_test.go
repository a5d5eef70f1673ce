package config

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func TestIncludeFS(t *testing.T) {
	const inst = `vrrp_instance %s {
    interface eth0
    virtual_router_id %s
    virtual_ipaddress {
        include ../vips/%s.conf
    }
}
`
	fsys := fstest.MapFS{
		"etc/keepalived/keepalived.conf": {Data: []byte("global_defs {\n    router_id lb1\n}\ninclude conf.d/*.conf\ninclude /etc/keepalived/abs.conf\n")},
		// Sorted by name, as glob returns them.
		"etc/keepalived/conf.d/20-b.conf": {Data: []byte(fmt.Sprintf(inst, "B", "2", "b"))},
		"etc/keepalived/conf.d/10-a.conf": {Data: []byte(fmt.Sprintf(inst, "A", "1", "a"))},
		"etc/keepalived/conf.d/skip.txt":  {Data: []byte("garbage {")},
		"etc/keepalived/vips/a.conf":      {Data: []byte("198.51.100.10\n")},
		"etc/keepalived/vips/b.conf":      {Data: []byte("198.51.100.20\n198.51.100.21\n")},
		"etc/keepalived/abs.conf":         {Data: []byte("! nothing but a comment\n")},
	}
	c, err := ParseFS(fsys, "etc/keepalived/keepalived.conf")
	if err != nil {
		t.Fatalf("ParseFS: %v", err)
	}
	if len(c.Warnings) > 0 {
		t.Errorf("warnings: %q", strs(c.Warnings))
	}
	wantFiles := []string{
		"etc/keepalived/keepalived.conf",
		"etc/keepalived/conf.d/10-a.conf",
		"etc/keepalived/vips/a.conf",
		"etc/keepalived/conf.d/20-b.conf",
		"etc/keepalived/vips/b.conf",
		"etc/keepalived/abs.conf",
	}
	if !reflect.DeepEqual(c.Files, wantFiles) {
		t.Errorf("files:\n got %q\nwant %q", c.Files, wantFiles)
	}
	if len(c.Instances) != 2 || c.Instances[0].Name != "A" || c.Instances[1].Name != "B" {
		t.Fatalf("instances = %+v", c.Instances)
	}
	if got, want := c.Instances[0].Pos, (Pos{"etc/keepalived/conf.d/10-a.conf", 1}); got != want {
		t.Errorf("A declared at %v, want %v", got, want)
	}
	b := c.Instances[1]
	if len(b.VIPs) != 2 || b.VIPs[1].Pos != (Pos{"etc/keepalived/vips/b.conf", 2}) {
		t.Errorf("B VIPs = %+v", b.VIPs)
	}
}

func TestIncludeErrors(t *testing.T) {
	tests := []struct {
		name  string
		fsys  fstest.MapFS
		errs  []string
		warns []string
	}{
		{
			name: "cycle",
			fsys: fstest.MapFS{
				"a.conf":     {Data: []byte("include sub/b.conf\n")},
				"sub/b.conf": {Data: []byte("! b\ninclude ../a.conf\n")},
			},
			errs: []string{`sub/b.conf:2: include cycle: a.conf -> sub/b.conf -> a.conf`},
		},
		{
			name: "self",
			fsys: fstest.MapFS{"a.conf": {Data: []byte("\n\ninclude a.conf\n")}},
			errs: []string{`a.conf:3: include cycle: a.conf -> a.conf`},
		},
		{
			name: "missing file",
			fsys: fstest.MapFS{"a.conf": {Data: []byte("include nothere.conf\n")}},
			errs: []string{`a.conf:1: include nothere.conf: nothere.conf does not exist`},
		},
		{
			name:  "glob without match",
			fsys:  fstest.MapFS{"a.conf": {Data: []byte("include conf.d/*.conf\n")}},
			warns: []string{`a.conf:1: include conf.d/*.conf: no file matches conf.d/*.conf`},
		},
		{
			name: "bad pattern",
			fsys: fstest.MapFS{"a.conf": {Data: []byte("include [x\n")}},
			errs: []string{`a.conf:1: include [x: bad pattern: syntax error in pattern`},
		},
		{
			name: "errors in included files keep their place, in reading order",
			fsys: fstest.MapFS{
				"a.conf": {Data: []byte("vrrp_instance X {\ninclude x.conf\n    virtual_router_id 300\n}\n")},
				"x.conf": {Data: []byte("interface eth0\npriority abc\n")},
			},
			errs: []string{
				`a.conf:3: virtual_router_id: expected an integer 1-255, got "300"`,
				`x.conf:2: priority: expected an integer 1-255, got "abc"`,
			},
			warns: []string{`a.conf:1: vrrp_instance X: no virtual_ipaddress; the instance would move nothing`},
		},
		{
			name: "main file missing",
			fsys: fstest.MapFS{},
			errs: []string{`a.conf: failed to read a.conf: open a.conf: file does not exist`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseFS(tt.fsys, "a.conf")
			var list ErrorList
			if err != nil && !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			if got := strs(list); !reflect.DeepEqual(got, tt.errs) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.errs)
			}
			if got := strs(c.Warnings); !reflect.DeepEqual(got, tt.warns) {
				t.Errorf("warnings:\n got %q\nwant %q", got, tt.warns)
			}
		})
	}
}

// TestLoadInclude runs the same on the OS file system, relative to the
// including file's directory wherever the process runs.
func TestLoadInclude(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("keepalived.conf", "include conf.d/*.conf\n")
	write("conf.d/vi.conf", "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n virtual_ipaddress {\n  198.51.100.10\n }\n}\ninclude loop/x.conf\n")
	write("conf.d/loop/x.conf", "include ../../keepalived.conf\n")

	c, err := Load(filepath.Join(dir, "keepalived.conf"))
	want := filepath.Join(dir, "conf.d/loop/x.conf") + ":1: include cycle: " +
		filepath.Join(dir, "keepalived.conf") + " -> " + filepath.Join(dir, "conf.d/vi.conf") + " -> " +
		filepath.Join(dir, "conf.d/loop/x.conf") + " -> " + filepath.Join(dir, "keepalived.conf")
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if len(c.Instances) != 1 || c.Instances[0].VRID != 5 {
		t.Errorf("instances = %+v", c.Instances)
	}
}

// LoadFS names files as the host does, leading slash kept, and records the
// digest of every file it parsed.
func TestLoadFSAbsoluteNames(t *testing.T) {
	fsys := fstest.MapFS{
		"etc/keepalived/keepalived.conf": {Data: []byte("include conf.d/*.conf\ninclude /etc/keepalived/abs.conf\n")},
		"etc/keepalived/conf.d/a.conf":   {Data: []byte("vrrp_instance A {\n    interface eth0\n    virtual_router_id 7\n}\n")},
		"etc/keepalived/abs.conf":        {Data: []byte("! a comment\n")},
	}
	c, err := LoadFS(fsys, "/etc/keepalived/keepalived.conf")
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	want := []string{"/etc/keepalived/keepalived.conf", "/etc/keepalived/conf.d/a.conf", "/etc/keepalived/abs.conf"}
	if !reflect.DeepEqual(c.Files, want) {
		t.Errorf("files:\n got %q\nwant %q", c.Files, want)
	}
	if got := c.Instances[0].Pos; got != (Pos{"/etc/keepalived/conf.d/a.conf", 1}) {
		t.Errorf("A at %v", got)
	}
	if len(c.Sources) != len(want) {
		t.Fatalf("sources = %+v", c.Sources)
	}
	for i, s := range c.Sources {
		data := fsys[want[i][1:]].Data
		if s.Name != want[i] || s.Size != len(data) || s.SHA256 != sha256.Sum256(data) {
			t.Errorf("source %d = %+v", i, s)
		}
	}
	if _, err := LoadFS(fsys, "/etc/keepalived/missing.conf"); err == nil || !strings.Contains(err.Error(), "/etc/keepalived/missing.conf") {
		t.Errorf("missing file: %v", err)
	}
}
