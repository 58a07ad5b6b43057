package executor

import (
	"github.com/nonstop-release/nonstop/planner"
)

// Waiting is free: a step holds slots only for what loads another system. A
// write holds a slot of the provider it writes to (Parallelism per provider); a
// deploy holds a deploy slot (Parallelism at once) and one of its host
// (PerHostDeploys at once, so one VM is not asked to restart many services at
// once). Waits, health checks, verifies, gates and pauses hold none, so a fleet of
// services that mostly wait (propagation, drain, warm-up) releases in the time of
// one.
type slots struct {
	bounds planner.Bounds
	used   map[string]int
}

// DefaultPerHostDeploys bounds concurrent deploys on one host when
// Runner.PerHostDeploys is zero.
const DefaultPerHostDeploys = planner.DefaultPerHostDeploys

func newSlots(par, perHost int) *slots {
	return &slots{bounds: planner.NewBounds(par, perHost), used: map[string]int{}}
}

// keys returns the slots a step needs, with their limits: planner.Bounds.Slots,
// the rule the plan's estimate simulates too.
func (s *slots) keys(st *planner.Step) map[string]int {
	return s.bounds.Slots(st)
}

// take reserves the step's slots and reports true, or reports false and takes
// none when one is full.
func (s *slots) take(st *planner.Step) bool {
	k := s.keys(st)
	for key, limit := range k {
		if s.used[key] >= limit {
			return false
		}
	}
	for key := range k {
		s.used[key]++
	}
	return true
}

// give returns the step's slots.
func (s *slots) give(st *planner.Step) {
	for key := range s.keys(st) {
		s.used[key]--
	}
}
