package ui

import (
	"errors"
	"testing"

	"github.com/vipkit/vip/node/control"
)

func TestSettled(t *testing.T) {
	node := func(connected bool, role control.State, held, known bool) NodeState {
		n := NodeState{Connected: connected, Live: connected, Roles: map[string]control.State{"VI_1": role}, VIP: map[string]bool{}}
		if known {
			n.VIP["VI_1"] = held
		}
		return n
	}
	ok := ProbeSample{OK: true, Backend: "a"}
	for _, tc := range []struct {
		name  string
		nodes map[string]NodeState
		probe ProbeSample
		want  string
	}{
		{"master and backup", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", false, true)}, ok, "a"},
		{"master and fault", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "FAULT", false, true)}, ok, "a"},
		{"probe elsewhere", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", false, true)}, ProbeSample{OK: true, Backend: "b"}, ""},
		{"probe failing", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", false, true)}, ProbeSample{}, ""},
		{"VIP unconfirmed", map[string]NodeState{"a": node(true, "MASTER", false, false), "b": node(true, "BACKUP", false, true)}, ok, ""},
		{"VIP not followed", map[string]NodeState{"a": node(true, "MASTER", false, true), "b": node(true, "BACKUP", false, true)}, ok, ""},
		{"backup holds the VIP", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", true, true)}, ok, ""},
		{"two masters", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "MASTER", true, true)}, ok, ""},
		{"no master", map[string]NodeState{"a": node(true, "BACKUP", false, true), "b": node(true, "BACKUP", false, true)}, ok, ""},
		{"peer disconnected", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(false, "BACKUP", false, true)}, ok, ""},
		{"peer failing", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": {Connected: true, Live: false, Err: errors.New("x"),
			Roles: map[string]control.State{"VI_1": "BACKUP"}, VIP: map[string]bool{"VI_1": false}}}, ok, ""},
		{"nothing yet", map[string]NodeState{}, ok, ""},
	} {
		got, settled := PairState{Nodes: tc.nodes, Probe: tc.probe}.Settled()
		if got != tc.want || settled != (tc.want != "") {
			t.Errorf("%s: Settled = %q, %v; want %q", tc.name, got, settled, tc.want)
		}
	}
}
