package config

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/guard"
)

// TestGuardDefaults: a vrrp_script or vipd_nginx_check block holds the
// guard's effective settings (its defaults are package guard's, not ours),
// so that what vipd -t prints is what the daemon runs.
func TestGuardDefaults(t *testing.T) {
	track := func(name string) string {
		return "vrrp_instance VI_1 {\ninterface eth0\nvirtual_router_id 1\nvirtual_ipaddress {\n198.51.100.10\n}\ntrack_script {\n" + name + "\n}\n}\n"
	}
	const ms = time.Millisecond
	tests := []struct {
		name  string
		block string
		nginx guard.NginxConfig // the block's Guard(), when it is a vipd_nginx_check
		scr   guard.ScriptConfig
	}{
		{
			name:  "nginx check, nothing but a url",
			block: "vipd_nginx_check ng {\nurl http://127.0.0.1/\n}\n",
			nginx: guard.NginxConfig{Name: "ng", URL: "http://127.0.0.1/", Interval: guard.DefaultInterval,
				Timeout: guard.DefaultTimeout(guard.DefaultInterval), Rise: 1, Fall: 1,
				Start: guard.DefaultStart, RestartDeadline: guard.DefaultRestartDeadline},
		},
		{
			name:  "restart_deadline 0 is the guard's NoRestart; the timeout follows the interval",
			block: "vipd_nginx_check ng {\npidfile /run/nginx.pid\ninterval 1\nrestart_deadline 0\n}\n",
			nginx: guard.NginxConfig{Name: "ng", PIDFile: "/run/nginx.pid", Interval: time.Second,
				Timeout: 750 * ms, Rise: 1, Fall: 1, Start: guard.DefaultStart, RestartDeadline: guard.NoRestart},
		},
		{
			name:  "set values stay",
			block: "vipd_nginx_check ng {\nurl http://127.0.0.1/\ninterval 0.1\ntimeout 0.3\nrise 2\nfall 3\nweight -4\nstart_command \"nginx -c /x\"\nrestart_deadline 2.5\n}\n",
			nginx: guard.NginxConfig{Name: "ng", URL: "http://127.0.0.1/", Interval: 100 * ms, Timeout: 300 * ms,
				Rise: 2, Fall: 3, Weight: -4, Start: []string{"nginx", "-c", "/x"}, RestartDeadline: 2500 * ms},
		},
		{
			name:  "vrrp_script, keepalived's defaults",
			block: "vrrp_script chk {\nscript /bin/true\n}\n",
			scr: guard.ScriptConfig{Name: "chk", Command: []string{"/bin/true"}, Interval: guard.DefaultScriptInterval,
				Timeout: guard.DefaultScriptInterval, Rise: 1, Fall: 1},
		},
		{
			name:  "vrrp_script timeout beyond the interval, as keepalived allows",
			block: "vrrp_script chk {\nscript /bin/true\ninterval 2\ntimeout 5\nfall 2\n}\n",
			scr: guard.ScriptConfig{Name: "chk", Command: []string{"/bin/true"}, Interval: 2 * time.Second,
				Timeout: 5 * time.Second, Rise: 1, Fall: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := strings.Fields(tt.block)[1]
			c, err := Parse("t.conf", strings.NewReader(tt.block+track(name)))
			if err != nil {
				t.Fatal(err)
			}
			if tt.nginx.Name != "" {
				got := c.NginxCheck(name).Guard()
				if !reflect.DeepEqual(got, tt.nginx) {
					t.Errorf("Guard():\n got %+v\nwant %+v", got, tt.nginx)
				}
				if d := got.WithDefaults(); d.Interval != got.Interval || d.Timeout != got.Timeout ||
					d.RestartDeadline != got.RestartDeadline || !slices.Equal(d.Start, got.Start) {
					t.Errorf("the guard fills in more: %+v", d)
				}
			} else {
				got := c.Script(name).Guard()
				if !reflect.DeepEqual(got, tt.scr) {
					t.Errorf("Guard():\n got %+v\nwant %+v", got, tt.scr)
				}
				if d := got.WithDefaults(); d.Interval != got.Interval || d.Timeout != got.Timeout || d.Fall != got.Fall {
					t.Errorf("the guard fills in more: %+v", d)
				}
			}
			// The file written back means the same, restart_deadline 0
			// included.
			text, err := c.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := Parse("again.conf", bytes.NewReader(text))
			if err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if a, b := normalize(c), normalize(c2); !reflect.DeepEqual(a, b) {
				t.Errorf("round trip differs:\n%+v\n%+v\n%s", a, b, text)
			}
		})
	}
}
