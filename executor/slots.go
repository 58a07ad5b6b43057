package executor

import (
	"net"

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
	par, perHost int
	used         map[string]int
}

// DefaultPerHostDeploys bounds concurrent deploys on one host when
// Runner.PerHostDeploys is zero.
const DefaultPerHostDeploys = 10

func newSlots(par, perHost int) *slots {
	return &slots{par: par, perHost: perHost, used: map[string]int{}}
}

// keys returns the slots a step needs, with their limits.
func (s *slots) keys(st *planner.Step) map[string]int {
	switch st.Kind {
	case planner.BalancerSetWeight, planner.BalancerSetState, planner.BalancerSwitch,
		planner.RegistrySetEnabled, planner.RegistrySetWeight, planner.RouteSet, planner.RouteDelete:
		return map[string]int{"provider " + st.Args.Provider: s.par}
	case planner.Deploy:
		k := map[string]int{"deploy": s.par}
		if host, _, err := net.SplitHostPort(st.Args.Address); err == nil {
			k["host "+host] = s.perHost
		}
		return k
	}
	return nil
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
