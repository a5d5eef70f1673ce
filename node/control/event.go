package control

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// EventType says what an Event reports. Consumers must skip types they do
// not know: new types keep the contract version.
type EventType string

// Event types.
const (
	EventSnapshot   EventType = "snapshot"   // Snapshot: the full Status; first on every watch
	EventStatus     EventType = "status"     // Status: the full Status, when the watch asked (Request.StatusEvery)
	EventTransition EventType = "transition" // Instance moved From -> To for Reason; Master
	EventCheck      EventType = "check"      // Guard's Check result
	EventVerdict    EventType = "verdict"    // Guard's Verdict changed, for Reason
	EventAction     EventType = "action"     // Action requested for Instance ("" = all) By, Peer, Reason
	EventNotify     EventType = "notify"     // a notify hook of Instance ran: Notify
	EventError      EventType = "error"      // Error; the last event when vipd ends a watch
)

// Event is one line of `vipd watch --json`. Which fields are set depends on
// Type; doc.go lists them.
type Event struct {
	Contract int       `json:"contract"` // set to ContractVersion when encoded
	Time     time.Time `json:"time"`
	Type     EventType `json:"type"`
	Instance string    `json:"instance,omitempty"` // the VRRP instance concerned, if any

	Snapshot *Status `json:"snapshot,omitempty"` // snapshot
	Status   *Status `json:"status,omitempty"`   // status

	From   State      `json:"from,omitempty"`   // transition
	To     State      `json:"to,omitempty"`     // transition
	Master netip.Addr `json:"master,omitzero"`  // transition: the master after it, if known
	Reason string     `json:"reason,omitempty"` // transition, verdict, action

	Guard   string  `json:"guard,omitempty"`   // check, verdict: "nginx" or a vrrp_script name
	Check   *Check  `json:"check,omitempty"`   // check
	Verdict Verdict `json:"verdict,omitempty"` // verdict

	Action Cmd    `json:"action,omitempty"` // action: fault or resume
	By     string `json:"by,omitempty"`     // action: who asked, as the client said
	Peer   *Peer  `json:"peer,omitempty"`   // action: who asked, as the kernel says

	Notify *Notify `json:"notify,omitempty"` // notify

	Error string `json:"error,omitempty"` // error
}

// MarshalJSON stamps the contract version.
func (e Event) MarshalJSON() ([]byte, error) {
	type event Event
	e.Contract = ContractVersion
	return json.Marshal(event(e))
}

// Notify is a notify hook run (keepalived's notify_master, notify_backup,
// notify_fault, notify_stop and notify).
type Notify struct {
	Hook     string `json:"hook"`            // notify_master, ...
	Command  string `json:"command"`         // as configured
	Exit     int    `json:"exit"`            // exit status; -1 if it did not exit (see Error)
	Error    string `json:"error,omitempty"` // killed, timed out, failed to start
	Duration Millis `json:"duration_ms"`
}

// Peer is the process at the other end of the control socket, from the
// kernel (SO_PEERCRED), so it cannot lie. Over SSH it is the `vipd ctl`
// process; By then says who ran it.
type Peer struct {
	PID int `json:"pid"`
	UID int `json:"uid"`
	GID int `json:"gid"`
}

func (p *Peer) String() string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprintf("pid %d uid %d", p.PID, p.UID)
}
