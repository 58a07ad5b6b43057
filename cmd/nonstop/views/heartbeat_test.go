package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/planner"
)

// longWaits is an apply with two steps in parallel (a wait with a bound and a
// deploy), then a pause until resumed; beats are the instants the heartbeat
// looks at the running steps.
func longWaits() (events []executor.Event, beats map[int][]time.Time) {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	wait := &planner.Step{ID: "order-service.3", Kind: planner.WaitPropagation, Service: "order-service", Target: "order-service/a/10.0.0.5:8080",
		Args: planner.StepArgs{Address: "10.0.0.5:8080", Group: "a", Duration: planner.Duration(30 * time.Second)}}
	deploy := &planner.Step{ID: "order-service.4", Kind: planner.Deploy, Service: "order-service", Target: "order-service/b/10.0.0.6:8080",
		Args: planner.StepArgs{Address: "10.0.0.6:8080", Group: "b", Version: "1.1.0"}}
	pause := &planner.Step{ID: "order-service.9", Kind: planner.Pause, Service: "order-service", Target: "order-service",
		Args: planner.StepArgs{UntilResumed: true}}
	ev := func(s int, typ executor.EventType, st *planner.Step, msg string) executor.Event {
		e := executor.Event{Level: executor.LevelInfo, Type: typ, Time: at(s), Step: st, Service: "order-service", Message: msg}
		if typ == executor.EventStepComplete {
			e.Elapsed = 12 * time.Second
		}
		return e
	}
	events = []executor.Event{
		{Level: executor.LevelInfo, Type: executor.EventApplyStart, Time: at(0), Message: "Apply: 3 steps", Totals: map[string]int{"order-service": 3}},
		ev(0, executor.EventStepStart, wait, "wait.propagation order-service/a/10.0.0.5:8080: Starting..."),
		ev(0, executor.EventStepStart, deploy, "deploy order-service/b/10.0.0.6:8080: Starting..."),
		ev(12, executor.EventStepComplete, deploy, "deploy order-service/b/10.0.0.6:8080: Complete after 12s"),
		ev(30, executor.EventStepComplete, wait, "wait.propagation order-service/a/10.0.0.5:8080: Complete after 30s"),
		ev(30, executor.EventStepStart, pause, "pause order-service: Starting..."),
		ev(70, executor.EventStepComplete, pause, "pause order-service: Complete after 40s"),
		{Level: executor.LevelInfo, Type: executor.EventApplyComplete, Time: at(70), Elapsed: 70 * time.Second, Message: "Apply complete: 1 service applied."},
	}
	// Before event i, the heartbeat looks at these instants.
	beats = map[int][]time.Time{
		3: {at(5), at(10)},
		4: {at(20), at(25)},
		6: {at(41), at(65)},
	}
	return events, beats
}

func replay(sink *heartbeat) {
	events, beats := longWaits()
	for i, e := range events {
		for _, b := range beats[i] {
			sink.beat(b)
		}
		sink.Emit(e)
	}
}

func TestHeartbeatLinesGolden(t *testing.T) {
	var buf bytes.Buffer
	replay(withHeartbeat(&lineSink{w: &buf}, time.Now, 0))
	out := buf.String()
	for _, want := range []string{
		"still waiting: wait.propagation order-service/a/10.0.0.5:8080, 10s of 30s",
		"still running: deploy order-service/b/10.0.0.6:8080, 10s",
		"still waiting: wait.propagation order-service/a/10.0.0.5:8080, 20s of 30s",
		"still waiting: pause order-service, 30s (until `nonstop resume order-service.9`)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no line %q in\n%s", want, out)
		}
	}
	if strings.Count(out, "still ") != 5 {
		t.Errorf("%d heartbeats, want 5 (every 10s of each running step, none at 5s and 25s)", strings.Count(out, "still "))
	}
	checkGolden(t, "events/heartbeat.txt", out)
}

func TestHeartbeatJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	replay(withHeartbeat(&jsonSink{w: &buf}, time.Now, 0))
	checkGolden(t, "events/heartbeat.jsonl", buf.String())
}

// TestHeartbeatTicker runs its ticker only while steps run.
func TestHeartbeatTicker(t *testing.T) {
	var buf bytes.Buffer
	h := withHeartbeat(&lineSink{w: &buf}, time.Now, time.Hour)
	events, _ := longWaits()
	for i, e := range events {
		h.Emit(e)
		h.mu.Lock()
		ticking, running := h.stop != nil, len(h.running) > 0
		h.mu.Unlock()
		if ticking != running {
			t.Errorf("after event %d (%s): ticker running %t, steps running %t", i, e.Type, ticking, running)
		}
	}
}

// TestTTYShowsParallelSteps draws one line per running step, the longest running
// on the service's line, and clears the lines a shorter frame leaves.
func TestTTYShowsParallelSteps(t *testing.T) {
	var buf bytes.Buffer
	v := TTYSink(&buf)
	events, _ := longWaits()
	clock := events[0].Time
	v.now = func() time.Time { return clock }
	v.tick = time.Hour
	for _, e := range events[:3] {
		v.Emit(e)
	}
	clock = clock.Add(7 * time.Second)
	v.Emit(executor.Event{Type: executor.EventStepWaiting, Time: clock, Message: "note"})
	got := lastFrame(buf.String(), 3)
	want := []string{
		"order-service  [--------------------]   0/3    deploy order-service/b/10.0.0.6:8080  7s",
		"                                               wait.propagation order-service/a/10.0.0.5:8080  7s of 30s",
		"note",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("frame\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	clock = clock.Add(5 * time.Second)
	v.Emit(events[3])
	frame := buf.String()[strings.LastIndex(buf.String(), "\x1b[3A"):]
	if !strings.HasSuffix(frame, "\x1b[J") {
		t.Errorf("a frame shorter than the last does not clear below it: %q", frame)
	}
	if got := lastFrame(buf.String(), 2)[0]; got != "order-service  [######--------------]   1/3    wait.propagation order-service/a/10.0.0.5:8080  12s of 30s" {
		t.Errorf("frame line %q", got)
	}
	v.Close()
}
