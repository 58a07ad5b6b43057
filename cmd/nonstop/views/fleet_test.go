package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/planner"
)

// fleetEvents is an apply of twelve services of five steps each (disable,
// propagation, deploy, health, enable), a tenth of a second apart: svc-03
// fails its health check and rolls back, svc-04 depends on it and is skipped,
// the others complete. The events come in time order, as the executor emits
// them.
func fleetEvents() []executor.Event {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	var events []executor.Event
	totals := map[string]int{}
	add := func(at time.Duration, e executor.Event) {
		e.Time = t0.Add(at)
		if e.Level == "" {
			e.Level = executor.LevelInfo
		}
		events = append(events, e)
	}
	for i := range 12 {
		name := fmt.Sprintf("svc-%02d", i)
		totals[name] = 5
		if i == 4 {
			add(7350*time.Millisecond, executor.Event{Level: executor.LevelWarn, Type: executor.EventServiceSkipped, Service: name,
				Message: name + ": skipped: it depends on svc-03, which failed"})
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", 18000+i)
		kinds := []planner.StepKind{planner.RegistrySetEnabled, planner.WaitPropagation, planner.Deploy, planner.WaitHealthy, planner.RegistrySetEnabled}
		lengths := []time.Duration{50 * time.Millisecond, 4 * time.Second, time.Second, 2 * time.Second, 50 * time.Millisecond}
		at := time.Duration(i) * 100 * time.Millisecond
		for k, kind := range kinds {
			st := &planner.Step{ID: fmt.Sprintf("%s.%d", name, k+1), Kind: kind, Service: name, Target: name + "/a/" + addr}
			label := stepLabel(st)
			add(at, executor.Event{Type: executor.EventStepStart, Step: st, Service: name, Message: label + ": Starting..."})
			at += lengths[k]
			if i == 3 && kind == planner.WaitHealthy {
				add(at, executor.Event{Level: executor.LevelError, Type: executor.EventStepErrored, Step: st, Service: name,
					Elapsed: lengths[k], Message: label + ": Failed after 2s", Error: "health check did not answer 200 within 2s"})
				add(at, executor.Event{Level: executor.LevelWarn, Type: executor.EventRollbackStart, Service: name,
					Message: name + ": " + st.ID + " failed; rolling back"})
				add(at+3*time.Second, executor.Event{Level: executor.LevelWarn, Type: executor.EventRollbackComplete, Service: name,
					Elapsed: 3 * time.Second, Message: name + ": rolled back"})
				break
			}
			add(at, executor.Event{Type: executor.EventStepComplete, Step: st, Service: name, Elapsed: lengths[k],
				Message: fmt.Sprintf("%s: Complete after %s", label, lengths[k])})
		}
	}
	add(11*time.Second, executor.Event{Level: executor.LevelError, Type: executor.EventApplyErrored, Elapsed: 11 * time.Second,
		Message: "Apply failed: applied 10 services; rolled back svc-03; skipped svc-04.", Error: "apply failed"})
	slices.SortStableFunc(events, func(a, b executor.Event) int { return a.Time.Compare(b.Time) })
	return append([]executor.Event{{Level: executor.LevelInfo, Type: executor.EventApplyStart, Time: t0,
		Message: "Apply: 57 steps", Totals: totals}}, events...)
}

// TestFleetLineSinkGolden: above FleetThreshold services the CI view prints a
// line per service phase (deploying, done, failed, ...) and a summary line
// every HeartbeatEvery and at the end, not every step; failures stay whole.
func TestFleetLineSinkGolden(t *testing.T) {
	var buf bytes.Buffer
	sink := LineSink(&buf)
	for _, e := range fleetEvents() {
		sink.Emit(e)
	}
	out := buf.String()
	if strings.Contains(out, "Starting...") || strings.Contains(out, "Complete after") {
		t.Error("the fleet line view prints step starts or completions")
	}
	for _, want := range []string{
		"error wait.healthy svc-03/a/127.0.0.1:18003: Failed after 2s: health check did not answer 200 within 2s\n",
		"warn  svc-04: skipped: it depends on svc-03, which failed\n",
		"info  svc-11: done (5/5 steps)\n",
		"info  services: 10 done, 1 rolled back, 1 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	checkGolden(t, "events/fleet.txt", out)
}

// TestFleetJSONSinkGolden: the JSON view keeps every step event and adds
// service_phase, fleet_summary (hook.services) and, at the end, one
// service_summary per service.
func TestFleetJSONSinkGolden(t *testing.T) {
	var buf bytes.Buffer
	sink := JSONSink(&buf)
	for _, e := range fleetEvents() {
		sink.Emit(e)
	}
	types := map[string]int{}
	var last map[string]any
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		types[obj["type"].(string)]++
		if obj["type"] == EventFleetSummary {
			last = obj
		}
	}
	if types[EventServiceSummary] != 12 || types[executor.EventStepStart] != 54 {
		t.Errorf("%d service_summary and %d step_start events, want 12 and 54 (svc-03's last step never starts)", types[EventServiceSummary], types[executor.EventStepStart])
	}
	want := map[string]any{"done": 10.0, "rolled back": 1.0, "skipped": 1.0}
	if got := last["hook"].(map[string]any)["services"]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("last fleet_summary counts %v, want %v", got, want)
	}
	checkGolden(t, "events/fleet.jsonl", buf.String())
}

// TestFleetTTYFrame: above FleetThreshold services the live view draws the
// summary line, the services that stopped first, then those running a step,
// longest running first; done and queued services are only counted.
func TestFleetTTYFrame(t *testing.T) {
	var buf bytes.Buffer
	v := TTYSink(&buf)
	clock := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	v.now = func() time.Time { return clock }
	v.tick = time.Hour
	var frames []string
	for _, e := range fleetEvents() {
		clock = e.Time
		v.Emit(e)
		if e.Type == executor.EventServiceSkipped {
			frames = append(frames, strings.Join(v.fleetFrame(clock), "\n"))
		}
	}
	v.Close()
	frames = append(frames, strings.Join(v.fleetFrame(clock), "\n"))
	checkGolden(t, "events/fleet-tty.txt", strings.Join(frames, "\n----\n")+"\n")
	if n := strings.Count(frames[0], "\n") + 1; n > 2+ttyFleetRows {
		t.Errorf("frame of %d lines, want at most %d", n, 2+ttyFleetRows)
	}
}
