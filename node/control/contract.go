package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ContractVersion is the version of the contract this package speaks. Every
// document carries it as "contract". Adding a field, an event type, a state
// or a drop reason keeps the version; renaming, removing or changing the
// meaning or type of anything bumps it.
const ContractVersion = 1

// MaxLineSize caps one document (one line) in either direction.
const MaxLineSize = 1 << 20

// DefaultSocketPath is where vipd listens unless told otherwise.
const DefaultSocketPath = "/run/vipd/control.sock"

// ErrLineTooLong reports a line longer than MaxLineSize.
var ErrLineTooLong = errors.New("line longer than 1 MiB")

// A VersionError reports a document of another contract version than this
// package's. Got is 0 when the document carries no version at all.
type VersionError struct {
	Got  int // the document's contract
	Want int // ContractVersion
}

func (e *VersionError) Error() string {
	switch {
	case e.Got == 0:
		return fmt.Sprintf("vipd sent no contract version, this console needs %d: not vipd's output, or vipd too old: upgrade vipd", e.Want)
	case e.Got < e.Want:
		return fmt.Sprintf("vipd speaks contract %d, this console needs %d: upgrade vipd", e.Got, e.Want)
	default:
		return fmt.Sprintf("vipd speaks contract %d, this console needs %d: upgrade the console", e.Got, e.Want)
	}
}

// A RemoteError is vipd refusing a request ({"ok":false,"error":...}).
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return "vipd: " + e.Msg }

// header is what every document shares, read before the document itself:
// "contract", "ok" and "error" keep their meaning in every version, so a
// console can always show vipd's error or say which side to upgrade.
type header struct {
	Contract *int    `json:"contract"`
	OK       *bool   `json:"ok"`
	Error    string  `json:"error"`
	Type     string  `json:"type"`
	Cmd      *string `json:"cmd"`
}

// checkHeader reads data's header and returns an error unless data is a
// document of this contract version that does not report a failure.
func checkHeader(data []byte) (header, error) {
	var h header
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("malformed document: %w", err)
	}
	if h.OK != nil && !*h.OK {
		msg := h.Error
		if msg == "" {
			msg = "request failed"
		}
		return h, &RemoteError{Msg: msg}
	}
	got := 0
	if h.Contract != nil {
		got = *h.Contract
	}
	if got != ContractVersion {
		return h, &VersionError{Got: got, Want: ContractVersion}
	}
	return h, nil
}

// Millis is a duration that travels as a JSON number of milliseconds with
// microsecond precision (1.234), the unit of every *_ms field.
type Millis time.Duration

// Duration returns m as a time.Duration.
func (m Millis) Duration() time.Duration { return time.Duration(m) }

func (m Millis) MarshalJSON() ([]byte, error) {
	return marshalUnit(time.Duration(m), 1e6), nil
}

func (m *Millis) UnmarshalJSON(b []byte) error {
	d, err := unmarshalUnit(b, 1e6)
	if err != nil {
		return fmt.Errorf("bad milliseconds: %w", err)
	}
	*m = Millis(d)
	return nil
}

// Seconds is a duration that travels as a JSON number of seconds, as
// keepalived writes adver_int (1, 0.1).
type Seconds time.Duration

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }

func (s Seconds) MarshalJSON() ([]byte, error) {
	return marshalUnit(time.Duration(s), 1e9), nil
}

func (s *Seconds) UnmarshalJSON(b []byte) error {
	d, err := unmarshalUnit(b, 1e9)
	if err != nil {
		return fmt.Errorf("bad seconds: %w", err)
	}
	*s = Seconds(d)
	return nil
}

// marshalUnit writes d in units of unit nanoseconds, rounded to the
// microsecond so that the shortest decimal (0.1, 1.234) comes out.
func marshalUnit(d time.Duration, unit float64) []byte {
	d = d.Round(time.Microsecond)
	return strconv.AppendFloat(nil, float64(d)/unit, 'f', -1, 64)
}

func unmarshalUnit(b []byte, unit float64) (time.Duration, error) {
	if string(b) == "null" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, err
	}
	ns := math.Round(f * unit)
	// float64(math.MaxInt64) is 2^63, itself out of range.
	if math.IsNaN(ns) || ns >= 1<<63 || ns < -(1<<63) {
		return 0, fmt.Errorf("%s out of range", b)
	}
	return time.Duration(ns), nil
}
