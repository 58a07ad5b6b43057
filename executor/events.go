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
	// Gate is the value a gate.analysis read and how it compared with its bound;
	// set on the step_progress event of each analysis a gate checks.
	Gate *GateValue
	// Timeline is what the apply did and read back (steps, traffic per pool,
	// gates, rollbacks); set on apply_complete and apply_errored only.
	Timeline *Timeline
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

// emitter serialises events towards the Runner's sink and stamps them. It also
// keeps the apply's Timeline from the events and the read-backs it is told of.
type emitter struct {
	mu   sync.Mutex
	sink EventSink
	now  func() time.Time

	recOnce sync.Once
	rec     *recorder
}

// recorder returns the emitter's timeline recorder, creating it.
func (em *emitter) recorder() *recorder {
	em.recOnce.Do(func() { em.rec = newRecorder(em.now) })
	return em.rec
}

func (em *emitter) emit(e Event) {
	if e.Level == "" {
		e.Level = LevelInfo
	}
	if e.Time.IsZero() {
		e.Time = em.now()
	}
	em.mu.Lock()
	defer em.mu.Unlock()
	em.recorder().event(&e)
	if em.sink == nil {
		return
	}
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

// warn logs and emits a warning about a step.
func (x *execution) warn(st *planner.Step, msg string) {
	x.log.Warn(msg)
	x.em.emit(Event{Level: LevelWarn, Type: EventStepProgress, Step: st, Service: st.Service, Message: msg})
}
