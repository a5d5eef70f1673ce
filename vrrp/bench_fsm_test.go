package vrrp

import (
	"net/netip"
	"testing"
	"time"
)

// The state machine's step and the whole receive path, from the bytes an
// advert arrives as to the actions it causes, run per advert like the codec
// in bench_test.go, so they must not allocate either: TestFSMAllocs and
// TestInstanceAllocs check it, these measure it.

func BenchmarkFSMStep(b *testing.B) {
	b.Run("backup/advert", func(b *testing.B) {
		// A backup hearing its master: learn it, push Master_Down out.
		m := newFSM(fsmBase())
		m.step(fsmT0, input{kind: inStartup})
		in := input{kind: inAdvert, src: fsmHigh, priority: 150, interval: time.Second}
		now := fsmT0
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(time.Second)
			m.step(now, in)
		}
	})
	b.Run("master/advert-timer", func(b *testing.B) {
		// A master's Adver_Timer: send, set it again.
		m := newFSM(fsmBase())
		m.step(fsmT0, input{kind: inStartup})
		now := fsmT0.Add(m.masterDown())
		m.step(now, input{kind: inTimer, timer: timerMasterDown})
		if m.state != StateMaster {
			b.Fatalf("state %v, want MASTER", m.state)
		}
		in := input{kind: inTimer, timer: timerAdvert}
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(time.Second)
			m.step(now, in)
		}
	})
	b.Run("master/lower-advert", func(b *testing.B) {
		// A master hearing a lower master (a healed partition): answer at
		// once and re-announce.
		m := newFSM(fsmBase())
		m.step(fsmT0, input{kind: inStartup})
		now := fsmT0.Add(m.masterDown())
		m.step(now, input{kind: inTimer, timer: timerMasterDown})
		in := input{kind: inAdvert, src: fsmLow, priority: 50, interval: time.Second}
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(time.Second)
			m.step(now, in)
		}
	})
}

// BenchmarkInstanceReceive is what Run does per advert: the reader checks
// and decodes it (Filter.Accept) and hands the loop a copy; the loop steps
// the state machine, carries out its actions, publishes the status and
// re-arms its timer.
func BenchmarkInstanceReceive(b *testing.B) {
	for _, v := range []Version{Version2, Version3} {
		b.Run("v"+string('0'+byte(v))+"/backup", func(b *testing.B) {
			cfg := testConfig()
			cfg.Version = v
			i := benchInstance(b, cfg)
			now := time.Now()
			i.step(now, input{kind: inStartup})
			adv := Advertisement{Version: v, VRID: cfg.VRID, Priority: 150, Interval: time.Second,
				Addresses: []netip.Addr{testVIP.Addr()}}
			msg, err := adv.Append(nil, testMaster, Group)
			if err != nil {
				b.Fatal(err)
			}
			info := PacketInfo{Src: testMaster, Dst: Group, TTL: TTL}
			dec := Advertisement{Addresses: make([]netip.Addr, 0, MaxAddresses)}
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			rx := make(chan received, 1)
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				now = now.Add(time.Second)
				if err := i.filter.Accept(msg, info, &dec); err != nil {
					b.Fatal(err)
				}
				rx <- received{src: info.Src, priority: dec.Priority, interval: dec.Interval}
				i.receive(now, <-rx)
				i.publish()
				i.arm(timer)
			}
			if st := i.Status(); st.State != StateBackup || st.Master != testMaster {
				b.Fatalf("state %v under master %v, want BACKUP under %v", st.State, st.Master, testMaster)
			}
		})
	}
}

// BenchmarkInstanceAdvertTimer is a master's Adver_Timer in Run: fire the
// due timer, encode and send the advert, publish, re-arm.
func BenchmarkInstanceAdvertTimer(b *testing.B) {
	i := benchInstance(b, testConfig())
	now := time.Now()
	i.step(now, input{kind: inStartup})
	now = now.Add(i.m.masterDown())
	i.fire(now, now)
	if i.m.state != StateMaster {
		b.Fatalf("state %v, want MASTER", i.m.state)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	b.ReportAllocs()
	for b.Loop() {
		now = i.deadlines[timerAdvert]
		i.fire(now, now)
		i.publish()
		i.arm(timer)
	}
	if i.Status().Stats.AdvertSent == 0 {
		b.Fatal("nothing sent")
	}
}

func benchInstance(b *testing.B, cfg Config) *Instance {
	b.Helper()
	i, err := NewInstance(cfg, discardConn{}, &fakeAddresser{}, &fakeAnnouncer{})
	if err != nil {
		b.Fatal(err)
	}
	return i
}

// discardConn sends nowhere, so a benchmark times the instance, not a
// fake's bookkeeping.
type discardConn struct{}

func (discardConn) ReadFrom([]byte) (int, PacketInfo, error) { select {} }
func (discardConn) WriteTo([]byte, netip.Addr) error         { return nil }
func (discardConn) SetReadDeadline(time.Time) error          { return nil }
func (discardConn) Close() error                             { return nil }

var _ Conn = discardConn{}
