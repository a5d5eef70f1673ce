package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

// fullStatus has every field set, so a round trip exercises them all.
func fullStatus() Status {
	return Status{
		Contract:    ContractVersion,
		RouterID:    "lb1",
		Hostname:    "lb1.example",
		VipdVersion: "v0.1.0",
		Time:        t0,
		PID:         4242,
		Uptime:      Millis(time.Hour + 1500*time.Microsecond),
		Instances: []Instance{{
			Name:              "VI_1",
			Interface:         "eth0",
			VRID:              60,
			Version:           3,
			AdverInt:          Seconds(100 * time.Millisecond),
			MasterAdverInt:    Seconds(time.Second),
			State:             StateBackup,
			BasePriority:      100,
			EffectivePriority: 100,
			NoPreempt:         true,
			Master:            netip.MustParseAddr("198.51.100.11"),
			MasterPriority:    150,
			VIPs:              []string{"198.51.100.100/24", "198.51.100.101/24"},
			VIPPresent:        true,
			LastAdvert:        t0.Add(-313 * time.Millisecond),
			LastAdvertAge:     Millis(313 * time.Millisecond),
			FaultReason:       "nginx failed",
			LastTransition:    t0.Add(-time.Hour),
			Transitions:       7,
			Stats: Stats{
				AdvertRcvd: 1, AdvertSent: 2, BecomeMaster: 3, ReleaseMaster: 4,
				PriZeroRcvd: 5, PriZeroSent: 6, AuthFailure: 7, IPTTLErr: 8,
				GARPSent: 9, SendErrors: 10, AddressErrors: 11, AnnounceErrors: 12,
				Drops: map[string]uint64{"auth_failure": 7, "ip_ttl_err": 8, "unknown_vrid": 1 << 60},
			},
		}},
		Nginx: &Guard{
			Name: "nginx", Healthy: false, Verdict: VerdictFailed, Since: t0,
			Reason: "not answering", URL: "http://198.51.100.11/health",
			Latency: Millis(412 * time.Microsecond), LastCheck: t0,
			LastError: "connection refused", LastErrorTime: t0,
			Checks: 1000, Restarts: 2,
			History: []Check{
				{Time: t0, OK: false, Latency: Millis(180 * time.Microsecond), Error: "connection refused", Phase: PhaseCheck},
				{Time: t0, OK: true, Latency: Millis(31700 * time.Microsecond), Phase: PhaseStart},
				{Time: t0, OK: true, Latency: Millis(520 * time.Microsecond), Phase: PhaseRestart},
			},
		},
		Scripts: []Guard{{Name: "chk_disk", Healthy: true, Verdict: VerdictHealthy, Command: "/bin/true", Checks: 3}},
	}
}

func TestRoundTrip(t *testing.T) {
	st := fullStatus()
	tests := []struct {
		name string
		doc  any // what is encoded
		// decode decodes the encoding into the same type.
		decode func([]byte) (any, error)
	}{
		{"status full", st, decStatus},
		{"status empty", Status{Contract: 1, Instances: []Instance{}}, decStatus},
		{"event snapshot", Event{Contract: 1, Time: t0, Type: EventSnapshot, Snapshot: &st}, decEvent},
		{"event status", Event{Contract: 1, Time: t0, Type: EventStatus, Status: &st}, decEvent},
		{"event transition", Event{Contract: 1, Time: t0, Type: EventTransition, Instance: "VI_1",
			From: StateBackup, To: StateMaster, Master: netip.MustParseAddr("198.51.100.12"), Reason: "master down"}, decEvent},
		{"event check", Event{Contract: 1, Time: t0, Type: EventCheck, Guard: "nginx",
			Check: &Check{Time: t0, Latency: Millis(time.Millisecond), Error: "refused", Phase: PhaseCheck}}, decEvent},
		{"event verdict", Event{Contract: 1, Time: t0, Type: EventVerdict, Guard: "nginx", Verdict: VerdictHealthy}, decEvent},
		{"event action", Event{Contract: 1, Time: t0, Type: EventAction, Instance: "VI_1", Action: CmdFault,
			Reason: "drill", By: "alice", Peer: &Peer{PID: 1, UID: 0, GID: 0}}, decEvent},
		{"event action all", Event{Contract: 1, Time: t0, Type: EventAction, Action: CmdResume}, decEvent},
		{"event notify", Event{Contract: 1, Time: t0, Type: EventNotify, Instance: "VI_1",
			Notify: &Notify{Hook: "notify_master", Command: "/x master", Exit: -1, Error: "killed", Duration: Millis(time.Second)}}, decEvent},
		{"event error", Event{Contract: 1, Time: t0, Type: EventError, Error: "boom"}, decEvent},
		{"event unknown type", Event{Contract: 1, Time: t0, Type: "future"}, decEvent},
		{"request", Request{Contract: 1, Cmd: CmdFault, Instance: "VI_1", Reason: "drill ü", By: "alice"}, decRequest},
		{"request all", Request{Contract: 1, Cmd: CmdResume}, decRequest},
		{"request watch with statuses", Request{Contract: 1, Cmd: CmdWatch, StatusEvery: Millis(1500 * time.Microsecond)}, decRequest},
		{"response ok", Response{Contract: 1, OK: true}, decResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.doc)
			if err != nil {
				t.Fatalf("failed to encode: %v", err)
			}
			if bytes.ContainsAny(b, "\n") {
				t.Fatalf("encoding spans lines: %s", b)
			}
			got, err := tt.decode(b)
			if err != nil {
				t.Fatalf("failed to decode %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.doc) {
				t.Fatalf("round trip differs:\n got %#v\nwant %#v\njson %s", got, tt.doc, b)
			}
		})
	}
}

