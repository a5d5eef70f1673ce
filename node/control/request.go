package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// Cmd names a request.
type Cmd string

// Commands.
const (
	CmdStatus Cmd = "status" // answered by one Status
	CmdWatch  Cmd = "watch"  // answered by a snapshot Event, then Events until the client closes
	CmdFault  Cmd = "fault"  // answered by a Response
	CmdResume Cmd = "resume" // answered by a Response
)

// Limits on request fields: they end up in logs, events and hook
// arguments.
const (
	maxInstanceLen = 128
	maxTextLen     = 512 // reason, by
)

// Bounds of Request.StatusEvery. A status costs vipd a read of every VIP
// from the kernel: a watcher gets at most ten a second. The upper bound
// keeps the value exact on the wire, where it is a float64.
const (
	MinStatusEvery = 100 * time.Millisecond
	MaxStatusEvery = time.Hour
)

// Request is one request line.
type Request struct {
	Contract int    `json:"contract"` // set to ContractVersion when encoded; 0 is accepted
	Cmd      Cmd    `json:"cmd"`
	Instance string `json:"instance,omitempty"` // fault, resume: "" means every instance
	Reason   string `json:"reason,omitempty"`   // fault, resume: why, for logs and events
	By       string `json:"by,omitempty"`       // fault, resume: who asks (user, host, tool)
	// StatusEvery, for watch, asks for a status event this often and
	// right after each transition; 0 means none. Less than MinStatusEvery
	// is taken as MinStatusEvery; more than MaxStatusEvery is refused.
	StatusEvery Millis `json:"status_every_ms,omitempty"`

	// Peer is filled in by Serve from the socket's credentials; it is
	// never read from the wire.
	Peer *Peer `json:"-"`
}

// MarshalJSON stamps the contract version.
func (r Request) MarshalJSON() ([]byte, error) {
	type request Request
	r.Contract = ContractVersion
	return json.Marshal(request(r))
}

// Response answers fault and resume, and any request vipd refuses.
type Response struct {
	Contract int    `json:"contract"` // set to ContractVersion when encoded
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"` // why not OK
}

// MarshalJSON stamps the contract version.
func (r Response) MarshalJSON() ([]byte, error) {
	type response Response
	r.Contract = ContractVersion
	return json.Marshal(response(r))
}

// parseRequest decodes and checks one request line. Unknown fields are
// ignored: a newer client may add some.
func parseRequest(line []byte) (Request, error) {
	var r Request
	if err := json.Unmarshal(line, &r); err != nil {
		return Request{}, fmt.Errorf("malformed request: %w", err)
	}
	// 0: a hand-typed request (socat) need not say.
	if r.Contract != 0 && r.Contract != ContractVersion {
		return Request{}, fmt.Errorf("request speaks contract %d, this vipd speaks %d: use a matching vipd and console",
			r.Contract, ContractVersion)
	}
	switch r.Cmd {
	case CmdStatus, CmdWatch, CmdFault, CmdResume:
	case "":
		return Request{}, errors.New(`malformed request: no "cmd"`)
	default:
		return Request{}, fmt.Errorf("unknown cmd %.32q (want status, watch, fault or resume)", r.Cmd)
	}
	if err := checkText("instance", r.Instance, maxInstanceLen); err != nil {
		return Request{}, err
	}
	if err := checkText("reason", r.Reason, maxTextLen); err != nil {
		return Request{}, err
	}
	if err := checkText("by", r.By, maxTextLen); err != nil {
		return Request{}, err
	}
	switch d := r.StatusEvery.Duration(); {
	case d < 0:
		return Request{}, errors.New("status_every_ms is negative")
	case d > MaxStatusEvery:
		return Request{}, fmt.Errorf("status_every_ms above %d (an hour)", MaxStatusEvery.Milliseconds())
	}
	// What the wire can carry, so that a request reads back as it came.
	r.StatusEvery = Millis(r.StatusEvery.Duration().Round(time.Microsecond))
	return r, nil
}

// checkText accepts printable UTF-8 of at most max bytes.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return fmt.Errorf("%s contains control character %U", field, r)
		}
	}
	return nil
}
