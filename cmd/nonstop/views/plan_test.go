package views

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

func intArg(n int) *int               { return &n }
func boolArg(b bool) *bool            { return &b }
func regWeightArg(f float64) *float64 { return &f }

// renderTestPlan is a hand-built plan: a rolling upgrade of one instance of
// order-service with a new route, then user-service after it.
func renderTestPlan() *planner.Plan {
	member := "nginx.edge/order_backend/127.0.0.1:18081"
	beta := &providers.Route{Pool: "order_backend", Name: "beta-testers", Version: "1.5.0",
		Match: providers.RouteMatch{ClientIP: []string{"10.8.0.0/16"}}, Members: []string{"127.0.0.1:18081"}}
	return &planner.Plan{
		FormatVersion: planner.FormatVersion,
		Changes: []planner.Change{
			{Action: planner.Update, Service: "order-service", Object: "instance", Address: "a/127.0.0.1:18081", Field: "version", Before: "1.4.2", After: "1.5.0"},
			{Action: planner.NoOp, Service: "order-service", Object: "instance", Address: "b/127.0.0.1:18083", Field: "version", Before: "1.5.0", After: "1.5.0"},
			{Action: planner.Update, Service: "user-service", Object: "member", Address: "haproxy.lb/users/127.0.0.1:19001", Field: "weight", Before: 0.0, After: 10.0},
			{Action: planner.Create, Service: "order-service", Object: "route", Address: "route beta-testers", Field: "version", After: "1.5.0"},
			{Action: planner.Delete, Service: "order-service", Object: "route", Address: "route old-beta"},
		},
		Steps: []planner.Step{
			{ID: "o1", Kind: planner.BalancerSetWeight, Service: "order-service", Target: member,
				Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Address: "127.0.0.1:18081", Weight: intArg(0)}},
			{ID: "o2", Kind: planner.RegistrySetEnabled, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: planner.StepArgs{Provider: "nacos.prod", Address: "127.0.0.1:18081", Enabled: boolArg(false)}, After: []string{"o1"}},
			{ID: "o3", Kind: planner.WaitPropagation, Service: "order-service", Args: planner.StepArgs{Duration: planner.Duration(30 * time.Second)}, After: []string{"o2"}},
			{ID: "o4", Kind: planner.WaitDrain, Service: "order-service", Target: member,
				Args: planner.StepArgs{Duration: planner.Duration(5 * time.Minute), Members: []string{member}}, After: []string{"o3"}},
			{ID: "o5", Kind: planner.Deploy, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: planner.StepArgs{Address: "127.0.0.1:18081", Group: "a", Version: "1.5.0", FromVersion: "1.4.2"}, After: []string{"o4"}},
			{ID: "o6", Kind: planner.WaitHealthy, Service: "order-service", Target: "order-service/a/127.0.0.1:18081", After: []string{"o5"}},
			{ID: "o7", Kind: planner.Verify, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: planner.StepArgs{Version: "1.5.0"}, After: []string{"o6"}},
			{ID: "o8", Kind: planner.RegistrySetWeight, Service: "order-service", Target: "order-service/a/127.0.0.1:18081",
				Args: planner.StepArgs{RegistryWeight: regWeightArg(1)}, After: []string{"o7"}},
			{ID: "o9", Kind: planner.BalancerSetWeight, Service: "order-service", Target: member,
				Args: planner.StepArgs{Weight: intArg(1)}, After: []string{"o7", "o8"}},
			{ID: "o10", Kind: planner.RouteSet, Service: "order-service", Target: "nginx.edge/order_backend/beta-testers",
				Args: planner.StepArgs{Route: beta}, After: []string{"o9"}},
			{ID: "o11", Kind: planner.RouteDelete, Service: "order-service", Target: "nginx.edge/order_backend/old-beta",
				Args: planner.StepArgs{Route: &providers.Route{Pool: "order_backend", Name: "old-beta"}}, After: []string{"o10"}},
			{ID: "u1", Kind: planner.BalancerSwitch, Service: "user-service", Target: "haproxy.lb/users",
				Args: planner.StepArgs{Weights: map[string]int{"127.0.0.1:19002": 0, "127.0.0.1:19001": 10}}, After: []string{"o11"}},
			{ID: "u2", Kind: planner.BalancerSetState, Service: "user-service", Target: "haproxy.lb/users/127.0.0.1:19002",
				Args: planner.StepArgs{State: providers.StateDrain}, After: []string{"u1"}},
			{ID: "u3", Kind: planner.GateAnalysis, Service: "user-service", Args: planner.StepArgs{Analysis: []string{"error-rate", "latency"}}, After: []string{"u2"}},
			{ID: "u4", Kind: planner.Pause, Service: "user-service", Args: planner.StepArgs{UntilResumed: true}, After: []string{"u3"}},
		},
		Prior: planner.Prior{Objects: map[string]string{"order-service/instance/127.0.0.1:18081": "sha256:ab"}, ConfigHash: "cafe"},
		Summary: planner.Summary{Upgrades: 1, WeightChanges: 3, RouteChanges: 2, OtherChanges: 1,
			EstimatedWall: planner.Duration(5*time.Minute + 30*time.Second)},
	}
}

