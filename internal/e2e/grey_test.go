package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/operation"
)

// greyHold is how long the test holds the example's manual canary pause (the
// migration) before it resumes it.
const greyHold = 10 * time.Second

// TestGreyByID runs examples/grey-by-id as written on the real fleet: four
// slow-starting instances at 1.9.0 behind nginx and HAProxy (with active checks
// and the number map) and registered in Polaris, under steady load on the three
// paths. The first apply moves group a to 2.0.0, places the route
// new-records (query parameter id ≥ 5000000) on both balancers and holds at the
// canary's dark step (weight 0) until the test resumes it; then group b follows. The second
// apply, the route block deleted, removes the route. All the while probes go
// through both balancers with id = N-1, N, N+1, 0005000000, a non-number and
// no id. No request may fail on any path, and every path keeps min_available
// serving members; once a balancer holds the route, every id ≥ N it gets is
// answered by 2.0.0 (from the route's backend, group a, until the promotion),
// and until the promotion's split the rest by 1.9.0.
func TestGreyByID(t *testing.T) {
	t.Parallel()
	f := newGreyFleet(t, "1.9.0")
	r1 := f.greyReleaser("2.0.0", true)
	events := newGreyEvents(greyHold, filepath.Join(f.dir, ".nonstop", "resume"))
	r1.events = events
	tr := f.startLoad(4)
	pr := startProber(map[string]string{"nginx": "http://" + f.nginx.Addr(), "haproxy": f.haproxy.URL("www")}, 500*time.Millisecond)
	stopped := false
	defer func() {
		if !stopped {
			pr.stop()
		}
	}()

	_, wall1, err := f.release(r1)
	end1 := time.Now()
	if err != nil {
		t.Fatalf("first apply (canary, route, hold): %v", err)
	}
	routeSet, switchStart, pauseStart, resumedAt, resumeErr := events.times()
	if resumeErr != nil {
		t.Fatalf("resume: %v", resumeErr)
	}
	if pauseStart.IsZero() || resumedAt.IsZero() {
		t.Fatalf("the apply never held at its manual pause (pause %v, resumed %v)", pauseStart, resumedAt)
	}
	held := resumedAt.Sub(pauseStart)
	t.Logf("first apply: %s wall, of which %s held at the manual pause (%s without it)",
		wall1.Round(time.Millisecond), held.Round(time.Millisecond), (wall1 - held).Round(time.Millisecond))

	// After the promotion: every instance at 2.0.0 and serving on every path, the
	// route on both balancers with all four.
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "2.0.0", true)
	if d := cmp.Diff(wantView, f.view(r1)); d != "" {
		t.Errorf("instances after the first apply (-want +got):\n%s", d)
	}
	f.assertRoutes(r1, f.addrs())
	f.assertNoChanges(r1)

	// The migration is over: the route block goes, and so does the route.
	r2 := f.greyReleaser("2.0.0", false)
	_, wall2, err := f.release(r2)
	if err != nil {
		t.Fatalf("second apply (route removed): %v", err)
	}
	t.Logf("second apply (route removed): %s wall", wall2.Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	probes := pr.stop()
	stopped = true
	f.stopLoad(tr, minAvailable)
	f.assertRoutes(r2, nil)
	f.assertNoChanges(r2)

	checkGreyProbes(t, probes, greyWindows{
		routeSet:    map[string]time.Time{"nginx": routeSet["nginx.edge"], "haproxy": routeSet["haproxy.lb"]},
		switchStart: map[string]time.Time{"nginx": switchStart["nginx.edge"], "haproxy": switchStart["haproxy.lb"]},
		resumedAt:   resumedAt,
		end1:        end1,
	}, f.groupA)
}

