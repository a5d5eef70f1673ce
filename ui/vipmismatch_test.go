package ui

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/vipkit/vip/node/control"
)

// A node that heard its peer advertise other VIPs than its own shows a
// banner naming the peer and what differs, one per node, until
// strangerRecent has passed; at 80 columns the facts fit (wrapped when
// they must); the node's details count the adverts.
func TestVIPListMismatchBanner(t *testing.T) {
	two := []netip.Addr{netip.MustParseAddr("198.51.100.100"), netip.MustParseAddr("198.51.100.101")}
	moved := []netip.Addr{netip.MustParseAddr("198.51.100.101")}
	tests := []struct {
		name   string
		width  int
		theirs []netip.Addr
		heard  []time.Duration // by node, since the last differing advert; <0: none
		want   []string        // lines of the screen, whole
	}{
		{"backup hears the master's new list", 80, two, []time.Duration{-1, time.Second},
			[]string{"VIP LIST MISMATCH VI_1 on nginx-02: peer 198.51.100.11 adds 198.51.100.101"}},
		{"both heard the other", 80, two, []time.Duration{2 * time.Second, time.Second},
			[]string{"VIP LIST MISMATCH VI_1 on nginx-01: peer 198.51.100.12 adds 198.51.100.101",
				"VIP LIST MISMATCH VI_1 on nginx-02: peer 198.51.100.11 adds 198.51.100.101"}},
		{"a VIP moved: one line wrapped in two", 80, moved, []time.Duration{-1, time.Second},
			[]string{"VIP LIST MISMATCH VI_1 on nginx-02: peer 198.51.100.11 adds 198.51.100.101,",
				"lacks 198.51.100.100"}}, // indented
		{"a VIP moved, wide", 140, moved, []time.Duration{-1, time.Second},
			[]string{"VIP LIST MISMATCH VI_1 on nginx-02: peer 198.51.100.11 adds 198.51.100.101, lacks 198.51.100.100"}},
		{"long ago", 80, two, []time.Duration{-1, strangerRecent + time.Second}, nil},
	}
	peers := []netip.Addr{addr2, addr1}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab(t)
			l.resize(tt.width, 24)
			l.steady()
			for i, st := range []control.State{control.StateMaster, control.StateBackup} {
				in := l.instance(st, 100, st == control.StateMaster)
				if ago := tt.heard[i]; ago >= 0 {
					in.MismatchPeer, in.MismatchAt = peers[i], t0.Add(-ago)
					in.MismatchAddresses = tt.theirs
					in.Stats.AddressMismatch = 5
				}
				l.send(i, Update{Status: status(l.name(i), in)})
			}
			screen := l.screen()
			if tt.want == nil {
				lacks(t, screen, "VIP LIST MISMATCH")
				return
			}
			lines := strings.Split(screen, "\n")
			for _, w := range tt.want {
				if !containsLine(lines, w) {
					t.Errorf("no line is %q:\n%s", w, screen)
				}
			}
			if tt.heard[0] < 0 {
				l.apply(press("tab")) // the details of the node that heard it
			}
			l.apply(press("enter"))
			contains(t, l.screen(), "vip list mismatches")
		})
	}
}

// containsLine says whether one of lines is want, but for the spaces
// around it.
func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == want {
			return true
		}
	}
	return false
}

// A banner longer than two lines is cut, and every line fits the width.
func TestBannerLines(t *testing.T) {
	s := DefaultStyles()
	text := "VIP LIST MISMATCH VI_1 on nginx-02: peer 2001:db8::11 adds 2001:db8::100 2001:db8::101 2001:db8::102 2001:db8::103, lacks 2001:db8::200"
	for _, w := range []int{40, 80} {
		lines := bannerLines(s.ConfigMismatch, text, w)
		if len(lines) > maxBannerLines {
			t.Errorf("%d columns: %d lines, want at most %d", w, len(lines), maxBannerLines)
		}
		for _, l := range lines {
			if got := ansi.StringWidth(l); got > w {
				t.Errorf("%d columns: a line of %d: %q", w, got, l)
			}
		}
		if last := lines[len(lines)-1]; w == 40 && !strings.Contains(last, "…") {
			t.Errorf("40 columns: the last line %q is not marked cut", last)
		}
	}
}
