package planner

import (
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

func intArg(n int) *int               { return &n }
func boolArg(b bool) *bool            { return &b }
func regWeightArg(f float64) *float64 { return &f }

// renderTestPlan is a hand-built plan: a rolling upgrade of one instance of
// order-service with a new route, then user-service after it. The plan file tests
// save it; cmd/nonstop/views renders a copy of it.
func renderTestPlan() *Plan {
	member := "nginx.edge/order_backend/127.0.0.1:18081"
	beta := &providers.Route{Pool: "order_backend", Name: "beta-testers", Version: "1.5.0",
		Match: providers.RouteMatch{ClientIP: []string{"10.8.0.0/16"}}, Members: []string{"127.0.0.1:18081"}}
	return &Plan{
		FormatVersion: FormatVersion,
		Changes: []Change{
			{Action: Update, Service: "order-service", Object: "instance", Address: "a/127.0.0.1:18081", Field: "version", Before: "1.4.2", After: "1.5.0"},
			{Action: NoOp, Service: "order-service", Object: "instance", Address: "b/127.0.0.1:18083", Field: "version", Before: "1.5.0", After: "1.5.0"},
			{Action: Update, Service: "user-service", Object: "member", Address: "haproxy.lb/users/127.0.0.1:19001", Field: "weight", Before: 0.0, After: 10.0},
			{Action: Create, Service: "order-service", Object: "route", Address: "route beta-testers", Field: "version", After: "1.5.0"},
			{Action: Delete, Service: "order-service", Object: "route", Address: "route old-beta"},
		},
		Steps: []Step{
			{ID: "o1", Kind: BalancerSetWeight, Service: "order-service", Target: member,
				Args: StepArgs{Provider: "nginx.edge", Pool: "order_backend", Address: "127.0.0.1:18081", Weight: intArg(0)}},
			{ID: "o2", Kind: RegistrySetEnabled, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: StepArgs{Provider: "nacos.prod", Address: "127.0.0.1:18081", Enabled: boolArg(false)}, After: []string{"o1"}},
			{ID: "o3", Kind: WaitPropagation, Service: "order-service", Args: StepArgs{Duration: Duration(30 * time.Second)}, After: []string{"o2"}},
			{ID: "o4", Kind: WaitDrain, Service: "order-service", Target: member,
				Args: StepArgs{Duration: Duration(5 * time.Minute), Members: []string{member}}, After: []string{"o3"}},
			{ID: "o5", Kind: Deploy, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: StepArgs{Address: "127.0.0.1:18081", Group: "a", Version: "1.5.0", FromVersion: "1.4.2"}, After: []string{"o4"}},
			{ID: "o6", Kind: WaitHealthy, Service: "order-service", Target: "order-service/a/127.0.0.1:18081", After: []string{"o5"}},
			{ID: "o7", Kind: Verify, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: StepArgs{Version: "1.5.0"}, After: []string{"o6"}},
			{ID: "o8", Kind: RegistrySetWeight, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: StepArgs{RegistryWeight: regWeightArg(1)}, After: []string{"o7"}},
			{ID: "o9", Kind: BalancerSetWeight, Service: "order-service", Target: member,
				Args: StepArgs{Weight: intArg(1)}, After: []string{"o7", "o8"}},
			{ID: "o10", Kind: RouteSet, Service: "order-service", Target: "nginx.edge/order_backend/beta-testers",
				Args: StepArgs{Route: beta}, After: []string{"o9"}},
			{ID: "o11", Kind: RouteDelete, Service: "order-service", Target: "nginx.edge/order_backend/old-beta",
				Args: StepArgs{Route: &providers.Route{Pool: "order_backend", Name: "old-beta"}}, After: []string{"o10"}},
			{ID: "u1", Kind: BalancerSwitch, Service: "user-service", Target: "haproxy.lb/users",
				Args: StepArgs{Weights: map[string]int{"127.0.0.1:19002": 0, "127.0.0.1:19001": 10}}, After: []string{"o11"}},
			{ID: "u2", Kind: BalancerSetState, Service: "user-service", Target: "haproxy.lb/users/127.0.0.1:19002",
				Args: StepArgs{State: providers.StateDrain}, After: []string{"u1"}},
			{ID: "u3", Kind: GateAnalysis, Service: "user-service", Args: StepArgs{Analysis: []string{"error-rate", "latency"}}, After: []string{"u2"}},
			{ID: "u4", Kind: Pause, Service: "user-service", Args: StepArgs{UntilResumed: true}, After: []string{"u3"}},
		},
		Prior: Prior{Objects: map[string]string{"order-service/instance/127.0.0.1:18081": "sha256:ab"}, ConfigHash: "cafe"},
		Summary: Summary{Upgrades: 1, WeightChanges: 3, RouteChanges: 2, OtherChanges: 1,
			EstimatedWall: Duration(5*time.Minute + 30*time.Second)},
	}
}
