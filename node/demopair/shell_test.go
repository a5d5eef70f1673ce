package demopair

import (
	"slices"
	"testing"
)

func TestSplitWords(t *testing.T) {
	for in, want := range map[string][]string{
		"vipd status --json":                                   {"vipd", "status", "--json"},
		"  vipd   watch\t--json ":                              {"vipd", "watch", "--json"},
		"vipd ctl fault --reason 'a drill' --by 'it'\\''s me'": {"vipd", "ctl", "fault", "--reason", "a drill", "--by", "it's me"},
		`sudo -n vipd ctl resume --by "x \"y\""`:               {"sudo", "-n", "vipd", "ctl", "resume", "--by", `x "y"`},
		"''":                                                   {""},
		"":                                                     nil,
	} {
		got, err := splitWords(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"'open", `"open`} {
		if _, err := splitWords(in); err == nil {
			t.Errorf("splitWords(%q) succeeded", in)
		}
	}
}
