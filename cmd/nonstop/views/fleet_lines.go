package views

import (
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/executor"
)

// Event types the fleet views add to the JSON stream.
const (
	// EventServicePhase: a service entered a phase that has a line of its own
	// (deploying, done, failed, rolling back, rolled back, paused, skipped).
	EventServicePhase = "service_phase"
	// EventFleetSummary: how many services are in each phase, every
	// HeartbeatEvery and before the apply's last event.
	EventFleetSummary = "fleet_summary"
	// EventServiceSummary: one per service before the apply's last event, with
	// the phase it ended in and its steps done of its total.
	EventServiceSummary = "service_summary"
)

// fleetSink shows an apply of more than FleetThreshold services as a fleet,
// and passes every event of a smaller apply on unchanged. For a fleet it
// passes on everything but step starts, completions and heartbeats (a
// hundred services make thousands), and adds a line when a service starts
// deploying or is done, a summary line of the phases every HeartbeatEvery, and
// at the end the summary and a line per service that did not complete. Step
// errors, rollbacks, pauses, skips and warnings still pass whole. With
// keepSteps (JSON, read by programs) step events pass too, and the end has a
// service_summary for every service.
type fleetSink struct {
	mu          sync.Mutex
	next        executor.EventSink
	keepSteps   bool
	progress    *fleetProgress
	lastSummary time.Time
}

func newFleetSink(next executor.EventSink, keepSteps bool) *fleetSink {
	return &fleetSink{next: next, keepSteps: keepSteps, progress: newFleetProgress()}
}

func (s *fleetSink) Emit(e executor.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.progress.note(e)
	if !s.progress.isFleet() {
		s.next.Emit(e)
		return
	}
	switch e.Type {
	case executor.EventApplyStart:
		s.lastSummary = e.Time
	case executor.EventApplyComplete, executor.EventApplyErrored:
		s.summary(e.Time)
		for _, name := range s.progress.order {
			// Lines name the services that did not complete; JSON has them all.
			if s.keepSteps || s.progress.services[name].phase() != PhaseDone {
				s.emitService(EventServiceSummary, name, e.Time)
			}
		}
	}
	step := e.Type == executor.EventStepStart || e.Type == executor.EventStepComplete ||
		e.Type == executor.EventStepProgress && e.Step != nil
	if !step || s.keepSteps {
		s.next.Emit(e)
	}
	if changed != "" && reported(s.progress.services[changed].phase()) {
		s.emitService(EventServicePhase, changed, e.Time)
	}
	if e.Type != executor.EventApplyComplete && e.Type != executor.EventApplyErrored &&
		!e.Time.IsZero() && e.Time.Sub(s.lastSummary) >= HeartbeatEvery {
		s.summary(e.Time)
	}
}

// summary emits the summary line.
func (s *fleetSink) summary(at time.Time) {
	s.lastSummary = at
	s.emit(executor.Event{Level: executor.LevelInfo, Type: EventFleetSummary, Time: at,
		Elapsed: at.Sub(s.progress.started), Message: s.progress.summary()}, fleetInfo{counts: s.progress.counts()})
}

// emitService emits a service's line as an event of type typ.
func (s *fleetSink) emitService(typ, name string, at time.Time) {
	sp := s.progress.services[name]
	s.emit(executor.Event{Level: levelOf(sp.phase()), Type: typ, Time: at, Service: name, Message: s.progress.phaseLine(name)},
		fleetInfo{phase: sp.phase(), done: sp.done, total: sp.total})
}

// fleetInfo is what a fleet event carries besides an executor.Event.
type fleetInfo struct {
	phase       string
	done, total int
	counts      map[string]int
}

// fleetEventSink is a sink that renders fleetInfo (the JSON view).
type fleetEventSink interface {
	emitFleet(e executor.Event, fi fleetInfo)
}

// emit passes an event the fleet view made to the next sink, with fi when it
// renders it.
func (s *fleetSink) emit(e executor.Event, fi fleetInfo) {
	if fs, ok := s.next.(fleetEventSink); ok {
		fs.emitFleet(e, fi)
		return
	}
	s.next.Emit(e)
}

// levelOf is the level of a service's line in a phase.
func levelOf(phase string) string {
	switch phase {
	case PhaseFailed, PhaseRollbackFailed:
		return executor.LevelError
	case PhaseRollingBack, PhaseRolledBack, PhasePaused, PhaseSkipped:
		return executor.LevelWarn
	}
	return executor.LevelInfo
}
