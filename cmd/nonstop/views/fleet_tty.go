package views

import (
	"fmt"
	"slices"
	"time"
)

// The fleet frame's size: it must fit a terminal, whatever the fleet's size.
const (
	// ttyFleetRows is the most service lines the fleet frame draws.
	ttyFleetRows = 20
	// ttyFleetFooter is the most messages (warnings, failures) it keeps below.
	ttyFleetFooter = 5
)

// fleetFrame draws an apply of many services in at most 2 + ttyFleetRows lines:
//
//	services: 12 waiting, 3 deploying, 80 done, 1 failed  [1m2s]
//	fs-009  [########------------]  10/24  failed: fs-009.22: ...
//	fs-041  [######--------------]   7/24  deploy fs-041/b/127.0.0.1:4711  1s
//	... and 11 more in flight, 80 done
//
// Services that stopped (failed, rolling back, rolled back, paused, skipped)
// come first, then those running a step, longest running first; done and
// queued services are only counted.
func (v *TTYView) fleetFrame(now time.Time) []string {
	f := v.fleet
	head := f.summary()
	if !f.started.IsZero() {
		head += fmt.Sprintf("  [%s]", now.Sub(f.started).Round(time.Second))
	}
	type entry struct {
		name    string
		stopped bool
		since   time.Time
	}
	var shown []entry
	for _, name := range f.order {
		p := f.services[name].phase()
		switch p {
		case PhaseDone, PhaseQueued:
			continue
		}
		e := entry{name: name, stopped: p != PhaseWaiting && p != PhaseWriting && p != PhaseDeploying}
		for _, st := range v.row(name).running {
			if e.since.IsZero() || st.start.Before(e.since) {
				e.since = st.start
			}
		}
		shown = append(shown, e)
	}
	slices.SortStableFunc(shown, func(a, b entry) int {
		switch {
		case a.stopped != b.stopped:
			if a.stopped {
				return -1
			}
			return 1
		case a.stopped:
			return 0
		}
		return a.since.Compare(b.since)
	})
	width := 0
	for _, e := range shown[:min(len(shown), ttyFleetRows)] {
		width = max(width, len(e.name))
	}
	lines := []string{head}
	for _, e := range shown[:min(len(shown), ttyFleetRows)] {
		lines = append(lines, v.rows[e.name].render(e.name, width, now)[0])
	}
	if more := len(shown) - ttyFleetRows; more > 0 {
		lines = append(lines, fmt.Sprintf("... and %d more in flight", more))
	}
	return lines
}
