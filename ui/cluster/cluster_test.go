package cluster

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vipkit/vip/ssh"
)

func TestParseVIP(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{in: "198.51.100.100:80", want: "198.51.100.100:80"},
		{in: "198.51.100.100", want: "198.51.100.100:80"},
		{in: "198.51.100.100:8080", want: "198.51.100.100:8080"},
		{in: "[2001:db8::1]:443", want: "[2001:db8::1]:443"},
		{in: "2001:db8::1", want: "[2001:db8::1]:80"},
		{in: "[2001:db8::1]", want: "[2001:db8::1]:80"},
		{in: "198.51.100.100:0", err: "port 0"},
		{in: "198.51.100.100:99999", err: "want ADDRESS[:PORT]"},
		{in: "lb.example.net:80", err: "want ADDRESS[:PORT]"},
		{in: "", err: "want ADDRESS[:PORT]"},
	} {
		got, err := ParseVIP(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseVIP(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("ParseVIP(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestParseNode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Node
		err  string
	}{
		{in: "nginx-01=root@host1", want: Node{"nginx-01", "root@host1"}},
		{in: "nginx-01=host1:2222", want: Node{"nginx-01", "host1:2222"}},
		{in: "n=deploy@[2001:db8::1]:22", want: Node{"n", "deploy@[2001:db8::1]:22"}},
		{in: "n=2001:db8::1", want: Node{"n", "2001:db8::1"}},
		{in: "n=lb1", want: Node{"n", "lb1"}},
		{in: "nginx-01", err: "want NAME=[USER@]HOST[:PORT]"},
		{in: "=host", err: "want NAME="},
		{in: "n=", err: "want NAME="},
		{in: "n=@host", err: "empty user"},
		{in: "n=root@", err: "empty host"},
		{in: "n=host:0", err: `bad port "0"`},
		{in: "n=host:ssh", err: `bad port "ssh"`},
		{in: "n=[::1", err: "missing ']'"},
		{in: "n=a/b", err: "bad host"},
	} {
		got, err := ParseNode(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseNode(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseNode(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func vip(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestParse(t *testing.T) {
	home, _ := os.UserHomeDir()
	for _, tc := range []struct {
		name string
		in   string
		want *Cluster
		errs []string // each must appear, in order, one per line
	}{
		{
			name: "two pairs with defaults and overrides",
			in: `# the lab
known_hosts ~/kh
socket /run/x.sock
sudo never

pair web
    vip 198.51.100.100:80   # the VIP
    node nginx-01=root@lb1
    node nginx-02=root@lb2:2222
pair api
    vip 198.51.100.101
    sudo always
    socket /run/y.sock
    vipd /opt/vip/vipd
    node nginx-03=lb3
`,
			want: &Cluster{KnownHosts: filepath.Join(home, "kh"), Pairs: []Pair{
				{Name: "web", VIP: vip("198.51.100.100:80"), Socket: "/run/x.sock", Sudo: ssh.SudoNever,
					Nodes: []Node{{"nginx-01", "root@lb1"}, {"nginx-02", "root@lb2:2222"}}},
				{Name: "api", VIP: vip("198.51.100.101:80"), Socket: "/run/y.sock", Vipd: "/opt/vip/vipd", Sudo: ssh.SudoAlways,
					Nodes: []Node{{"nginx-03", "lb3"}}},
			}},
		},
		{
			name: "sample",
			in:   Sample,
			want: &Cluster{Pairs: []Pair{{Name: "web", VIP: vip("198.51.100.100:80"),
				Nodes: []Node{{"nginx-01", "root@198.51.100.11"}, {"nginx-02", "root@198.51.100.12"}}}}},
		},
		{name: "empty", in: "# nothing\n", errs: []string{"c.conf:1: no pair"}},
		{name: "relative vipd", in: "vipd bin/vipd\npair web\n  vip 198.51.100.100\n  node a=h\n",
			errs: []string{`c.conf:1: vipd: "bin/vipd" is not an absolute path`}},
		{
			name: "every mistake with its line",
			in: `vip 198.51.100.100
pair web
  vip nonsense
  node nginx-01 root@lb1
  node nginx-02=root@
  nodes x=y
  sudo sometimes
  known_hosts /x
  socket relative.sock
pair web
  vip 198.51.100.100
  vip 198.51.100.101
  node a=h
  node a=h
pair
`,
			errs: []string{
				"c.conf:1: vip: outside a pair",
				"c.conf:2: pair web: no vip",
				"c.conf:2: pair web: no node",
				"c.conf:3: vip: invalid VIP \"nonsense\"",
				"c.conf:4: node: write NAME=TARGET (node nginx-01=root@lb1)",
				"c.conf:5: node: invalid node \"nginx-02=root@\": empty host",
				"c.conf:6: unknown directive \"nodes\"",
				"c.conf:7: sudo: invalid sudo mode \"sometimes\"",
				"c.conf:8: known_hosts: applies to every pair",
				"c.conf:9: socket: \"relative.sock\" is not an absolute path",
				"c.conf:10: pair web: already defined at line 2",
				"c.conf:10: pair web: node a listed twice",
				"c.conf:12: vip: pair web has a vip already",
				"c.conf:15: pair: expected one name, got 0 words",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("c.conf", strings.NewReader(tc.in))
			if tc.errs != nil {
				if err == nil {
					t.Fatalf("Parse = %+v, want errors", got)
				}
				lines := strings.Split(err.Error(), "\n")
				if len(lines) != len(tc.errs) {
					t.Errorf("got %d errors, want %d:\n%v", len(lines), len(tc.errs), err)
				}
				for i, want := range tc.errs {
					if i < len(lines) && !strings.HasPrefix(lines[i], want) {
						t.Errorf("error %d = %q, want prefix %q", i, lines[i], want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.conf"))
	if err == nil || !strings.Contains(err.Error(), "nope.conf") {
		t.Fatalf("Load = %v, want an error naming the file", err)
	}
}

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cluster.conf")
	if err := os.WriteFile(file, []byte(Sample), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want *Cluster
		err  string
	}{
		{
			name: "one pair",
			args: []string{"--node", "nginx-01=root@host1", "--node", "nginx-02=root@host2", "--vip", "198.51.100.100:80"},
			want: &Cluster{Pairs: []Pair{{Name: "198.51.100.100", VIP: vip("198.51.100.100:80"),
				Nodes: []Node{{"nginx-01", "root@host1"}, {"nginx-02", "root@host2"}}}}},
		},
		{
			name: "named, with every option",
			args: []string{"--pair", "web", "--node", "a=h1", "--vip", "198.51.100.100", "--socket", "/run/s",
				"--vipd", "/opt/vipd", "--sudo", "always", "--known-hosts", "/kh"},
			want: &Cluster{KnownHosts: "/kh", Pairs: []Pair{{Name: "web", VIP: vip("198.51.100.100:80"),
				Socket: "/run/s", Vipd: "/opt/vipd", Sudo: ssh.SudoAlways, Nodes: []Node{{"a", "h1"}}}}},
		},
		{
			name: "file with overrides",
			args: []string{"-c", file, "--sudo", "never", "--socket", "/run/o"},
			want: &Cluster{Pairs: []Pair{{Name: "web", VIP: vip("198.51.100.100:80"), Socket: "/run/o", Sudo: ssh.SudoNever,
				Nodes: []Node{{"nginx-01", "root@198.51.100.11"}, {"nginx-02", "root@198.51.100.12"}}}}},
		},
		{name: "nothing", args: nil, err: "no cluster"},
		{name: "both", args: []string{"-c", file, "--node", "a=h"}, err: "either -c FILE or --node"},
		{name: "no vip", args: []string{"--node", "a=h"}, err: "--vip: missing"},
		{name: "no node", args: []string{"--vip", "198.51.100.100"}, err: "--node: missing"},
		{name: "bad node", args: []string{"--vip", "198.51.100.100", "--node", "a"}, err: "--node: invalid node \"a\""},
		{name: "twice", args: []string{"--vip", "198.51.100.100", "--node", "a=h", "--node", "a=g"}, err: "node a listed twice"},
		{name: "bad sudo", args: []string{"--sudo", "maybe"}, err: "invalid sudo mode"},
		{name: "relative vipd", args: []string{"--vip", "198.51.100.100", "--node", "a=h", "--vipd", "vipd"}, err: `--vipd: "vipd" is not an absolute path`},
		{name: "bad file", args: []string{"-c", filepath.Join(dir, "missing")}, err: "failed to read the cluster file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("vipctl", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var f Flags
			f.Register(fs)
			err := fs.Parse(tc.args)
			var got *Cluster
			if err == nil {
				got, err = f.Cluster()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %+v, %v; want error containing %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}
