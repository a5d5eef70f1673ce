package guard

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Detection is the longest a guard takes from a failure of what it watches
// to its Failed verdict, given its settings. It is the guard's part of a
// failover budget (vipd -t adds the peer's Skew_Time), so it is written
// here, beside the schedule and the restart policy it follows from.
type Detection struct {
	Time    time.Duration
	Formula string // the sum in seconds, such as "0.2s×2 + 0.15s + 1s restart"
}

func (d Detection) plus(t time.Duration, what string) Detection {
	return Detection{Time: d.Time + t, Formula: d.Formula + " + " + what}
}

// failingChecks is how long fall failing checks take at worst: the first
// starts up to an interval after the failure, each runs up to its timeout,
// and the next starts an interval after one began, or when it ended if it
// took longer (checks never overlap).
func failingChecks(interval, timeout time.Duration, fall int) Detection {
	n := time.Duration(fall)
	if timeout <= interval {
		return Detection{interval*n + timeout, fmt.Sprintf("%s×%d + %s", secs(interval), fall, secs(timeout))}
	}
	return Detection{interval + timeout*n, fmt.Sprintf("%s + %s×%d", secs(interval), secs(timeout), fall)}
}

// Death is the Detection of an nginx whose master dies. With a pid file
// (PIDWatch) the master's exit starts a check at once, so only the other
// fall-1 checks wait for their interval (this needs a pidfd, Linux 5.3 and
// later; without one the next scheduled check sees the death). Without a
// pid file the scheduled GETs see it. The restart attempt then takes up to
// RestartDeadline.
func (c NginxConfig) Death() Detection {
	c = c.WithDefaults()
	var d Detection
	if c.exitWatched() {
		d = Detection{Time: c.Interval * time.Duration(c.Fall-1), Formula: "at once (pid watched)"}
		if c.Fall > 1 {
			d.Formula = fmt.Sprintf("%s×%d", secs(c.Interval), c.Fall-1)
		}
	} else {
		d = failingChecks(c.Interval, c.Timeout, c.Fall)
	}
	if c.RestartDeadline > 0 {
		d = d.plus(c.RestartDeadline, secs(c.RestartDeadline)+" restart")
	}
	return d
}

// Hang is the Detection of an nginx that lives but does not answer; ok is
// false without a URL, as nothing else sees a hang. With a pid file the
// master is seen alive, the timed-out GET is confirmed by one more at once,
// and nginx is not restarted (a start command could not help); without
// one, the restart attempt runs to its deadline. The bound is for an nginx
// with clients: its first check after the hang finds them in the accept
// queue and GETs (see Nginx.ask). One with none waiting is found by the
// next ProbeEvery GET instead, while nobody waits for it; so is a hang on
// a node that holds no VIP (Nginx.Serving(false)), where no client waits.
func (c NginxConfig) Hang() (d Detection, ok bool) {
	c = c.WithDefaults()
	if c.URL == "" && c.Probe == nil {
		return Detection{}, false
	}
	d = failingChecks(c.Interval, c.Timeout, c.Fall)
	if c.PIDFile != "" || c.Process != nil {
		d = d.plus(c.Timeout, secs(c.Timeout)+" confirm")
	}
	if c.PIDFile == "" && c.Process == nil && c.RestartDeadline > 0 {
		d = d.plus(c.RestartDeadline, secs(c.RestartDeadline)+" restart")
	}
	return d, true
}

// exitWatched reports whether the master's exit wakes the guard.
func (c NginxConfig) exitWatched() bool {
	if c.Process != nil {
		_, ok := c.Process.(ExitWatcher)
		return ok
	}
	return c.PIDFile != "" // NewNginx watches it with a PIDWatch
}

// Failure is the Detection of a script that starts failing: fall failed
// runs, each up to Timeout.
func (c ScriptConfig) Failure() Detection {
	c = c.WithDefaults()
	return failingChecks(c.Interval, c.Timeout, c.Fall)
}

// secs writes d in seconds without trailing zeros: "0.2s", "1s".
func secs(d time.Duration) string {
	s := strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".") + "s"
}
