package control_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vipkit/vip/node/control"
)

// A console reads `vipd watch --json` from an SSH session's stdout.
func ExampleEventDecoder() {
	stdout := strings.NewReader(`{"contract":1,"time":"2025-01-02T03:04:05Z","type":"snapshot","snapshot":{"contract":1,"router_id":"lb2","vrrp":[{"iname":"VI_1","state":"BACKUP"}]}}
{"contract":1,"time":"2025-01-02T03:05:00Z","type":"transition","instance":"VI_1","from":"BACKUP","to":"MASTER","reason":"master down"}
{"contract":1,"time":"2025-01-02T03:05:00Z","type":"something_newer"}
{"contract":2,"time":"2025-01-02T03:06:00Z","type":"transition"}
`)
	dec := control.NewEventDecoder(stdout)
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		var ve *control.VersionError
		if errors.As(err, &ve) {
			fmt.Println(err)
			break
		}
		if err != nil {
			fmt.Println("skipping:", err)
			continue
		}
		switch ev.Type {
		case control.EventSnapshot:
			for _, inst := range ev.Snapshot.Instances {
				fmt.Println(ev.Snapshot.RouterID, inst.Name, inst.State)
			}
		case control.EventTransition:
			fmt.Println(ev.Instance, ev.From, "->", ev.To, ev.Reason)
		default:
			// Newer event types are skipped: they keep the contract version.
		}
	}
	// Output:
	// lb2 VI_1 BACKUP
	// VI_1 BACKUP -> MASTER master down
	// event line 4: vipd speaks contract 2, this console needs 1: upgrade the console
}

// A console reads `vipd status --json`.
func ExampleDecodeStatus() {
	st, err := control.DecodeStatus(strings.NewReader(`{"contract":1,"router_id":"lb1","vrrp":[{"iname":"VI_1","state":"MASTER","vips":["198.51.100.100/24"],"vip_present":true}],"nginx":{"name":"nginx","healthy":true,"verdict":"healthy","latency_ms":0.412}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, inst := range st.Instances {
		fmt.Println(st.RouterID, inst.Name, inst.State, inst.VIPs, inst.VIPPresent)
	}
	fmt.Println(st.Nginx.Name, st.Nginx.Verdict, st.Nginx.Latency.Duration())

	_, err = control.DecodeStatus(strings.NewReader(`{"router_id":"lb1"}`))
	fmt.Println(err)
	// Output:
	// lb1 VI_1 MASTER [198.51.100.100/24] true
	// nginx healthy 412µs
	// vipd sent no contract version, this console needs 1: not vipd's output, or vipd too old: upgrade vipd
}