func TestRenderPlanGolden(t *testing.T) {
	var b bytes.Buffer
	if err := RenderPlan(&b, renderTestPlan()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "plan/plan.human.txt", b.String())
}

func TestRenderPlanNoChanges(t *testing.T) {
	plans := map[string]*planner.Plan{
		"nil":        nil,
		"empty":      {FormatVersion: planner.FormatVersion},
		"only no-op": {Changes: []planner.Change{{Action: planner.NoOp, Service: "s", Address: "a/127.0.0.1:1", Field: "version", Before: "1", After: "1"}}},
	}
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := RenderPlan(&b, p); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(NoChangesMessage+"\n", b.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestChangeLine(t *testing.T) {
	tests := map[string]struct {
		change planner.Change
		want   string
	}{
		"version": {planner.Change{Action: planner.Update, Service: "order-service", Address: "a/127.0.0.1:18081", Field: "version", Before: "1.4.2", After: "1.5.0"},
			`~ order-service a/127.0.0.1:18081 version "1.4.2" -> "1.5.0"`},
		"weight after JSON": {planner.Change{Action: planner.Update, Service: "s", Address: "nginx.edge/p/127.0.0.1:1", Field: "weight", Before: 0.0, After: 1.5},
			`~ s nginx.edge/p/127.0.0.1:1 weight 0 -> 1.5`},
		"int and bool": {planner.Change{Action: planner.Update, Service: "s", Address: "a/127.0.0.1:1", Field: "enabled", Before: false, After: 3},
			`~ s a/127.0.0.1:1 enabled false -> 3`},
		"create route": {planner.Change{Action: planner.Create, Service: "s", Address: "route beta", After: map[string]any{"version": "2"}},
			`+ s route beta {"version":"2"}`},
		"delete route": {planner.Change{Action: planner.Delete, Service: "s", Address: "route beta", Before: "2"}, `- s route beta "2"`},
		"no before":    {planner.Change{Action: planner.Update, Service: "s", Address: "a/h:1", Field: "version", After: "2"}, `~ s a/h:1 version (none) -> "2"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := changeLine(tc.change); got != tc.want {
				t.Errorf("changeLine = %s\nwant          %s", got, tc.want)
			}
		})
	}
}

func TestRenderPlanNumbersStepsAcrossServices(t *testing.T) {
	var b bytes.Buffer
	if err := RenderPlan(&b, renderTestPlan()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		" 1. balancer.set_weight nginx.edge/order_backend/127.0.0.1:18081 weight=0\n",
		" 3. wait.propagation 30s\n",
		" 5. deploy order-service/a/127.0.0.1:18081 1.4.2 -> 1.5.0\n",
		" 9. balancer.set_weight nginx.edge/order_backend/127.0.0.1:18081 weight=1 (after 7, 8)\n",
		"Plan: 1 instance to upgrade, 3 weight changes, 2 route changes, 1 other change.\n",
		"Estimated wall time: 5m30s (waits on the critical path)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
