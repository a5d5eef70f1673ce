package migrate

import (
	"strings"
	"testing"
)

func TestMainUsage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"-h"}, 0, "Moves a running keepalived pair to vipd"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
		{nil, 2, "no cluster"},
		{[]string{"--node", "a=root@198.51.100.1", "--vip", "198.51.100.100"}, 2, "has 1 nodes; a pair has two"},
	}
	for _, tt := range tests {
		var out, errOut strings.Builder
		if code := Main(nil, tt.args, strings.NewReader(""), &out, &errOut); code != tt.code || !strings.Contains(errOut.String(), tt.stderr) {
			t.Errorf("Main(%q) = %d, %q; want %d, %q", tt.args, code, errOut.String(), tt.code, tt.stderr)
		}
	}
}
