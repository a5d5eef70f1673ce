package console

import (
	"errors"
	"testing"

	"github.com/vipkit/vip/node/control"
	"github.com/vipkit/vip/ui"
)

func TestSettled(t *testing.T) {
	node := func(connected bool, role control.State, held, known bool) NodeState {
		n := NodeState{Connected: connected, Roles: map[string]control.State{"VI_1": role}, VIP: map[string]bool{}}
		if known {
			n.VIP["VI_1"] = held
		}
		return n
	}
	ok := ui.ProbeSample{OK: true, Backend: "a"}
	for _, tc := range []struct {
		name  string
		nodes map[string]NodeState
		probe ui.ProbeSample
		want  string
	}{
		{"master and backup", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", false, true)}, ok, "a"},
		{"master and fault", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "FAULT", false, true)}, ok, "a"},
		{"probe elsewhere", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", false, true)}, ui.ProbeSample{OK: true, Backend: "b"}, ""},
		{"probe failing", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", false, true)}, ui.ProbeSample{}, ""},
		{"VIP unconfirmed", map[string]NodeState{"a": node(true, "MASTER", false, false), "b": node(true, "BACKUP", false, true)}, ok, ""},
		{"VIP not followed", map[string]NodeState{"a": node(true, "MASTER", false, true), "b": node(true, "BACKUP", false, true)}, ok, ""},
		{"backup holds the VIP", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "BACKUP", true, true)}, ok, ""},
		{"two masters", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(true, "MASTER", true, true)}, ok, ""},
		{"no master", map[string]NodeState{"a": node(true, "BACKUP", false, true), "b": node(true, "BACKUP", false, true)}, ok, ""},
		{"peer disconnected", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": node(false, "BACKUP", false, true)}, ok, ""},
		{"peer failing", map[string]NodeState{"a": node(true, "MASTER", true, true), "b": {Connected: true, Err: errors.New("x"),
			Roles: map[string]control.State{"VI_1": "BACKUP"}, VIP: map[string]bool{"VI_1": false}}}, ok, ""},
		{"nothing yet", map[string]NodeState{}, ok, ""},
	} {
		got, settled := PairState{Nodes: tc.nodes, Probe: tc.probe}.Settled()
		if got != tc.want || settled != (tc.want != "") {
			t.Errorf("%s: Settled = %q, %v; want %q", tc.name, got, settled, tc.want)
		}
	}
}

func TestApplyUpdate(t *testing.T) {
	n := NodeState{Roles: map[string]control.State{}, VIP: map[string]bool{}}
	st := control.Status{Instances: []control.Instance{{Name: "VI_1", State: "BACKUP"}}}
	applyUpdate(&n, ui.Update{Event: &control.Event{Type: control.EventSnapshot, Snapshot: &st}})
	if n.Roles["VI_1"] != "BACKUP" || n.VIP["VI_1"] {
		t.Fatalf("after the snapshot: %+v", n)
	}
	applyUpdate(&n, ui.Update{Event: &control.Event{Type: control.EventTransition, Instance: "VI_1", To: "MASTER"}})
	if _, known := n.VIP["VI_1"]; n.Roles["VI_1"] != "MASTER" || known {
		t.Fatalf("after the transition: %+v; want MASTER with the VIP unknown", n)
	}
	applyUpdate(&n, ui.Update{Err: errors.New("watch ended")})
	st.Instances[0].State, st.Instances[0].VIPPresent = "MASTER", true
	applyUpdate(&n, ui.Update{Status: &st})
	if n.Roles["VI_1"] != "MASTER" || !n.VIP["VI_1"] || n.Err != nil {
		t.Fatalf("after the status: %+v; want MASTER holding the VIP, no error", n)
	}
}
