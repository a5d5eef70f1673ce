package check

import (
	"errors"
	"strings"
	"testing"

	"github.com/vipkit/vip/node/config"
)

// FuzzCompare: any two files node/config returns a Config for, however
// partial, compare without a panic, and the report's lines and exit code
// agree with its findings.
func FuzzCompare(f *testing.F) {
	f.Add(base, base)
	f.Add(base, strings.Replace(base, "advert_int 1", "version 3", 1))
	// Instances without VRID or interface, matched by name.
	f.Add("vrrp_instance A {\n}\n", "vrrp_instance A {\n    unicast_peer { 198.51.100.1 }\n}\n")
	// Duplicate VIPs, one side IPv6.
	f.Add("vrrp_instance A {\n interface e\n virtual_router_id 1\n virtual_ipaddress {\n 198.51.100.1\n 198.51.100.1/24\n }\n}\n",
		"vrrp_instance A {\n interface e\n virtual_router_id 1\n version 3\n virtual_ipaddress {\n 2001:db8::1\n }\n}\n")
	f.Fuzz(func(t *testing.T, x, y string) {
		parse := func(name, s string) Node {
			c, err := config.Parse(name, strings.NewReader(s))
			var list config.ErrorList
			if err != nil && !errors.As(err, &list) || c == nil {
				t.Skip()
			}
			return Node{Name: name, Config: c, Problems: list}
		}
		r := Compare(parse("a", x), parse("b", y))
		_ = r.Lines()
		_ = r.Summary()
		if (r.ExitCode() == ExitMismatch) != (len(r.Mismatches()) > 0) {
			t.Errorf("exit %d with %d mismatches", r.ExitCode(), len(r.Mismatches()))
		}
	})
}
