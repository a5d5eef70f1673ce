package migrate

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vipkit/vip/node/config"
)

func seedFS(t *testing.T) fstest.MapFS {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/configs/keepalived.conf")
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{"etc/keepalived/keepalived.conf": {Data: b}}
}

// TestBuildConfigSeed: the seed's file becomes vipd's with the README's
// guard in place of check_nginx.sh, and vipd's parser reads it back.
func TestBuildConfigSeed(t *testing.T) {
	v, err := BuildConfig("nginx-01", seedFS(t), "/etc/keepalived/keepalived.conf", DefaultGuard)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse("vipd.conf", strings.NewReader(string(v.Text)))
	if err != nil {
		t.Fatalf("vipd's file does not parse: %v\n%s", err, v.Text)
	}
	in := c.Instances[0]
	if len(in.Tracks) != 1 || !in.Tracks[0].Nginx || in.Tracks[0].Name != "nginx" {
		t.Errorf("tracks = %+v, want the nginx guard only", in.Tracks)
	}
	if len(c.Scripts) != 0 {
		t.Errorf("scripts = %+v, want check_nginx.sh dropped", c.Scripts)
	}
	k := c.NginxCheck("nginx")
	if k == nil || k.PIDFile != "/run/nginx.pid" || strings.Join(k.StartCommand, " ") != "systemctl start nginx" {
		t.Errorf("guard = %+v", k)
	}
	if in.VRID != 60 || !in.Nopreempt || in.Auth == nil || in.Auth.Pass != "qwert123" {
		t.Errorf("instance changed: %+v", in)
	}
	if len(v.VIPs) != 1 || v.VIPs[0].String() != "172.31.13.242/32" {
		t.Errorf("VIPs = %v", v.VIPs)
	}
	if v.Handover.Milliseconds() != 609 {
		t.Errorf("handover = %v, want Skew_Time 0.609s", v.Handover)
	}
	for _, want := range []string{"track_script chk_nginx (/etc/keepalived/keepalived.conf:23) is now vipd's guard nginx", "dropped: vrrp_script chk_nginx (/etc/keepalived/keepalived.conf:5)"} {
		if !strings.Contains(strings.Join(v.Changes, "\n"), want) {
			t.Errorf("changes %q lack %q", v.Changes, want)
		}
	}
}

// TestBuildConfigRefuses: what vipd cannot run is refused with file:line.
func TestBuildConfigRefuses(t *testing.T) {
	seed := string(seedFS(t)["etc/keepalived/keepalived.conf"].Data)
	tests := []struct {
		name, conf string
		want       []string
	}{
		{"AH", strings.Replace(seed, "auth_type PASS", "auth_type AH", 1),
			[]string{"/etc/keepalived/keepalived.conf:9: vrrp_instance VI_1: auth_type AH is not supported by vipd"}},
		{"LVS", seed + "virtual_server 172.31.13.242 80 {\n    lb_algo rr\n}\n",
			[]string{"/etc/keepalived/keepalived.conf:26: virtual_server: LVS is keepalived's, not vipd's"}},
		{"parse error", strings.Replace(seed, "virtual_router_id 60", "virtual_router_id 600", 1),
			[]string{"/etc/keepalived/keepalived.conf:12: virtual_router_id"}},
		{"no instance", "global_defs {\n router_id x\n}\n", []string{"no vrrp_instance"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"etc/keepalived/keepalived.conf": {Data: []byte(tt.conf)}}
			_, err := BuildConfig("n1", fsys, "/etc/keepalived/keepalived.conf", DefaultGuard)
			var ref *Refusal
			if !errors.As(err, &ref) {
				t.Fatalf("err = %v, want a refusal", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(ref.Error(), w) {
					t.Errorf("refusal %q lacks %q", ref.Error(), w)
				}
			}
		})
	}
}

// TestBuildConfigIncludes: an include is read from the node's file system
// and its lines named.
func TestBuildConfigIncludes(t *testing.T) {
	fsys := seedFS(t)
	main := string(fsys["etc/keepalived/keepalived.conf"].Data)
	i := strings.Index(main, "vrrp_instance")
	fsys["etc/keepalived/keepalived.conf"] = &fstest.MapFile{Data: []byte(main[:i] + "include conf.d/*.conf\n")}
	fsys["etc/keepalived/conf.d/vi1.conf"] = &fstest.MapFile{Data: []byte(main[i:])}
	v, err := BuildConfig("n1", fsys, "/etc/keepalived/keepalived.conf", DefaultGuard)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Files) != 2 || v.Files[1] != "/etc/keepalived/conf.d/vi1.conf" {
		t.Errorf("files = %v", v.Files)
	}
}
