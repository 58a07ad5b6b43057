package views

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/planner"
)

// sampleEvents is a short apply with one failure and a rollback.
func sampleEvents() []executor.Event {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	deploy := &planner.Step{ID: "order-service.5", Kind: planner.Deploy, Service: "order-service", Target: "order-service/a/127.0.0.1:18081"}
	health := &planner.Step{ID: "order-service.6", Kind: planner.WaitHealthy, Service: "order-service", Target: "order-service/a/127.0.0.1:18081"}
	return []executor.Event{
		{Level: executor.LevelInfo, Type: executor.EventApplyStart, Time: t0, Message: "Apply: 2 steps", Totals: map[string]int{"order-service": 2}},
		{Level: executor.LevelInfo, Type: executor.EventStepStart, Time: t0, Step: deploy, Service: "order-service", Message: "deploy order-service/a/127.0.0.1:18081: Starting..."},
		{Level: executor.LevelInfo, Type: executor.EventStepComplete, Time: t0.Add(3 * time.Second), Step: deploy, Service: "order-service", Elapsed: 3 * time.Second, Message: "deploy order-service/a/127.0.0.1:18081: Complete after 3s"},
		{Level: executor.LevelInfo, Type: executor.EventStepStart, Time: t0.Add(3 * time.Second), Step: health, Service: "order-service", Message: "wait.healthy order-service/a/127.0.0.1:18081: Starting..."},
		{Level: executor.LevelError, Type: executor.EventStepErrored, Time: t0.Add(63 * time.Second), Step: health, Service: "order-service", Elapsed: time.Minute, Message: "wait.healthy order-service/a/127.0.0.1:18081: Failed after 1m0s", Error: "health check http://127.0.0.1:18081/health did not answer 200 within 1m0s (last: status 503)"},
		{Level: executor.LevelWarn, Type: executor.EventRollbackStart, Time: t0.Add(63 * time.Second), Service: "order-service", Message: "order-service: order-service.6 failed; rolling back"},
		{Level: executor.LevelWarn, Type: executor.EventRollbackComplete, Time: t0.Add(70 * time.Second), Service: "order-service", Elapsed: 7 * time.Second, Message: "order-service: rolled back"},
		{Level: executor.LevelError, Type: executor.EventApplyErrored, Time: t0.Add(70 * time.Second), Elapsed: 70 * time.Second, Message: "Apply failed: rolled back order-service.", Error: "apply failed: order-service rolled_back"},
	}
}

func TestJSONSinkGolden(t *testing.T) {
	var buf bytes.Buffer
	sink := JSONSink(&buf)
	for _, e := range sampleEvents() {
		sink.Emit(e)
	}
	for i, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v", i+1, err)
		}
		for _, k := range []string{"@level", "@message", "@timestamp", "type"} {
			if _, ok := obj[k]; !ok {
				t.Errorf("line %d has no %q", i+1, k)
			}
		}
	}
	checkGolden(t, "events/events.jsonl", buf.String())
}

func TestLineSinkGolden(t *testing.T) {
	var buf bytes.Buffer
	sink := LineSink(&buf)
	for _, e := range sampleEvents() {
		sink.Emit(e)
	}
	checkGolden(t, "events/events.txt", buf.String())
}

var ansi = regexp.MustCompile(`\x1b\[[0-9]*[A-Za-z]|\r`)

func TestTTYSinkRedrawsInPlace(t *testing.T) {
	var buf bytes.Buffer
	v := TTYSink(&buf)
	clock := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	v.now = func() time.Time { return clock }
	v.tick = time.Hour // frames only on events
	events := sampleEvents()
	for _, e := range events[:4] {
		clock = e.Time
		v.Emit(e)
	}
	// Four events at two instants: an event in the same instant as the last frame
	// is not drawn.
	frames := strings.Count(buf.String(), "\x1b[2K")
	if frames != 2 {
		t.Errorf("drew %d frames of one line for 4 events at 2 instants, want 2 (throttled)", frames)
	}
	clock = clock.Add(5 * time.Second)
	v.Emit(executor.Event{Type: executor.EventStepProgress, Time: clock, Message: "note"})
	if !strings.Contains(buf.String(), "\x1b[1A") {
		t.Errorf("second frame does not move the cursor up over the first: %q", buf.String())
	}
	last := lastFrame(buf.String(), 2)
	want := "order-service  [##########----------]   1/2    wait.healthy order-service/a/127.0.0.1:18081  5s"
	if last[0] != want {
		t.Errorf("frame line\n got %q\nwant %q", last[0], want)
	}
	for _, e := range events[4:] {
		clock = e.Time
		v.Emit(e)
	}
	v.Close()
	out := lastFrame(buf.String(), 4)
	if !strings.Contains(out[0], "rolled back") || !strings.Contains(out[3], "Apply failed") {
		t.Errorf("final frame = %q", out)
	}
}

// lastFrame returns the last n lines of the output with escapes removed.
func lastFrame(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(ansi.ReplaceAllString(s, ""), "\n"), "\n")
	return lines[len(lines)-n:]
}
