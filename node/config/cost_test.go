package config

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// instances writes n instances at advert_int adv, VRIDs 1.. on each of
// ifaces interfaces, IPv4 or IPv6 VIPs.
func instances(n, ifaces int, adv string, ipv6 bool) string {
	var b strings.Builder
	for i := range n {
		vip := fmt.Sprintf("198.51.100.%d", i%200+51)
		if ipv6 {
			vip = fmt.Sprintf("2001:db8:5100::1:%x", i)
		}
		fmt.Fprintf(&b, "vrrp_instance VI_%d {\n interface eth%d\n virtual_router_id %d\n version 3\n advert_int %s\n virtual_ipaddress {\n  %s\n }\n}\n",
			i, i%ifaces, i/ifaces+1, adv, vip)
	}
	return b.String()
}

func TestCost(t *testing.T) {
	for _, tt := range []struct {
		name     string
		conf     string
		want     Cost
		measured bool
	}{
		{"100 at 0.1 s", instances(100, 1, "0.1", false), Cost{Instances: 100, Sockets: 1, Adverts: 1000}, true},
		{"1,000 at 1 s over four interfaces", instances(1000, 4, "1", true), Cost{Instances: 1000, Sockets: 4, Adverts: 1000}, true},
		{"200 at 0.1 s", instances(200, 1, "0.1", false), Cost{Instances: 200, Sockets: 1, Adverts: 2000}, false},
		{"1,020 at 1 s", instances(1020, 4, "1", true), Cost{Instances: 1020, Sockets: 4, Adverts: 1020}, false},
		{"both families on one interface", instances(1, 1, "1", false) + strings.Replace(instances(1, 1, "1", true), "VI_0", "VI_6", 1),
			Cost{Instances: 2, Sockets: 2, Adverts: 2}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.conf", strings.NewReader(tt.conf))
			if err != nil {
				t.Fatal(err)
			}
			k := c.Cost()
			if k.Instances != tt.want.Instances || k.Sockets != tt.want.Sockets || int(k.Adverts+0.5) != int(tt.want.Adverts) {
				t.Errorf("Cost() = %+v, want %+v", k, tt.want)
			}
			if k.Measured() != tt.measured {
				t.Errorf("Measured() = %v, want %v", k.Measured(), tt.measured)
			}
			var out bytes.Buffer
			if err := c.Explain(&out); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(out.String(), "beyond what the benchmark measured"); got == tt.measured {
				t.Errorf("Explain says the cost: %v, want %v", got, !tt.measured)
			}
		})
	}
}