// assertRoutes asserts that a fresh refresh sees route new-records at 2.0.0 with
// members on both balancers, or no route at all when members is nil.
func (f *fleet) assertRoutes(r *releaser, members []string) {
	f.t.Helper()
	live, ds := operation.Refresh(context.Background(), f.options(r))
	if ds.HasErrors() {
		f.t.Fatalf("refresh: %v", ds.Err())
	}
	ls := live.Services[f.service]
	for _, bal := range []string{"nginx", "haproxy"} {
		routes := ls.Routes[bal]
		if members == nil {
			if len(routes) != 0 {
				f.t.Errorf("balancer %s still holds routes %+v", bal, routes)
			}
			continue
		}
		if len(routes) != 1 || routes[0].Name != greyRoute || routes[0].Version != "2.0.0" {
			f.t.Errorf("balancer %s holds routes %+v, want %s at 2.0.0", bal, routes, greyRoute)
			continue
		}
		got := slices.Sorted(slices.Values(routes[0].Members))
		if d := cmp.Diff(slices.Sorted(slices.Values(members)), got); d != "" {
			f.t.Errorf("balancer %s: route %s members (-want +got):\n%s", bal, greyRoute, d)
		}
	}
}

// greyWindows are the times the probes are judged by, per balancer.
type greyWindows struct {
	routeSet    map[string]time.Time // the route took effect (its route.set ended)
	switchStart map[string]time.Time // the canary's split began
	resumedAt   time.Time            // the hold ended: the promotion began
	end1        time.Time            // the first apply ended
}

// checkGreyProbes judges every probe: none failed; an id ≥ N sent after its
// balancer took the route is answered by 2.0.0 through the route's upstream
// (from group a until the promotion); any other request goes to the pool until
// the first apply ends and is answered by 1.9.0 until the promotion's split (the
// canary holds at weight 0: only its route reaches it); and everything by 2.0.0
// once the first apply has ended.
func checkGreyProbes(t *testing.T, probes []probe, w greyWindows, groupA []string) {
	t.Helper()
	type tally struct{ routed, rest, failed, total int }
	tallies := map[string]*tally{"nginx": {}, "haproxy": {}}
	var bad []string
	for _, p := range probes {
		tl := tallies[p.lb]
		tl.total++
		if !p.ok() {
			tl.failed++
			bad = append(bad, "failed: "+p.String())
			continue
		}
		placed, split := w.routeSet[p.lb], w.switchStart[p.lb]
		fromA := slices.ContainsFunc(groupA, func(a string) bool { return strings.HasSuffix(p.servedBy, a) })
		if !p.c.isNew && p.at.Before(w.end1) && p.upstream != pool {
			bad = append(bad, "a request without a new record not sent to the pool: "+p.String())
		}
		switch {
		case p.at.After(w.end1):
			if p.version != "2.0.0" {
				bad = append(bad, "after the promotion: "+p.String())
			}
		case p.c.isNew && !placed.IsZero() && p.at.After(placed):
			tl.routed++
			if p.version != "2.0.0" || p.upstream != pool+"__"+greyRoute || (p.at.Before(w.resumedAt) && !fromA) {
				bad = append(bad, "a new record not routed to 2.0.0 (group a): "+p.String())
			}
		case p.c.isNew:
			// Before the route: either version may answer while it is placed.
		case split.IsZero() || p.at.Before(split):
			// The canary is dark (weight 0) until the promotion's split: a
			// request without a routed id never reaches 2.0.0 before it.
			if !placed.IsZero() && p.at.After(placed) && p.at.Before(w.resumedAt) {
				tl.rest++
			}
			if p.version != "1.9.0" {
				bad = append(bad, "without a routed id before the promotion: "+p.String())
			}
		}
	}
	for _, b := range bad {
		t.Error(b)
	}
	for lb, tl := range tallies {
		t.Logf("probes via %s: %d sent, %d failed; %d ids ≥ N after the route took effect, all at 2.0.0; "+
			"%d other requests during the hold, all at 1.9.0", lb, tl.total, tl.failed, tl.routed, tl.rest)
		// Enough probes in each window for the assertions to mean something.
		if tl.routed < 10 || tl.rest < 10 {
			t.Errorf("via %s: %d routed probes and %d during the hold, want at least 10 of each", lb, tl.routed, tl.rest)
		}
	}
}
