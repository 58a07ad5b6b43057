package views

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/planner"
)

// FleetThreshold is the number of services above which an apply's progress is
// shown as a fleet: a phase per service and a summary line of how many services
// are in each phase, instead of every step.
const FleetThreshold = 10

// Service phases, in the order the summary line counts them. A service is
// queued while none of its steps runs (a dependency or a slot is not free yet),
// waiting while only steps that wait run (propagation, drain, health, verify,
// gates, pauses), writing while it writes to a provider and deploying while a
// deploy runs.
const (
	PhaseQueued         = "queued"
	PhaseWaiting        = "waiting"
	PhaseWriting        = "writing"
	PhaseDeploying      = "deploying"
	PhaseDone           = "done"
	PhaseFailed         = "failed"
	PhaseRollingBack    = "rolling back"
	PhaseRolledBack     = "rolled back"
	PhaseRollbackFailed = "rollback failed"
	PhasePaused         = "paused"
	PhaseSkipped        = "skipped"
)

var phaseOrder = []string{PhaseQueued, PhaseWaiting, PhaseWriting, PhaseDeploying, PhaseDone,
	PhaseFailed, PhaseRollingBack, PhaseRolledBack, PhaseRollbackFailed, PhasePaused, PhaseSkipped}

// fleetProgress follows the phase of every service of an apply from its events.
type fleetProgress struct {
	services map[string]*serviceProgress
	order    []string
	started  time.Time
}

// serviceProgress is one service's part of the apply.
type serviceProgress struct {
	done, total int
	running     map[string]*planner.Step // by step id
	// final is the phase an apply-level event set (failed, rolled back, ...);
	// "" while the steps decide.
	final string
}

func newFleetProgress() *fleetProgress {
	return &fleetProgress{services: map[string]*serviceProgress{}}
}

// isFleet reports whether the apply has more than FleetThreshold services.
func (f *fleetProgress) isFleet() bool { return len(f.services) > FleetThreshold }

func (f *fleetProgress) service(name string) *serviceProgress {
	s, ok := f.services[name]
	if !ok {
		s = &serviceProgress{running: map[string]*planner.Step{}}
		f.services[name] = s
		f.order = append(f.order, name)
	}
	return s
}

// note takes in an event and returns the service whose phase it changed, ""
// when none changed.
func (f *fleetProgress) note(e executor.Event) string {
	if e.Type == executor.EventApplyStart {
		f.started = e.Time
		names := make([]string, 0, len(e.Totals))
		for name := range e.Totals {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			f.service(name).total = e.Totals[name]
		}
		return ""
	}
	if e.Service == "" {
		return ""
	}
	s := f.service(e.Service)
	before := s.phase()
	switch e.Type {
	case executor.EventStepStart:
		s.running[e.Step.ID] = e.Step
	case executor.EventStepComplete:
		delete(s.running, e.Step.ID)
		if s.final == "" {
			s.done++
		}
	case executor.EventStepErrored:
		delete(s.running, e.Step.ID)
		if s.final == "" {
			s.final = PhaseFailed
		}
	case executor.EventRollbackStart:
		s.final = PhaseRollingBack
	case executor.EventRollbackComplete:
		s.final = PhaseRolledBack
	case executor.EventRollbackErrored:
		s.final = PhaseRollbackFailed
	case executor.EventServicePaused:
		s.final = PhasePaused
	case executor.EventServiceSkipped:
		s.final = PhaseSkipped
	}
	if s.phase() == before {
		return ""
	}
	return e.Service
}

// phase is the service's phase now.
func (s *serviceProgress) phase() string {
	if s.final != "" {
		return s.final
	}
	if len(s.running) == 0 {
		if s.total > 0 && s.done >= s.total {
			return PhaseDone
		}
		return PhaseQueued
	}
	phase := PhaseWaiting
	for _, st := range s.running {
		switch st.Kind {
		case planner.Deploy:
			return PhaseDeploying
		case planner.BalancerSetWeight, planner.BalancerSetState, planner.BalancerSwitch,
			planner.RegistrySetEnabled, planner.RegistrySetWeight, planner.RouteSet, planner.RouteDelete:
			phase = PhaseWriting
		}
	}
	return phase
}

// counts returns how many services are in each phase.
func (f *fleetProgress) counts() map[string]int {
	out := map[string]int{}
	for _, s := range f.services {
		out[s.phase()]++
	}
	return out
}

// summary is the summary line: "services: 12 waiting, 3 deploying, 80 done, 1
// failed".
func (f *fleetProgress) summary() string {
	c := f.counts()
	var parts []string
	for _, p := range phaseOrder {
		if c[p] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[p], p))
		}
	}
	if len(parts) == 0 {
		return "services: none"
	}
	return "services: " + strings.Join(parts, ", ")
}

// reported reports whether a service entering phase gets a line of its own in
// the fleet's line and JSON views: deploying and done. Queued, waiting and
// writing alternate many times in a release (the summary line counts them), and
// the executor's own events already announce a failure, a rollback, a pause and
// a skip.
func reported(phase string) bool {
	return phase == PhaseDeploying || phase == PhaseDone
}

// phaseLine is a service's line: "fs-003: deploying (5/24 steps)".
func (f *fleetProgress) phaseLine(name string) string {
	s := f.services[name]
	return fmt.Sprintf("%s: %s (%d/%d steps)", name, s.phase(), s.done, s.total)
}
