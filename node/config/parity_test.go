package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Each case is a configuration of our own with a construct `vipd -t` once
// misread (issue 12): what it must now say, and must not.
func TestKeepalivedParity(t *testing.T) {
	inst := func(name string, vrid int, body string) string {
		return fmt.Sprintf("vrrp_instance %s {\n    interface eth0\n    virtual_router_id %d\n    virtual_ipaddress {\n        198.51.100.%d\n    }\n%s}\n", name, vrid, vrid, body)
	}
	tests := []struct {
		name       string
		conf       string
		errs       []string // each must be a line of the errors, in order
		warns      []string // each must be contained in some warning
		listing    []string // each must be in Explain's output
		notListing []string
		notWarn    []string
	}{
		{name: "notification_email and virtual_routes are keepalived's own blocks",
			conf: "global_defs {\n    notification_email {\n        ops@example.org\n    }\n}\n" +
				inst("VI_1", 10, "    virtual_routes {\n        198.51.100.0/24 dev eth0\n    }\n    virtual_rules {\n        from 198.51.100.10 table 7\n    }\n"),
			warns: []string{`t.conf:2: notification_email: keepalived keyword not supported by vipd in global_defs; ignored`,
				`t.conf:12: virtual_routes: keepalived keyword not supported by vipd in vrrp_instance VI_1; ignored`,
				`t.conf:15: virtual_rules: keepalived keyword not supported by vipd in vrrp_instance VI_1; ignored`},
			notWarn: []string{"would end"}},
		{name: "an unsupported feature is named once, with every place",
			conf: "virtual_server 198.51.100.10 80 {\n    delay_loop 6\n}\nvirtual_server 198.51.100.10 443 {\n}\n" +
				inst("VI_1", 10, "    smtp_alert\n") + inst("VI_2", 11, "    smtp_alert\n"),
			warns: []string{`t.conf:1: virtual_server: keepalived keyword not supported by vipd; ignored (also at t.conf:4)`,
				`t.conf:12: smtp_alert: keepalived keyword not supported by vipd in vrrp_instance VI_1; ignored (also at t.conf:20)`}},
		{name: "conditional lines: named once, and what they hold is not called missing",
			conf: "vrrp_script chk {\n@high script /bin/true\n@low script /bin/false\n}\n" + inst("VI_1", 10, "@high priority 150\n    track_script {\n        chk\n    }\n"),
			errs: []string{`t.conf:2: conditional lines (@ROUTER_ID ...) are not supported by vipd; keep one file per node (also at t.conf:3, t.conf:11)`}},
		{name: "a sync group without its group block",
			conf:    inst("VI_1", 10, "") + inst("VI_2", 11, "") + "vrrp_sync_group G {\n    VI_1\n    VI_2\n}\n",
			errs:    []string{`t.conf:15: vrrp_sync_group G: no group { ... } block: keepalived removes the group ("no virtual router(s)") and runs its instances apart; list them inside group { ... }`},
			warns:   []string{`t.conf:16: unknown keyword "VI_1" in vrrp_sync_group G; ignored`},
			notWarn: []string{"empty group block"}},
		{name: "an unknown block keyword still ends keepalived's block",
			conf:  inst("VI_1", 10, "    virtual_ipadress {\n        198.51.100.9\n    }\n"),
			warns: []string{`keepalived would end vrrp_instance VI_1 at this block's "}"`}},
		{name: "notify with a user is keepalived's user",
			conf:    inst("VI_1", 10, "    notify_master /bin/true nobody\n    notify \"/usr/local/bin/n.sh x\"\n"),
			listing: []string{"notify_master        /bin/true (as nobody)", "notify               /usr/local/bin/n.sh x INSTANCE VI_1 STATE 100"}},
		{name: "notify with a user and group",
			conf:  inst("VI_1", 10, "    notify_backup /bin/true nobody nogroup\n"),
			warns: []string{`t.conf:7: notify_backup: group nogroup: vipd runs the script with user nobody's own groups, not nogroup`}},
		{name: "a </ script runs through /bin/sh as in keepalived",
			conf:    "vrrp_script chk_web {\n    script \"</dev/tcp/127.0.0.1/80\"\n}\n" + inst("VI_1", 10, "    track_script {\n        chk_web\n    }\n"),
			warns:   []string{`t.conf:2: script "</dev/tcp/127.0.0.1/80": keepalived runs a command starting "</" with /bin/sh -c, and so does vipd; /dev/tcp and /dev/udp are bash's`},
			listing: []string{`script               /bin/sh -c '</dev/tcp/127.0.0.1/80'`}},
		{name: "a weighted track_script is a FAULT in the listing",
			conf:       "vrrp_script chk {\n    script /bin/true\n    weight -4\n}\n" + inst("VI_1", 10, "    track_script {\n        chk\n    }\n"),
			listing:    []string{"chk (vrrp_script), weight -4 (ignored: failure means FAULT)", "chk fails"},
			notListing: []string{"changes priority", "peer's priority is then higher"}},
		{name: "vrrp_strict: state MASTER must be the address owner",
			conf: "global_defs {\n    vrrp_strict\n}\n" + inst("VI_1", 10, "    state MASTER\n    priority 100\n"),
			errs: []string{`t.conf:10: state MASTER with priority 100 under vrrp_strict (t.conf:2): keepalived says "State MASTER must match being address owner" and starts the instance as BACKUP; use state MASTER only with priority 255`}},
		{name: "vrrp_strict ignores authentication",
			conf: "global_defs {\n    vrrp_strict\n}\n" + inst("VI_1", 10, "    authentication {\n        auth_type PASS\n        auth_pass secret\n    }\n"),
			errs: []string{`t.conf:10: authentication under vrrp_strict (t.conf:2): keepalived says "Strict mode does not support authentication. Ignoring." and sends none; remove the block or vrrp_strict`}},
		{name: "vrrp_strict is not emulated",
			conf:    "global_defs {\n    vrrp_strict\n}\n" + inst("VI_1", 10, ""),
			warns:   []string{`t.conf:2: vrrp_strict: vipd has no strict mode`},
			listing: []string{"vrrp_strict          yes (checked, not emulated"}},
		{name: "AH: the blocker first",
			conf: inst("VI_1", 10, "    state MASTER\n    priority 150\n    authentication {\n        auth_type AH\n        auth_pass secret\n    }\n"),
			errs: []string{`t.conf:9: authentication: auth_type AH is not supported by vipd; use PASS or no authentication (on both nodes)`}},
		{name: "a UTF-8 byte-order mark",
			conf: "\ufeff" + inst("VI_1", 10, ""),
			errs: []string{`t.conf:1: the file starts with a UTF-8 byte-order mark: keepalived reads it as part of the first keyword "vrrp_instance", does not know that keyword and ignores its line and block; save the file without the mark`}},
		{name: "sync group",
			conf: inst("VI_1", 10, "") + inst("VI_2", 11, "") +
				"vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    notify_master \"/bin/echo both\"\n    notify /bin/logger\n}\n",
			listing: []string{"vrrp_sync_group      G (t.conf:", "group                VI_1, VI_2 (MASTER, BACKUP and FAULT together",
				"notify_master        /bin/echo both", "notify               /bin/logger GROUP G STATE 0"}},
		{name: "sync group members that do not exist or are taken",
			conf: inst("VI_1", 10, "") + inst("VI_2", 11, "") +
				"vrrp_sync_group G {\n    group {\n        VI_1 VI_3\n    }\n}\nvrrp_sync_group H {\n    group {\n        VI_1\n        VI_2\n    }\n}\n",
			errs: []string{`t.conf:17: vrrp_sync_group G: no vrrp_instance VI_3; keepalived would ignore this member with only a log line`,
				`t.conf:22: vrrp_sync_group H: vrrp_instance VI_1 is already in vrrp_sync_group G; an instance can be in one group only (keepalived would ignore this member)`},
			warns: []string{`vrrp_sync_group H: only one member, VI_2`}},
		{name: "sync group tracking applies to every member",
			conf: "vrrp_script chk {\n    script /bin/true\n}\n" + inst("VI_1", 10, "") + inst("VI_2", 11, "") +
				"vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n    track_interface {\n        eth1\n    }\n    track_script {\n        chk weight -5\n    }\n    track_file {\n        f\n    }\n}\n",
			warns: []string{`t.conf:27: track_script chk: weight -5: vipd does not change priorities; a failure puts every member of vrrp_sync_group G in FAULT, as weight 0 does`,
				`t.conf:29: track_file: keepalived keyword not supported by vipd in vrrp_sync_group G; ignored`},
			notWarn: []string{"not tracked by any"},
			listing: []string{"track_script         chk (vrrp_script), weight -5 (ignored: failure means FAULT)", "track_interface      eth1, weight 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.conf", strings.NewReader(tt.conf))
			var list ErrorList
			if err != nil && !errors.As(err, &list) {
				t.Fatal(err)
			}
			if got := strs(list); len(tt.errs) > 0 && !reflect.DeepEqual(got, tt.errs) {
				t.Errorf("errors:\n got %q\nwant %q", got, tt.errs)
			} else if len(tt.errs) == 0 && err != nil {
				t.Errorf("unexpected errors: %v", err)
			}
			warns := strings.Join(strs(c.Warnings), "\n")
			for _, w := range tt.warns {
				if !strings.Contains(warns, w) {
					t.Errorf("no warning %q in:\n%s", w, warns)
				}
			}
			for _, w := range tt.notWarn {
				if strings.Contains(warns, w) {
					t.Errorf("warning with %q:\n%s", w, warns)
				}
			}
			if err != nil {
				return
			}
			var b bytes.Buffer
			if err := c.Explain(&b); err != nil {
				t.Fatal(err)
			}
			for _, l := range tt.listing {
				if !strings.Contains(b.String(), l) {
					t.Errorf("listing lacks %q:\n%s", l, b.String())
				}
			}
			for _, l := range tt.notListing {
				if strings.Contains(b.String(), l) {
					t.Errorf("listing has %q:\n%s", l, b.String())
				}
			}
			// What the listing shows, MarshalText writes back.
			text, err := c.MarshalText()
			if err != nil {
				t.Fatal(err)
			}
			c2, err := Parse("t2.conf", bytes.NewReader(text))
			if err != nil {
				t.Fatalf("reparse: %v\n%s", err, text)
			}
			if !reflect.DeepEqual(c2.SyncGroups, withPos(c.SyncGroups, c2.SyncGroups)) {
				t.Errorf("sync groups after MarshalText: %+v, want %+v", c2.SyncGroups, c.SyncGroups)
			}
		})
	}
}

// withPos returns want with the positions of got, which a written file
// cannot keep.
func withPos(want, got []SyncGroup) []SyncGroup {
	if len(want) != len(got) || len(want) == 0 {
		return want
	}
	out := make([]SyncGroup, len(want))
	for i := range want {
		out[i] = want[i]
		out[i].Pos = got[i].Pos
		// MarshalText writes the group's tracking in each member.
		out[i].Tracks, out[i].TrackInterfaces = got[i].Tracks, got[i].TrackInterfaces
		out[i].Notify.At = got[i].Notify.At
		for k, v := range out[i].Notify.RunAs {
			v.Pos = got[i].Notify.RunAs[k].Pos
			out[i].Notify.RunAs[k] = v
		}
	}
	return out
}

// A file with 35,576 errors says so, not the 1,000 it lists.
func TestErrorCount(t *testing.T) {
	_, err := Parse("t.conf", strings.NewReader(strings.Repeat("}\n", 35576)))
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatal(err)
	}
	if n := list.Count(); n != 35576 {
		t.Errorf("Count = %d, want 35576 (%d listed)", n, len(list))
	}
}
