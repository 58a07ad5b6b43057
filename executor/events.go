package executor

import (
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// EventType names a progress event, like Terraform's machine-readable UI types.
type EventType = string

// The event types the Runner emits.
const (
	EventApplyStart       EventType = "apply_start"
	EventStepStart        EventType = "step_start"
	EventStepProgress     EventType = "step_progress"
	EventStepWaiting      EventType = "step_waiting"
	EventStepComplete     EventType = "step_complete"
	EventStepErrored      EventType = "step_errored"
	EventRollbackStart    EventType = "rollback_start"
	EventRollbackComplete EventType = "rollback_complete"
	EventRollbackErrored  EventType = "rollback_errored"
	EventServicePaused    EventType = "service_paused"
	EventApplyComplete    EventType = "apply_complete"
	EventApplyErrored     EventType = "apply_errored"
)

// Event levels, as in hclog's JSON output.
const (
	LevelInfo  = "info"
	LevelWarn  = "warn"
	LevelError = "error"
)

// Event is one progress report of an apply.
type Event struct {
	Level   string
	Message string
	Time    time.Time
	Type    EventType
	// Step is the step the event is about, nil for apply- and service-level events.
	Step    *planner.Step
	Service string
	// Elapsed is the time the step (or apply, or rollback) took so far.
	Elapsed time.Duration
	Error   string
	// Totals holds the number of steps per service; set on apply_start only.
	Totals map[string]int
}

// EventSink receives progress events. Emit is called from several goroutines, one
// event at a time (the Runner serialises calls).
type EventSink interface {
	Emit(Event)
}

// MultiSink sends every event to each sink in turn.
func MultiSink(sinks ...EventSink) EventSink { return multiSink(sinks) }

type multiSink []EventSink

func (m multiSink) Emit(e Event) {
	for _, s := range m {
		s.Emit(e)
	}
}

// emitter serialises events towards the Runner's sink and stamps them.
type emitter struct {
	mu   sync.Mutex
	sink EventSink
	now  func() time.Time
}

func (em *emitter) emit(e Event) {
	if em.sink == nil {
		return
	}
	if e.Level == "" {
		e.Level = LevelInfo
	}
	if e.Time.IsZero() {
		e.Time = em.now()
	}
	em.mu.Lock()
	defer em.mu.Unlock()
	em.sink.Emit(e)
}

// describe renders a step for humans: "deploy order-service/a/127.0.0.1:18081".
func describe(st *planner.Step) string {
	target := st.Target
	if target == "" {
		target = st.Service
	}
	return string(st.Kind) + " " + target
}
