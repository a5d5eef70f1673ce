package feed

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vipkit/vip/node/control"
)

// The decoders of what keepalived and iproute2 print, as the keepalived
// feed reads them over SSH. Each takes text from the node, so none trusts
// it: bad input is an error, never a panic or a guess.

// kaInstance is one vrrp_instance of keepalived's JSON dump (keepalived
// --signum=JSON, written to $TMPDIR/keepalived.json): the fields the
// console shows, under keepalived 2.2.7's names.
type kaInstance struct {
	Data struct {
		Name              string   `json:"iname"`
		Interface         string   `json:"ifp_ifname"`
		VRID              int      `json:"vrid"`
		Version           int      `json:"version"`
		AdverInt          float64  `json:"adver_int"`        // seconds
		MasterAdverInt    float64  `json:"master_adver_int"` // seconds
		State             int      `json:"state"`            // 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT
		BasePriority      int      `json:"base_priority"`
		EffectivePriority int      `json:"effective_priority"`
		MasterPriority    int      `json:"master_priority"`
		NoPreempt         bool     `json:"nopreempt"`
		VIPSet            bool     `json:"vipset"`
		VIPs              []string `json:"vips"`
		EVIPs             []string `json:"evips"`           // virtual_ipaddress_excluded: held too
		LastTransition    float64  `json:"last_transition"` // Unix seconds
		TrackScripts      []string `json:"track_script"`
	} `json:"data"`
	Stats struct {
		AdvertRcvd    uint64 `json:"advert_rcvd"`
		AdvertSent    uint64 `json:"advert_sent"`
		BecomeMaster  uint64 `json:"become_master"`
		ReleaseMaster uint64 `json:"release_master"`
		PriZeroRcvd   uint64 `json:"pri_zero_rcvd"`
		PriZeroSent   uint64 `json:"pri_zero_sent"`
		AuthFailure   uint64 `json:"auth_failure"`
		IPTTLErr      uint64 `json:"ip_ttl_err"`
		PacketLenErr  uint64 `json:"packet_len_err"`
		AdvIntErr     uint64 `json:"advert_interval_err"`
		AddrListErr   uint64 `json:"addr_list_err"`
		InvalidAuth   uint64 `json:"invalid_authtype"`
		AuthMismatch  uint64 `json:"authtype_mismatch"`
		InvalidType   uint64 `json:"invalid_type_rcvd"`
	} `json:"stats"`
}

// kaStates are keepalived's state numbers (vrrp.h VRRP_STATE_*).
var kaStates = []control.State{control.StateInit, control.StateBackup, control.StateMaster, control.StateFault}

// decodeKeepalivedJSON reads a keepalived.json: an array of instances.
func decodeKeepalivedJSON(b []byte) ([]kaInstance, error) {
	var ins []kaInstance
	if err := json.Unmarshal(b, &ins); err != nil {
		return nil, fmt.Errorf("failed to read keepalived's JSON dump: %w", err)
	}
	for i := range ins {
		d := &ins[i].Data
		if d.Name == "" {
			return nil, fmt.Errorf("keepalived's JSON dump: instance %d has no iname", i)
		}
		if d.State < 0 || d.State >= len(kaStates) {
			return nil, fmt.Errorf("keepalived's JSON dump: %s has state %d, not 0-3", d.Name, d.State)
		}
		for _, p := range []struct {
			name string
			v    int
		}{{"vrid", d.VRID}, {"base_priority", d.BasePriority}, {"effective_priority", d.EffectivePriority}, {"master_priority", d.MasterPriority}} {
			if p.v < 0 || p.v > 255 {
				return nil, fmt.Errorf("keepalived's JSON dump: %s has %s %d, not 0-255", d.Name, p.name, p.v)
			}
		}
		for _, s := range []float64{d.AdverInt, d.MasterAdverInt, d.LastTransition} {
			if math.IsNaN(s) || s < 0 || s > 1e10 {
				return nil, fmt.Errorf("keepalived's JSON dump: %s has a time out of range", d.Name)
			}
		}
	}
	return ins, nil
}

// seconds is keepalived's float seconds as a duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// kaVIP is one virtual_ipaddress as the JSON dump lists it: "198.51.100.100
// dev eth0 scope global set" ("set" while keepalived has it configured).
type kaVIP struct {
	Prefix netip.Prefix
	Dev    string
	Set    bool
}

