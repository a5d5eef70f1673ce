package config

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.explain golden files")

func TestSkewTime(t *testing.T) {
	tests := []struct {
		version, priority int
		advert            time.Duration
		want              time.Duration
	}{
		{2, 100, time.Second, 609375 * time.Microsecond},
		{2, 254, time.Second, 7812 * time.Microsecond}, // 7.8125 ms, truncated like keepalived
		{2, 255, time.Second, 3906 * time.Microsecond},
		{2, 1, time.Second, 996093 * time.Microsecond},
		// VRRPv2 skew ignores advert_int (RFC 3768); keepalived follows it.
		{2, 100, 3 * time.Second, 609375 * time.Microsecond},
		{3, 100, time.Second, 609375 * time.Microsecond},
		{3, 100, 3 * time.Second, 1828125 * time.Microsecond},
		{3, 254, 100 * time.Millisecond, 781 * time.Microsecond},
		{3, 100, 10 * time.Millisecond, 6093 * time.Microsecond},
	}
	for _, tt := range tests {
		if got := SkewTime(tt.version, tt.priority, tt.advert); got != tt.want {
			t.Errorf("SkewTime(v%d, %d, %v) = %v, want %v", tt.version, tt.priority, tt.advert, got, tt.want)
		}
	}
}

func TestBudget(t *testing.T) {
	tests := []struct {
		name string
		conf string
		want Budget
	}{
		{
			name: "seed: priority 100, script every 2 s",
			conf: readFile(t, "testdata/seed.conf"),
			want: Budget{
				Skew: 609375 * time.Microsecond, Handover: 609375 * time.Microsecond,
				MasterDown: 3609375 * time.Microsecond,
				Tracks: []TrackBudget{{Name: "chk_nginx", Detect: 4 * time.Second,
					Total: 4609375 * time.Microsecond, Fault: true}},
			},
		},
		{
			name: "nginx guard at priority 254",
			conf: `vipd_nginx_check ng {
    url http://127.0.0.1/
    interval 0.2
    timeout 0.2
    fall 1
    restart_deadline 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    priority 254
    nopreempt
    virtual_ipaddress {
        198.51.100.10
    }
    track_script {
        ng
    }
}`,
			want: Budget{
				Skew: 7812 * time.Microsecond, Handover: 7812 * time.Microsecond,
				MasterDown: 3007812 * time.Microsecond,
				Tracks: []TrackBudget{{Name: "ng", Nginx: true, Detect: 400 * time.Millisecond,
					Restart: time.Second, Total: 1407812 * time.Microsecond, Hang: 1407812 * time.Microsecond, Fault: true}},
			},
		},
		{
			name: "nginx guard with a pid file: death seen at once, a hang not restarted",
			conf: `vipd_nginx_check ng {
    url http://127.0.0.1/
    pidfile /run/nginx.pid
    interval 0.2
    timeout 0.15
    restart_deadline 1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    nopreempt
    virtual_ipaddress {
        198.51.100.10
    }
    track_script {
        ng
    }
}`,
			want: Budget{
				Skew: 609375 * time.Microsecond, Handover: 609375 * time.Microsecond,
				MasterDown: 3609375 * time.Microsecond,
				Tracks: []TrackBudget{{Name: "ng", Nginx: true, Detect: 0,
					Restart: time.Second, Total: 1609375 * time.Microsecond, Hang: 959375 * time.Microsecond, Fault: true}},
			},
		},
		{
			name: "weight with preemption: detect, next advert, preempt_delay",
			conf: `vrrp_script chk {
    script /bin/true
    interval 1
    fall 2
    weight -60
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    priority 150
    advert_int 1
    preempt_delay 2
    virtual_ipaddress {
        198.51.100.10
    }
    track_script {
        chk
    }
}`,
			want: Budget{
				Skew: 414062 * time.Microsecond, Handover: 414062 * time.Microsecond,
				MasterDown: 3414062 * time.Microsecond,
				Tracks: []TrackBudget{{Name: "chk", Detect: 3 * time.Second,
					Total: 6 * time.Second}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.conf", strings.NewReader(tt.conf))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Budget(&c.Instances[0]); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("budget:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestExplain checks the facts an operator must see, then the whole text
// against a golden file (go test -run Explain -update rewrites it).
func TestExplain(t *testing.T) {
	tests := []struct {
		file     string
		contains []string
		absent   []string
	}{
		{
			file: "testdata/seed.conf",
			contains: []string{
				"vrrp_instance VI_1 (testdata/seed.conf:9)\n",
				"  priority             100 (default)\n",
				"  advert_int           1s\n",
				"  preempt              no (nopreempt)\n",
				"  virtual_ipaddress    172.31.13.242/32 dev eth0\n",
				"  authentication       PASS, 8-character password\n",
				"    Skew_Time              (256-100)/256 s                              0.609s\n",
				"    graceful handover      Skew_Time                                    0.609s\n",
				"    silent crash           3×1s + Skew_Time                             3.609s\n",
				"    chk_nginx fails        2s×1 + 2s + Skew_Time                        4.609s\n",
				"  hint: at priority 100 every handover waits Skew_Time 0.609s",
				"cuts it to 0.008s",
				"  timeout              2s (default: same as interval)\n",
			},
			absent: []string{"qwert"},
		},
		{
			file: "sample.conf",
			contains: []string{
				"  priority             254\n",
				"    Skew_Time              (256-254)/256 s                              0.008s\n",
				"    nginx dies (nginx)     0.2s×1 + 1s restart + Skew_Time              1.208s\n",
				"    nginx hangs (nginx)    0.2s×2 + 0.2s + Skew_Time                    0.608s\n",
				"  start_command        systemctl start nginx\n",
			},
			absent: []string{"hint:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c, err := Load(tt.file)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var b bytes.Buffer
			if err := c.Explain(&b); err != nil {
				t.Fatalf("Explain: %v", err)
			}
			out := b.String()
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q", s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("output contains %q", s)
				}
			}
			golden := strings.TrimSuffix(tt.file, ".conf") + ".explain"
			if !strings.HasPrefix(golden, "testdata/") {
				golden = "testdata/" + golden
			}
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := readFile(t, golden); out != want {
				t.Errorf("Explain differs from %s (rerun with -update after checking):\n%s", golden, out)
			}
		})
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