func decStatus(b []byte) (any, error)   { return DecodeStatus(bytes.NewReader(b)) }
func decEvent(b []byte) (any, error)    { return NewEventDecoder(bytes.NewReader(b)).Next() }
func decRequest(b []byte) (any, error)  { return parseRequest(b) }
func decResponse(b []byte) (any, error) { var r Response; err := json.Unmarshal(b, &r); return r, err }

// The encoders stamp the contract whatever the value says: a document never
// claims a version this binary does not speak.
func TestContractStamped(t *testing.T) {
	for _, doc := range []any{Status{}, &Status{}, Event{Type: EventError}, Request{Cmd: CmdStatus}, Response{}} {
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte(`{"contract":1,`)) {
			t.Errorf("%T encodes as %s; want it to start with the contract", doc, b)
		}
	}
	b, _ := json.Marshal(Status{})
	if !bytes.Contains(b, []byte(`"vrrp":[]`)) {
		t.Errorf(`Status{} encodes as %s; want "vrrp":[]`, b)
	}
}

func TestUnits(t *testing.T) {
	tests := []struct {
		d       time.Duration
		ms, sec string
	}{
		{0, "0", "0"},
		{time.Second, "1000", "1"},
		{100 * time.Millisecond, "100", "0.1"},
		{412 * time.Microsecond, "0.412", "0.000412"},
		{1234567 * time.Nanosecond, "1.235", "0.001235"}, // rounded to the microsecond
		{-1500 * time.Microsecond, "-1.5", "-0.0015"},
		{90 * 24 * time.Hour, "7776000000", "7776000"},
	}
	for _, tt := range tests {
		ms, _ := json.Marshal(Millis(tt.d))
		sec, _ := json.Marshal(Seconds(tt.d))
		if string(ms) != tt.ms || string(sec) != tt.sec {
			t.Errorf("%v encodes as %s ms, %s s; want %s, %s", tt.d, ms, sec, tt.ms, tt.sec)
		}
		var m Millis
		var s Seconds
		if err := json.Unmarshal(ms, &m); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(sec, &s); err != nil {
			t.Fatal(err)
		}
		want := tt.d.Round(time.Microsecond)
		if m.Duration() != want || s.Duration() != want {
			t.Errorf("%v decodes back as %v and %v; want %v", tt.d, m.Duration(), s.Duration(), want)
		}
	}
	for _, bad := range []string{`"1"`, `true`, `1e300`, `-1e300`, `{}`} {
		var m Millis
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("Millis accepted %s as %v", bad, m.Duration())
		}
	}
}

func TestVersionError(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		got  int
		msg  string
	}{
		{"newer vipd", `{"contract":2,"router_id":"lb1"}`, 2, "vipd speaks contract 2, this console needs 1: upgrade the console"},
		{"no contract", `{"router_id":"lb1"}`, 0, "vipd sent no contract version, this console needs 1"},
		{"older vipd", `{"contract":-1}`, -1, "vipd speaks contract -1, this console needs 1: upgrade vipd"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeStatus(strings.NewReader(tt.doc))
			var ve *VersionError
			if !errors.As(err, &ve) || ve.Got != tt.got || ve.Want != ContractVersion {
				t.Fatalf("DecodeStatus error = %v; want *VersionError{Got: %d}", err, tt.got)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}

			// The same for an event; the decoder goes on after it.
			line := strings.Replace(tt.doc, `"router_id":"lb1"`, `"type":"error"`, 1)
			dec := NewEventDecoder(strings.NewReader(line + "\n" + `{"contract":1,"type":"error","error":"x"}` + "\n"))
			_, err = dec.Next()
			if !errors.As(err, &ve) || ve.Got != tt.got {
				t.Fatalf("Next error = %v; want *VersionError{Got: %d}", err, tt.got)
			}
			if !strings.HasPrefix(err.Error(), "event line 1: ") {
				t.Errorf("error %q does not name the line", err)
			}
			if ev, err := dec.Next(); err != nil || ev.Error != "x" {
				t.Errorf("after a bad line Next = %+v, %v; want the next event", ev, err)
			}
		})
	}
}

func TestDecodeStatusErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "unexpected EOF"},
		{"garbage", "hello", "invalid character"},
		{"truncated", `{"contract":1,"router_id":`, "unexpected EOF"},
		{"refusal", `{"contract":1,"ok":false,"error":"vipd is starting"}`, "vipd: vipd is starting"},
		{"event", `{"contract":1,"type":"error"}`, "got a \"error\" event"},
		{"response", `{"contract":1,"ok":true}`, "got a response"},
		{"request", `{"contract":1,"cmd":"status"}`, "got a request"},
		{"wrong type", `{"contract":1,"pid":"x"}`, "malformed status document"},
		{"array", `[1]`, "malformed document"},
		{"bad master", `{"contract":1,"vrrp":[{"master":"lb1"}]}`, "malformed status document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeStatus(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeStatus(%q) error = %v; want one containing %q", tt.doc, err, tt.want)
			}
		})
	}
	_, err := DecodeStatus(strings.NewReader(`{"contract":1,"ok":false,"error":"no"}`))
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "no" {
		t.Errorf("a refusal decodes to %v; want *RemoteError", err)
	}
}

// `vipd status --json | jq .` output still decodes.
func TestDecodeStatusIndented(t *testing.T) {
	want := fullStatus()
	b, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeStatus(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("indented status decodes differently:\n got %+v\nwant %+v", got, want)
	}
}

func TestEventDecoder(t *testing.T) {
	long := `{"contract":1,"type":"error","error":"` + strings.Repeat("x", MaxLineSize) + `"}`
	in := strings.Join([]string{
		`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"verdict","guard":"nginx","verdict":"healthy"}`,
		``,      // skipped
		"   \r", // skipped
		`{"contract":1,"type":"check","check":{"ok":true,"latency_ms":"x"}}`, // error, line 4
		long,                               // error, line 5, skipped whole
		`{"contract":1,"type":"snapshot"}`, // error: no snapshot
		`{"contract":1,"type":"snapshot","snapshot":{}}`, // error: snapshot without contract
		`{"contract":1,"ok":false,"error":"no watch for you"}`,
		`{"contract":1}`,                                         // no type
		`{"contract":1,"type":"status"}`,                         // error: no status
		`{"contract":1,"type":"status","status":{"contract":2}}`, // error: a status of contract 2
		`{"contract":1,"type":"status","status":{"contract":1}}`, // a status event
		`{"contract":1,"type":"future","x":[1,2,3]}`,             // unknown type: passed on
		`{"contract":1,"type":"error","error":"last, no newline"}`,
	}, "\r\n")
	type result struct {
		typ EventType
		err string
	}
	want := []result{
		{EventVerdict, ""},
		{"", "event line 4: malformed \"check\" event"},
		{"", "event line 5: line longer than 1 MiB"},
		{"", "event line 6: malformed snapshot event: no snapshot"},
		{"", "event line 7: vipd sent no contract version"},
		{"", "event line 8: vipd: no watch for you"},
		{"", "event line 9: malformed event: no \"type\""},
		{"", "event line 10: malformed status event: no status"},
		{"", "event line 11: vipd speaks contract 2, this console needs 1"},
		{EventStatus, ""},
		{"future", ""},
		{EventError, ""},
		{"", "EOF"},
	}
	dec := NewEventDecoder(strings.NewReader(in))
	for i, w := range want {
		ev, err := dec.Next()
		switch {
		case w.err == "" && err != nil:
			t.Fatalf("event %d: unexpected error %v", i, err)
		case w.err != "" && (err == nil || !strings.HasPrefix(err.Error(), w.err)):
			t.Fatalf("event %d: error = %v; want %q", i, err, w.err)
		case w.err == "" && ev.Type != w.typ:
			t.Fatalf("event %d: type %q; want %q", i, ev.Type, w.typ)
		}
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("after EOF Next = %v; want io.EOF", err)
	}
}
