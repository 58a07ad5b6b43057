package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// TestTimelineOfASwitch switches a pool from group a to group b on a balancer that
// confirms members: the timeline has the step, and the pool's traffic as the
// confirmation read it, group a's share giving way to group b's. The watch hands
// the same timeline over, and it fits in the state as JSON.
func TestTimelineOfASwitch(t *testing.T) {
	rl := newRelease(t, releaseOptions{instances: 2})
	a, b := rl.addrs[0], rl.addrs[1]
	ctx := context.Background()
	if err := rl.lb.SetMemberState(ctx, "order_backend", b, providers.StateDrain); err != nil {
		t.Fatal(err)
	}
	up := time.Now().Add(250 * time.Millisecond) // within the health timeout (300ms)
	lb := &checkingLB{lb: rl.lb, pool: "order_backend", minServing: 2, upAt: map[string]time.Time{b: up}}
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nginx", Name: "edge"}] = lb
	events := &eventLog{}
	r.Events = events
	p := &planner.Plan{Steps: []planner.Step{{ID: "s.1", Kind: planner.BalancerSwitch, Service: "order-service", Target: "nginx.edge/order_backend",
		Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Weights: map[string]int{a: 0, b: 1}}}}}
	WatchTimeline(p, rl.cfg, "apply-1")
	mustApply(t, r, p)

	last := events.events[len(events.events)-1]
	tl := last.Timeline
	if tl == nil {
		t.Fatalf("the last event (%s) carries no timeline", last.Type)
	}
	if taken := TakeTimeline("apply-1"); taken != tl {
		t.Errorf("TakeTimeline = %p, want the timeline of the last event %p", taken, tl)
	}
	if TakeTimeline("apply-1") != nil {
		t.Error("a watch is taken twice")
	}
	if len(tl.Steps) != 1 || tl.Steps[0].ID != "s.1" || tl.Steps[0].Result != StepDone || tl.Steps[0].EndMS < 200 {
		t.Fatalf("steps %+v, want s.1 done after the checks passed", tl.Steps)
	}
	if got := tl.Steps[0].Detail; !strings.Contains(got, a+"=0") || !strings.Contains(got, b+"=1") {
		t.Errorf("detail %q, want the weights", got)
	}
	if len(tl.Services) != 1 || tl.Services[0].Name != "order-service" || tl.Services[0].To != "2.0.0" || len(tl.Services[0].Groups) != 2 {
		t.Errorf("services %+v", tl.Services)
	}
	if len(tl.Traffic) != 1 {
		t.Fatalf("traffic series %+v, want the pool", tl.Traffic)
	}
	s := tl.Traffic[0]
	if s.Kind != "balancer" || s.Provider != "nginx.edge" || s.Pool != "order_backend" || s.Service != "order-service" {
		t.Errorf("series %+v", s)
	}
	share := func(smp TrafficSample, group string) float64 {
		for _, g := range smp.Groups {
			if g.Group == group {
				return g.Weight
			}
		}
		return 0
	}
	// The switch raises b and reads the pool until the balancer confirms it, then
	// lowers a (no read after that): a serves alone, then a and b.
	first, end := s.Samples[0], s.Samples[len(s.Samples)-1]
	if share(first, "a") != 1 || share(first, "b") != 0 {
		t.Errorf("first sample %+v, want group a alone serving while b's checks fail", first)
	}
	if share(end, "b") != 1 || end.T < 200 {
		t.Errorf("last sample %+v, want group b serving once its checks pass", end)
	}
	for i := 1; i < len(s.Samples); i++ {
		if slices.Equal(s.Samples[i].Groups, s.Samples[i-1].Groups) {
			t.Errorf("samples %d and %d hold the same values, want a sample per change", i-1, i)
		}
	}
	if len(s.Samples) > 4 {
		t.Errorf("%d samples of a pool read every 200ms for a second, want a few (one per change): %+v", len(s.Samples), s.Samples)
	}
	data, err := json.Marshal(tl.ForService("order-service"))
	if err != nil || len(data) > 4000 {
		t.Errorf("the timeline is %d bytes of JSON (%v), want a small one", len(data), err)
	}
}

// TestTimelineSampling keeps a sample per change, with the time its values were
// first and last read; a dip that lasted one read stays; a series that changes at
// every read is thinned to maxSamples.
func TestTimelineSampling(t *testing.T) {
	r := newRecorder(time.Now)
	v := func(w float64) []GroupTraffic { return []GroupTraffic{{Group: "a", Members: 1, Serving: 1, Weight: w}} }
	r.mu.Lock()
	for _, rd := range []struct {
		t int64
		w float64
	}{{0, 1}, {200, 1}, {400, 0}, {600, 1}, {800, 1}, {3000, 1}, {3200, 5}} {
		r.sample("balancer", "lb", "p", "s", rd.t, v(rd.w))
	}
	for i := range 2 * maxSamples {
		r.sample("balancer", "lb", "flapping", "s", int64(i*200), v(float64(i%2)))
	}
	r.finish(3300, &Event{})
	r.mu.Unlock()
	var got []string
	for _, s := range r.tl.Traffic[0].Samples {
		got = append(got, fmt.Sprintf("%d-%d:%g", s.T, s.U, s.Groups[0].Weight))
	}
	want := []string{"0-200:1", "400-400:0", "600-3000:1", "3200-3200:5"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("samples\n got %v\nwant %v", got, want)
	}
	if n := len(r.tl.Traffic[1].Samples); n > maxSamples {
		t.Errorf("a flapping series keeps %d samples, want at most %d", n, maxSamples)
	}
}
