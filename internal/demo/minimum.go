package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// Minimum is the physical minimum of a release that upgrades groups one after
// the other: each group must be drained and left for the propagation, then
// restarted until the balancers confirm it, so the minimum is the sum over the
// groups of propagation + confirm. A group's confirm is measured as the slowest
// of its instances from the deploy's start (deploy.sh's own clock) to HAProxy's
// checks having it UP again; Computed is the same from the fleet's settings
// (start-up delay + warm-up + rise × inter) and stands in when nothing was
// measured.
type Minimum struct {
	Propagation time.Duration
	Computed    time.Duration
	Groups      []GroupConfirm
}

// GroupConfirm is one group's confirm time.
type GroupConfirm struct {
	Name     string
	Confirm  time.Duration   // the slowest instance; Computed when none was measured
	Measured []time.Duration // per instance, in the group's order
}

// Total is the sum over the groups of propagation + confirm.
func (m Minimum) Total() time.Duration {
	var total time.Duration
	for _, g := range m.Groups {
		total += m.Propagation + g.Confirm
	}
	return total
}

// Ratio is wall / Total, 0 when the minimum is unknown.
func (m Minimum) Ratio(wall time.Duration) float64 {
	if m.Total() <= 0 {
		return 0
	}
	return wall.Seconds() / m.Total().Seconds()
}

// ComputedConfirm is the confirm time a fleet's settings give: start-up delay +
// warm-up + HAProxy's rise × inter.
func ComputedConfirm(startDelay, warmup time.Duration, checks fleet.HAProxyChecks) time.Duration {
	return startDelay + warmup + checks.ConfirmTime()
}

// MeasureConfirm takes, for every instance of a group deployed at version to
// after started, the time from its deploy's start to HAProxy's checks having it
// UP again (checksUp: it goes DOWN while it restarts, then UP after rise good
// checks); the slowest is the group's confirm time. An instance that never went
// DOWN is not measured; a group with nothing measured takes computed.
func MeasureConfirm(name string, fleet *fleet.DemoFleet, addrs []string, to string, checksUp PathServing, started time.Time, computed time.Duration) GroupConfirm {
	g := GroupConfirm{Name: name}
	for _, a := range addrs {
		var begin time.Time
		for _, d := range fleet.DeployStarts(a) {
			if d.Version == to && d.At.After(started) {
				begin = d.At
			}
		}
		if begin.IsZero() {
			continue
		}
		if up, ok := checksUp.JoinedAfter(a, begin); ok {
			took := up.Sub(begin)
			g.Measured = append(g.Measured, took)
			g.Confirm = max(g.Confirm, took)
		}
	}
	if len(g.Measured) == 0 {
		g.Confirm = computed
	}
	return g
}

// Terms renders the sum: "(4s + 5.6s) + (4s + 5.8s)".
func (m Minimum) Terms() string {
	terms := make([]string, 0, len(m.Groups))
	for _, g := range m.Groups {
		terms = append(terms, fmt.Sprintf("(%s + %s)", m.Propagation, g.Confirm.Round(10*time.Millisecond)))
	}
	return strings.Join(terms, " + ")
}

// Confirms measures, for every group with an instance deployed at version to
// after started, the group's confirm time (MeasureConfirm), ordered by when the
// group's first deploy began. Without HAProxy checks (checksUp has no samples)
// every group takes computed.
func (s *Stack) Confirms(to string, checksUp PathServing, started time.Time, computed time.Duration) []GroupConfirm {
	type deployed struct {
		g     GroupConfirm
		first time.Time
	}
	var out []deployed
	for _, g := range s.Opts.Groups {
		var first time.Time
		for _, a := range s.Groups[g.Name] {
			for _, d := range s.Fleet.DeployStarts(a) {
				if d.Version == to && d.At.After(started) && (first.IsZero() || d.At.Before(first)) {
					first = d.At
				}
			}
		}
		if first.IsZero() {
			continue
		}
		out = append(out, deployed{MeasureConfirm(g.Name, s.Fleet, s.Groups[g.Name], to, checksUp, started, computed), first})
	}
	slices.SortFunc(out, func(a, b deployed) int { return a.first.Compare(b.first) })
	groups := make([]GroupConfirm, len(out))
	for i, d := range out {
		groups[i] = d.g
	}
	return groups
}

// ComputedConfirmOf is ComputedConfirm for the stack: HAProxy's rise × inter
// counts only when it runs HAProxy.
func (s *Stack) ComputedConfirmOf() time.Duration {
	if s.HAProxy == nil {
		return s.Opts.StartDelay + s.Opts.Warmup
	}
	return ComputedConfirm(s.Opts.StartDelay, s.Opts.Warmup, fleet.DefaultHAProxyChecks)
}
