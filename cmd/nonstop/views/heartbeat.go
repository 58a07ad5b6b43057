package views

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/planner"
)

// HeartbeatEvery is how often the CI line and JSON views report a step that is
// still running, like Terraform's "Still creating... [10s elapsed]".
const HeartbeatEvery = 10 * time.Second

// heartbeatTick is how often the heartbeat looks at the running steps.
const heartbeatTick = time.Second

// heartbeat passes events on to next and, every HeartbeatEvery of a step's run,
// adds a step_progress event: "still waiting: wait.propagation
// order-service/a/10.0.0.5:8080, 20s of 30s". Its ticker runs only while steps
// run.
type heartbeat struct {
	mu      sync.Mutex
	next    executor.EventSink
	now     func() time.Time
	tick    time.Duration // 0: no ticker (tests call beat)
	running map[*planner.Step]*beatStep
	stop    chan struct{}
}

type beatStep struct {
	step    *planner.Step
	service string
	start   time.Time
	beats   int
}

func withHeartbeat(next executor.EventSink, now func() time.Time, tick time.Duration) *heartbeat {
	return &heartbeat{next: next, now: now, tick: tick, running: map[*planner.Step]*beatStep{}}
}

// Emit notes the steps that start and end and passes the event on.
func (h *heartbeat) Emit(e executor.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e.Type {
	case executor.EventStepStart:
		if e.Step != nil {
			start := e.Time
			if start.IsZero() {
				start = h.now()
			}
			h.running[e.Step] = &beatStep{step: e.Step, service: e.Service, start: start}
			h.startTicker()
		}
	case executor.EventStepComplete, executor.EventStepErrored:
		delete(h.running, e.Step)
	case executor.EventApplyComplete, executor.EventApplyErrored:
		clear(h.running)
	}
	if len(h.running) == 0 {
		h.stopTicker()
	}
	h.next.Emit(e)
}

// beat reports each running step whose run crossed another HeartbeatEvery, oldest
// first.
func (h *heartbeat) beat(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	steps := make([]*beatStep, 0, len(h.running))
	for _, b := range h.running {
		steps = append(steps, b)
	}
	slices.SortFunc(steps, func(a, b *beatStep) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return strings.Compare(a.step.ID, b.step.ID)
	})
	for _, b := range steps {
		n := int(now.Sub(b.start) / HeartbeatEvery)
		if n <= b.beats {
			continue
		}
		b.beats = n
		elapsed := time.Duration(n) * HeartbeatEvery
		h.next.Emit(executor.Event{Level: executor.LevelInfo, Type: executor.EventStepProgress, Time: now,
			Step: b.step, Service: b.service, Elapsed: elapsed, Message: StillText(b.step, elapsed)})
	}
}

func (h *heartbeat) startTicker() {
	if h.tick <= 0 || h.stop != nil {
		return
	}
	stop := make(chan struct{})
	h.stop = stop
	go func() {
		t := time.NewTicker(h.tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				h.beat(h.now())
			}
		}
	}()
}

func (h *heartbeat) stopTicker() {
	if h.stop != nil {
		close(h.stop)
		h.stop = nil
	}
}

// StillText says that a step is still running: "still waiting: wait.propagation
// order-service/a/10.0.0.5:8080, 20s of 30s" for a step that waits, "still
// running: deploy order-service/a/10.0.0.5:8080, 1m0s" for the others.
func StillText(st *planner.Step, elapsed time.Duration) string {
	verb := "still running"
	if waits(st.Kind) {
		verb = "still waiting"
	}
	s := fmt.Sprintf("%s: %s, %s", verb, stepLabel(st), elapsed)
	if b := stepBound(st); b > 0 {
		s += " of " + b.String()
	}
	if st.Kind == planner.Pause && st.Args.UntilResumed {
		s += " (until `nonstop resume " + st.ID + "`)"
	}
	return s
}

// waits reports whether a step kind only waits: for time, for the systems it
// watches, or for `nonstop resume`.
func waits(k planner.StepKind) bool {
	return strings.HasPrefix(string(k), "wait.") || k == planner.Pause
}

// stepBound is the longest a step waits, 0 when the plan does not say.
func stepBound(st *planner.Step) time.Duration {
	switch {
	case st.Kind == planner.Pause && st.Args.UntilResumed:
		return 0
	case waits(st.Kind):
		return time.Duration(st.Args.Duration)
	}
	return 0
}
