package feed

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// FuzzDecodeKeepalivedJSON: whatever the node's file holds, the decoder
// returns instances or an error, never panics; what it accepts survives a
// round trip (encode, decode) and makes a status.
func FuzzDecodeKeepalivedJSON(f *testing.F) {
	f.Add(readTestdata(f, "master.json"))
	f.Add(readTestdata(f, "fault.json"))
	f.Add([]byte(`[{"data":{"iname":"VI_1","state":3,"vips":["x"]}}]`))  // a VIP that is no address
	f.Add([]byte(`[{"data":{"iname":"VI_1","last_transition":1e300}}]`)) // a time past int64 ns
	f.Add([]byte(`[{"data":{"iname":"VI_1","state":-1}}]`))              // indexes kaStates
	f.Fuzz(func(t *testing.T, b []byte) {
		ins, err := decodeKeepalivedJSON(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(ins)
		if err != nil {
			t.Fatal(err)
		}
		ins2, err := decodeKeepalivedJSON(again)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
		if !reflect.DeepEqual(ins, ins2) && len(ins) > 0 {
			t.Fatalf("round trip: %+v != %+v", ins, ins2)
		}
		k := newKaState(1, &addrTable{known: true})
		k.applyDump(ins, time.Unix(0, 0))
		k.applyDump(ins2, time.Unix(1, 0))
		_ = k.status()
	})
}

// FuzzParseKeepalivedData never panics, and a failed parse returns
// nothing half-made.
func FuzzParseKeepalivedData(f *testing.F) {
	f.Add(string(readTestdata(f, "data.txt")))
	f.Add(" VRRP Script = a\n   Status = BAD\n VRRP Instance = b\n   Number of interface and track script faults = -1\n") // negative count
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseKeepalivedData(s)
		if err != nil && (d.RouterID != "" || d.Scripts != nil) {
			t.Fatalf("error %v with %+v", err, d)
		}
		k := newKaState(1, nil)
		k.data, k.dataKnown = d, err == nil
		_ = k.faultReason("VI_1")
	})
}

// FuzzParseAddrLine: an accepted line, written back as ip prints it,
// parses to the same.
func FuzzParseAddrLine(f *testing.F) {
	f.Add(`3: eth0    inet 198.51.100.100/32 scope global eth0\       valid_lft forever preferred_lft forever`)
	f.Add(`Deleted 3: eth0    inet 198.51.100.100/32 scope global eth0`)
	f.Add(`7: veth0@if8    inet6 2001:db8::1/64 scope global`) // a veth's peer suffix
	f.Fuzz(func(t *testing.T, s string) {
		a, ok, err := parseAddrLine(s)
		if !ok || err != nil {
			return
		}
		fam := "inet"
		if a.Prefix.Addr().Is6() {
			fam = "inet6"
		}
		del := ""
		if a.Deleted {
			del = "Deleted "
		}
		back := fmt.Sprintf("%s3: %s    %s %s scope global", del, a.Dev, fam, a.Prefix)
		b, ok, err := parseAddrLine(back)
		if !ok || err != nil || b != a {
			t.Fatalf("%q -> %+v -> %q -> %+v %v %v", s, a, back, b, ok, err)
		}
	})
}

// FuzzParseKeepalivedVIP never panics; what it accepts has an address.
func FuzzParseKeepalivedVIP(f *testing.F) {
	f.Add("198.51.100.100 dev eth0 scope global set")
	f.Add("2001:db8::1/64 dev")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseKeepalivedVIP(s)
		if err == nil && !v.Prefix.IsValid() {
			t.Fatalf("%q: accepted without an address", s)
		}
	})
}
