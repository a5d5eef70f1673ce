package node

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vipkit/vip/node/config"
)

// reloadHazards compares the running configuration with the one a reload
// would apply. A reload is the operator's tool for small changes; one that
// would silently give up every VIP is almost always a mistake (an editor
// left the file empty, a typo in an interface name), so those are refused
// and the running configuration is kept. Changes that are legitimate but
// must be made on the peer too are warned about.
func reloadHazards(running, next *config.Config, sys System) (refuse []string, warn []config.Diagnostic) {
	if running == nil {
		return nil, nil
	}
	if len(next.Instances) == 0 && len(running.Instances) > 0 {
		refuse = append(refuse, fmt.Sprintf("the new file has no vrrp_instance: it would stop %s and give up their VIPs (stop vipd to do that)",
			instanceNames(running)))
	}
	old := map[string]*config.Instance{}
	for i := range running.Instances {
		old[running.Instances[i].Name] = &running.Instances[i]
	}
	for i := range next.Instances {
		n := &next.Instances[i]
		o := old[n.Name]
		delete(old, n.Name)
		if o == nil {
			continue
		}
		if n.Interface != o.Interface && sys != nil {
			if _, err := sys.LinkUp(n.Interface); err != nil {
				refuse = append(refuse, fmt.Sprintf("%s:%d: vrrp_instance %s: interface %s not found on this host (%v): moving the running instance there would give up its VIPs",
					n.Pos.File, n.Pos.Line, n.Name, n.Interface, err))
			}
		}
		if was, is := vipList(o), vipList(n); was != is {
			warn = append(warn, config.Diagnostic{File: n.Pos.File, Line: n.Pos.Line, Msg: fmt.Sprintf(
				"vrrp_instance %s: its VIPs change from %s to %s: change the peer's file the same way (vipctl check compares them), or the old VIP is served nowhere and the new one by one node only",
				n.Name, was, is)})
		}
	}
	for _, o := range running.Instances {
		if old[o.Name] != nil {
			warn = append(warn, config.Diagnostic{File: o.Pos.File, Line: o.Pos.Line, Msg: fmt.Sprintf(
				"vrrp_instance %s is no longer in the file: it stops and gives up its VIPs %s", o.Name, vipList(&o))})
		}
	}
	return refuse, warn
}

func instanceNames(c *config.Config) string {
	var names []string
	for _, in := range c.Instances {
		names = append(names, in.Name)
	}
	return strings.Join(names, ", ")
}

// vipList writes an instance's VIP set in a stable order.
func vipList(in *config.Instance) string {
	var vs []string
	for _, v := range in.HeldVIPs() {
		vs = append(vs, v.Prefix.String())
	}
	slices.Sort(vs)
	return "[" + strings.Join(vs, " ") + "]"
}
