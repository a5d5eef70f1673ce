package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is vipd's GOGC unless the environment sets one. vipd's live
// heap is well under a megabyte and it allocates a few tens of KB a
// second, so the runtime's default leaves the heap to grow to its 4 MB
// minimum goal between the forced collections every two minutes: resident
// memory then climbs by megabytes after startup with nothing leaking (the
// chaos soak's memory watch saw +3–4 MiB). Half the headroom costs one
// collection of that small heap (about a millisecond) a minute or so.
const gcPercent = 50

func init() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}
