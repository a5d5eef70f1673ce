package config

import (
	"strings"
	"testing"
)

// An instance whose VIPs are IPv6 runs as VRRPv3 when the instance does not
// say its version, as keepalived 2.2.7 runs it (vrrp_version in global_defs
// does not apply: VRRPv2 is IPv4 only). An explicit "version 2" stays an
// error, and so does a mixed list.
func TestIPv6VersionDefault(t *testing.T) {
	inst := func(extra, vips string) string {
		return "vrrp_instance VI_6 {\n    interface eth0\n    virtual_router_id 61\n" + extra +
			"    virtual_ipaddress {\n" + vips + "    }\n}\n"
	}
	for _, tt := range []struct {
		name, conf string
		version    int
		err        string
	}{
		{name: "no version", conf: inst("", "        2001:db8::100/64\n"), version: 3},
		{name: "global vrrp_version 2", conf: "global_defs {\n    vrrp_version 2\n}\n" + inst("", "        2001:db8::100/64\n"), version: 3},
		{name: "IPv4 stays v2", conf: inst("", "        198.51.100.100\n"), version: 2},
		{name: "explicit version 2", conf: inst("    version 2\n", "        2001:db8::100/64\n"), err: "VRRPv2 is IPv4 only"},
		{name: "mixed", conf: inst("", "        2001:db8::100/64\n        198.51.100.100\n"), err: "one address family"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.conf", strings.NewReader(tt.conf))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Parse: %v, want an error about %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := c.Instances[0].Version; got != tt.version {
				t.Fatalf("version %d, want %d", got, tt.version)
			}
		})
	}
}
