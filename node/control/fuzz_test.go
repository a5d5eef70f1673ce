package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzControlFrame feeds arbitrary bytes to everything that reads the wire:
// the server's request parser, the event decoder, the status decoder and
// the line reader. None may panic or loop; what they accept must come out
// of the encoder in a form they accept again, unchanged.
func FuzzControlFrame(f *testing.F) {
	seeds := []string{
		// Valid requests, and the hand-typed form without a contract.
		`{"contract":1,"cmd":"status"}`,
		`{"cmd":"fault","instance":"VI_1","reason":"drill","by":"alice"}`,
		`{"cmd":"resume"}` + "\r\n" + `{"cmd":"watch"}`,
		// Keys match case-insensitively in encoding/json: the header and
		// the document must agree on which one wins.
		`{"contract":1,"Contract":2,"cmd":"status","CMD":"watch"}`,
		`{"contract":1,"type":"x","TYPE":"snapshot"}`,
		// Trailing data, a second document, deep nesting.
		`{"cmd":"status"} {"cmd":"status"}`,
		strings.Repeat("[", 10001),
		// Lone surrogates and invalid UTF-8 become U+FFFD on decoding.
		`{"cmd":"fault","reason":"\ud800"}`,
		"{\"cmd\":\"fault\",\"reason\":\"\xff\"}",
		// Every event type.
		`{"contract":1,"time":"2025-01-02T03:04:05.678Z","type":"transition","instance":"VI_1","from":"BACKUP","to":"MASTER","master":"198.51.100.12","reason":"master down"}`,
		`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"check","guard":"nginx","check":{"time":"2025-01-02T03:04:05Z","ok":false,"latency_ms":0.21,"error":"refused","phase":"check"}}`,
		`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"action","action":"fault","by":"a","peer":{"pid":1,"uid":0,"gid":0}}`,
		`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"notify","notify":{"hook":"notify","command":"x","exit":-1,"duration_ms":1e3}}`,
		`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"snapshot","snapshot":{"contract":1,"vrrp":[{"iname":"VI_1","adver_int":0.1,"stats":{"drops":{"a":1}}}],"nginx":{"history":[{"ok":true}]}}}`,
		`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"status","status":{"contract":1,"vrrp":[{"iname":"VI_1","state":"MASTER","vip_present":true}]}}`,
		`{"cmd":"watch","status_every_ms":0.0004}`, // below the microsecond the wire keeps
		`{"cmd":"watch","status_every_ms":3600000}`,
		// A snapshot without one, or of another contract.
		`{"contract":1,"type":"snapshot"}`,
		`{"contract":1,"type":"snapshot","snapshot":{"contract":2}}`,
		`{"contract":1,"type":"status"}`,
		`{"contract":1,"type":"status","status":{"contract":2}}`,
		// Durations out of range, or below the microsecond.
		`{"contract":1,"type":"check","check":{"latency_ms":1e300}}`,
		`{"contract":1,"type":"check","check":{"latency_ms":-9223372036854.775808}}`,
		`{"contract":1,"type":"check","check":{"latency_ms":1e-7}}`,
		`{"contract":1,"uptime_ms":9223372036854.775}`,
		// Times: offsets, many digits, leap-ish seconds.
		`{"contract":1,"type":"error","time":"2025-01-02T03:04:05.1234567891+05:30"}`,
		`{"contract":1,"type":"error","time":"2025-01-02T03:04:60Z"}`,
		`{"contract":1,"type":"error","time":"0000-01-01T00:00:00-23:59"}`,
		// Addresses: zones, mapped, garbage.
		`{"contract":1,"type":"transition","master":"fe80::1%eth0"}`,
		`{"contract":1,"type":"transition","master":"::ffff:198.51.100.1"}`,
		`{"contract":1,"vrrp":[{"master":"lb1","vrid":256}]}`,
		// Refusals and versions.
		`{"contract":1,"ok":false}`,
		`{"contract":2,"ok":false,"error":"x"}`,
		`{"contract":null,"type":"error"}`,
		`null`,
		// Framing: lone CR, blank lines, no final newline.
		"\r\n\n\r" + `{"contract":1,"type":"error"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if req, err := parseRequest(data); err == nil {
			b, err := json.Marshal(req)
			if err != nil {
				t.Fatalf("accepted request does not encode: %v", err)
			}
			again, err := parseRequest(b)
			if err != nil {
				t.Fatalf("encoded request %s is refused: %v", b, err)
			}
			req.Contract = ContractVersion
			if again != req {
				t.Fatalf("request changed in a round trip: %+v, then %+v", req, again)
			}
		}

		dec := NewEventDecoder(bytes.NewReader(data))
		for range 1000 {
			ev, err := dec.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue
			}
			stable(t, ev, func(b []byte) (any, error) { return parseEvent(b) })
		}

		if s, err := DecodeStatus(bytes.NewReader(data)); err == nil {
			stable(t, s, func(b []byte) (any, error) { return parseStatus(b) })
		}

		// Small limits and buffers reach every branch of the line reader.
		for _, resync := range []bool{true, false} {
			br := bufio.NewReaderSize(bytes.NewReader(data), 16)
			for range 1000 {
				line, err := readLine(br, 20, resync)
				if len(line) > 20 {
					t.Fatalf("readLine returned %d bytes, more than its limit", len(line))
				}
				if err == io.EOF || (err != nil && !errors.Is(err, ErrLineTooLong)) || (err != nil && !resync) {
					break
				}
			}
		}
	})
}

// stable checks that v, decoded from the wire, encodes into something
// decode takes back and that encodes the same again.
func stable(t *testing.T, v any, decode func([]byte) (any, error)) {
	t.Helper()
	b1, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %T does not encode: %v", v, err)
	}
	if len(b1) > MaxLineSize || bytes.ContainsAny(b1, "\n") {
		return // grew past a line (escaping); nothing to compare
	}
	v2, err := decode(b1)
	if err != nil {
		t.Fatalf("encoded %T is refused: %v\n%s", v, err, b1)
	}
	b2, err := json.Marshal(v2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("%T changed in a round trip:\n%s\n%s", v, b1, b2)
	}
}
