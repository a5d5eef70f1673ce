//go:build linux

package demo

import (
	"bytes"
	"slices"
	"testing"

	"github.com/vipkit/vip/node/config"
)

// The lab's keepalived.conf, written with node/config, parses back without
// an error or a warning (NewLab also runs the real `vipd -t` on it).
func TestLabConfig(t *testing.T) {
	for i, name := range []string{"n1", "n2"} {
		text, err := labConfig(name, "eth0", "/lab/"+name+"/nginx/nginx.pid", labCtl, i).MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		c, err := config.Parse(name+".conf", bytes.NewReader(text))
		if err != nil || len(c.Warnings) > 0 {
			t.Fatalf("%s: %v %v\n%s", name, err, c.Warnings, text)
		}
		k, in := c.NginxChecks[0], c.Instances[0]
		if k.PIDFile != "/lab/"+name+"/nginx/nginx.pid" || !slices.Equal(k.StartCommand, []string{labCtl, "nginx", "start"}) ||
			in.Priority != 150-50*i || in.VIPs[0].Dev != "eth0" || !in.Nopreempt || len(in.Tracks) != 1 {
			t.Errorf("%s:\n%s", name, text)
		}
	}
}
