package config

import (
	"bytes"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vipkit/vip/node/guard"
)

var update = flag.Bool("update", false, "rewrite testdata/*.explain golden files")

func TestBudget(t *testing.T) {
	// Skew_Time is the engine's (vrrp.Version.SkewTime), to the
	// nanosecond: vipd does not truncate to microseconds as keepalived does.
	const skew100, skew150, skew254 = 609375 * time.Microsecond, 414062500 * time.Nanosecond, 7812500 * time.Nanosecond
	tests := []struct {
		name string
		conf string
		want Budget
	}{
		{
			name: "seed: priority 100, script every 2 s",
			conf: readFile(t, "testdata/seed.conf"),
			want: Budget{
				Skew: skew100, Handover: skew100, MasterDown: 3*time.Second + skew100,
				Tracks: []TrackBudget{{Name: "chk_nginx", Detect: guard.Detection{Time: 4 * time.Second, Formula: "2s×1 + 2s"},
					Total: 4*time.Second + skew100}},
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
				Skew: skew254, Handover: skew254, MasterDown: 3*time.Second + skew254,
				Tracks: []TrackBudget{{Name: "ng", Nginx: true,
					Detect: guard.Detection{Time: 1400 * time.Millisecond, Formula: "0.2s×1 + 0.2s + 1s restart"},
					Total:  1400*time.Millisecond + skew254,
					Hang:   guard.Detection{Time: 1400 * time.Millisecond, Formula: "0.2s×1 + 0.2s + 1s restart"}, HangTotal: 1400*time.Millisecond + skew254}},
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
				Skew: skew100, Handover: skew100, MasterDown: 3*time.Second + skew100,
				Tracks: []TrackBudget{{Name: "ng", Nginx: true,
					Detect: guard.Detection{Time: time.Second, Formula: "at once (pid watched) + 1s restart"},
					Total:  time.Second + skew100,
					Hang:   guard.Detection{Time: 500 * time.Millisecond, Formula: "0.2s×1 + 0.15s + 0.15s confirm"}, HangTotal: 500*time.Millisecond + skew100}},
			},
		},
		{
			name: "pid file only, no restart: a hang is not seen",
			conf: `vipd_nginx_check ng {
    pidfile /run/nginx.pid
    restart_deadline 0
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
				Skew: skew100, Handover: skew100, MasterDown: 3*time.Second + skew100,
				Tracks: []TrackBudget{{Name: "ng", Nginx: true,
					Detect: guard.Detection{Time: 0, Formula: "at once (pid watched)"}, Total: skew100}},
			},
		},
		{
			// Was "detect + advert_int + preempt_delay, if the peer's
			// priority is then higher": vipd never lowers a priority, so a
			// weighted failure is a FAULT like any other.
			name: "a weight is a FAULT too, preempt_delay or not",
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
				Skew: skew150, Handover: skew150, MasterDown: 3*time.Second + skew150,
				Tracks: []TrackBudget{{Name: "chk", Detect: guard.Detection{Time: 3 * time.Second, Formula: "1s×2 + 1s"},
					Total: 3*time.Second + skew150}},
			},
		},
		{
			name: "VRRPv3 scales Skew_Time with advert_int",
			conf: `vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 60
    version 3
    advert_int 0.1
    virtual_ipaddress {
        198.51.100.10
    }
}`,
			want: Budget{Skew: 60937500 * time.Nanosecond, Handover: 60937500 * time.Nanosecond,
				MasterDown: 360937500 * time.Nanosecond},
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
				"    nginx hangs (nginx)    0.2s×2 + 0.2s + 0.2s confirm + Skew_Time     0.808s\n",
				"  start_command        systemctl start nginx\n",
			},
			absent: []string{"hint:"},
		},
		{
			file: "testdata/weights.conf",
			contains: []string{
				"  track_script         chk_nginx (vrrp_script), weight -20 (ignored: failure means FAULT)\n",
				"  track_script         nginx (vipd_nginx_check), weight -4 (ignored: failure means FAULT)\n",
				"    chk_nginx fails        2s×1 + 2s + Skew_Time                        4.414s\n",
				"    nginx dies (nginx)     at once (pid watched) + Skew_Time            0.414s\n",
				"    nginx hangs (nginx)    not noticed: only a url sees a hung nginx\n",
				"  restart_deadline     0s: no restart attempt\n",
			},
			// What vipd does not do: lower the priority and wait for a
			// preempting peer, or never hand over.
			absent: []string{"changes priority", "if the peer's priority", "no handover"},
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

// TestBudgetColumn: the figures stay in one column when a formula is longer
// than the usual width, and a row without a figure is left as it is.
func TestBudgetColumn(t *testing.T) {
	var b bytes.Buffer
	e := &explainer{w: &b}
	e.budget([]budgetRow{
		{"Skew_Time", "(256-150)/256 s", 414 * time.Millisecond},
		{"nginx dies (ngx)", "at once (pid watched) + 1.5s restart + Skew_Time", 1914 * time.Millisecond},
		{"nginx hangs (ngx)", "not noticed: only a url sees a hung nginx", -1},
	})
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%q", b.String())
	}
	col := func(l string) int { return len([]rune(l)) - len("0.414s") }
	if !strings.HasSuffix(lines[0], " 0.414s") || !strings.HasSuffix(lines[1], "Skew_Time 1.914s") || col(lines[0]) != col(lines[1]) {
		t.Errorf("figures not in one column:\n%s", b.String())
	}
	if lines[2] != "    nginx hangs (ngx)      not noticed: only a url sees a hung nginx" {
		t.Errorf("row without a figure: %q", lines[2])
	}
}