// parseKeepalivedVIP reads one entry of a dump's "vips".
func parseKeepalivedVIP(s string) (kaVIP, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return kaVIP{}, errors.New("empty VIP")
	}
	var v kaVIP
	if p, err := netip.ParsePrefix(f[0]); err == nil {
		v.Prefix = p
	} else if a, err := netip.ParseAddr(f[0]); err == nil {
		v.Prefix = netip.PrefixFrom(a, a.BitLen())
	} else {
		return kaVIP{}, fmt.Errorf("VIP %q: not an address", s)
	}
	for i := 1; i < len(f); i++ {
		switch f[i] {
		case "dev":
			if i+1 < len(f) {
				v.Dev = f[i+1]
				i++
			}
		case "set":
			v.Set = true
		}
	}
	return v, nil
}

// kaVRRPScript is a vrrp_script as keepalived.data (--signum=DATA) lists it.
type kaVRRPScript struct {
	Name, Command, Status string // Status: GOOD, BAD, or what keepalived said
}

// kaData is what the console reads of a keepalived.data.
type kaData struct {
	RouterID string
	Scripts  []kaVRRPScript
	// Faults is "Number of interface and track script faults" by
	// instance.
	Faults map[string]int
}

// parseKeepalivedData reads the lines of a keepalived.data that matter
// (the feed's script sends only those: see kaDataLines).
func parseKeepalivedData(text string) (kaData, error) {
	d := kaData{Faults: map[string]int{}}
	inst := ""
	var script *kaVRRPScript
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(strings.TrimSpace(line), " = ")
		if !ok {
			continue
		}
		switch {
		case key == "Router ID":
			d.RouterID = val
		case key == "VRRP Instance":
			inst, script = val, nil
		case key == "Number of interface and track script faults" && inst != "":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return kaData{}, fmt.Errorf("keepalived.data: %s has %q faults", inst, val)
			}
			d.Faults[inst] = n
		case key == "VRRP Script":
			d.Scripts = append(d.Scripts, kaVRRPScript{Name: val})
			script, inst = &d.Scripts[len(d.Scripts)-1], ""
		case key == "Command" && script != nil:
			script.Command = strings.Trim(val, "'")
		case key == "Status" && script != nil:
			script.Status = val
		}
	}
	if err := sc.Err(); err != nil {
		return kaData{}, fmt.Errorf("keepalived.data: %w", err)
	}
	return d, nil
}

// addrLine is one line of `ip -o addr show` or `ip -o monitor address`:
// "3: eth0    inet 198.51.100.100/32 scope global eth0\ ...", with
// "Deleted " before it when the address went.
type addrLine struct {
	Deleted bool
	Dev     string
	Prefix  netip.Prefix
}

// parseAddrLine reads one such line. Lines of other kinds (a monitor's
// other messages) give ok false and no error.
func parseAddrLine(s string) (a addrLine, ok bool, err error) {
	s = strings.TrimSpace(s)
	if rest, found := strings.CutPrefix(s, "Deleted "); found {
		a.Deleted, s = true, rest
	}
	f := strings.Fields(s)
	if len(f) < 4 || !strings.HasSuffix(f[0], ":") {
		return addrLine{}, false, nil
	}
	if _, err := strconv.Atoi(strings.TrimSuffix(f[0], ":")); err != nil {
		return addrLine{}, false, nil
	}
	if f[2] != "inet" && f[2] != "inet6" {
		return addrLine{}, false, nil
	}
	a.Dev = strings.TrimSuffix(f[1], ":")
	if i := strings.IndexByte(a.Dev, '@'); i >= 0 { // veth0@if12
		a.Dev = a.Dev[:i]
	}
	if a.Dev == "" {
		return addrLine{}, false, nil // the monitor's end of listing is a line of its own
	}
	p, err := netip.ParsePrefix(f[3])
	if err != nil {
		return addrLine{}, false, fmt.Errorf("ip addr line %q: %w", s, err)
	}
	if p.Addr().Is4() != (f[2] == "inet") || p.Addr().Is4In6() {
		return addrLine{}, false, fmt.Errorf("ip addr line %q: %s is no %s address", s, p.Addr(), f[2])
	}
	a.Prefix = p
	return a, true, nil
}
