package operation

import (
	"context"
	"testing"

	"github.com/nonstop-release/nonstop/planner"
)

// TestPlanEstimatesUnderTheApplyBounds: a plan made by the operation carries
// the bounds an apply with the same options runs under (-parallelism and
// -parallelism-per-host), and its estimate is simulated under them.
func TestPlanEstimatesUnderTheApplyBounds(t *testing.T) {
	tests := map[string]struct {
		parallelism, perHost int
		want                 planner.Bounds
	}{
		"defaults":       {0, 0, planner.Bounds{WritesPerProvider: 10, Deploys: 10, DeploysPerHost: 10}},
		"-parallelism 3": {3, 0, planner.Bounds{WritesPerProvider: 3, Deploys: 3, DeploysPerHost: 10}},
		"per host 1":     {0, 1, planner.Bounds{WritesPerProvider: 10, Deploys: 10, DeploysPerHost: 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			// Versions the registry hides and the state does not know: the plan
			// upgrades both instances.
			s := newShop(t)
			s.fleet.setWeight("127.0.0.1:18081", 1)
			for _, addr := range shopAddrs {
				in := s.fleet.instances[addr]
				in.Version, in.VersionKnown, in.Metadata = "", false, nil
				s.fleet.instances[addr] = in
			}
			o := s.options()
			o.Parallelism, o.PerHostDeploys = tc.parallelism, tc.perHost
			p, ds := Plan(context.Background(), o)
			if ds.HasErrors() || p == nil {
				t.Fatalf("plan: %v", ds)
			}
			e := p.Summary.Estimate
			if e == nil {
				t.Fatal("the plan has no estimate basis")
			}
			if e.Bounds != tc.want {
				t.Errorf("bounds %+v, want %+v", e.Bounds, tc.want)
			}
			// Each upgrade deploys, assumed to take AssumedDeploy, after its waits.
			if len(p.Steps) == 0 || p.Summary.EstimatedWall < e.CriticalWaits+planner.Duration(planner.AssumedDeploy) {
				t.Errorf("%d steps estimated %v (critical waits %v), want at least the waits and a deploy's %v",
					len(p.Steps), p.Summary.EstimatedWall, e.CriticalWaits, planner.AssumedDeploy)
			}
		})
	}
}
