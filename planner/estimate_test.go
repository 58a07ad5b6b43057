package planner

import (
	"fmt"
	"testing"
	"time"
)

// estimateSteps builds steps and their dependency indexes from a compact
// description: each step's kind, address or provider, duration and the indexes
// it runs after.
type estStep struct {
	kind     StepKind
	provider string
	address  string
	wait     time.Duration
	inFlight time.Duration
	close    bool
	after    []int32
}

func estimatePlan(in []estStep) ([]Step, [][]int32) {
	steps := make([]Step, len(in))
	after := make([][]int32, len(in))
	for i, s := range in {
		steps[i] = Step{ID: fmt.Sprint(i), Kind: s.kind, Args: StepArgs{Provider: s.provider, Address: s.address,
			Duration: Duration(s.wait), InFlight: Duration(s.inFlight)}}
		if s.close {
			steps[i].Args.Close = []string{"haproxy.lb/ws/" + s.address}
		}
		after[i] = s.after
	}
	return steps, after
}

// repeat returns n copies of s.
func repeat(n int, s estStep) []estStep {
	out := make([]estStep, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// deploysOn returns n independent deploys on n hosts (distinct: true) or on one.
func deploysOn(n int, distinct bool) []estStep {
	out := make([]estStep, n)
	for i := range out {
		host := "10.0.0.1"
		if distinct {
			host = fmt.Sprintf("10.0.%d.%d", i/250, i%250)
		}
		out[i] = estStep{kind: Deploy, address: host + ":8080"}
	}
	return out
}

func TestEstimateWall(t *testing.T) {
	write := func(p string, after ...int32) estStep {
		return estStep{kind: RegistrySetEnabled, provider: p, after: after}
	}
	wait := func(d time.Duration, after ...int32) estStep {
		return estStep{kind: WaitPropagation, wait: d, after: after}
	}
	tests := map[string]struct {
		steps  []estStep
		bounds Bounds
		want   time.Duration
	}{
		"a hundred waits take the time of one": {
			steps: repeat(100, wait(2*time.Second)), bounds: NewBounds(10, 10), want: 2 * time.Second,
		},
		"deploys beyond the bound queue": {
			steps: deploysOn(25, true), bounds: NewBounds(10, 10), want: 3 * AssumedDeploy,
		},
		"the per-host bound binds before the global one": {
			steps: deploysOn(8, false), bounds: NewBounds(10, 2), want: 4 * AssumedDeploy,
		},
		"writes are bounded per provider": {
			steps: append(repeat(20, write("nacos.a")), repeat(10, write("nacos.b"))...), bounds: NewBounds(10, 10),
			want: 2 * AssumedWrite,
		},
		"writes to a provider that groups them go in one group": {
			steps: repeat(30, estStep{kind: BalancerSetWeight, provider: "nginx.edge"}), bounds: NewBounds(10, 10),
			want: AssumedWrite,
		},
		"a write ready during a group waits for the next": {
			steps: []estStep{{kind: BalancerSetWeight, provider: "nginx.edge"}, {kind: WaitPropagation, wait: AssumedWrite / 2},
				{kind: BalancerSetWeight, provider: "nginx.edge", after: []int32{1}}},
			bounds: NewBounds(10, 10), want: 2 * AssumedWrite,
		},
		"a chain adds up": {
			steps: []estStep{write("nacos.a"), wait(2*time.Second, 0), {kind: Deploy, address: "10.0.0.1:1", after: []int32{1}},
				{kind: WaitHealthy, after: []int32{2}}, write("nacos.a", 3)},
			bounds: NewBounds(10, 10), want: AssumedWrite + 2*time.Second + AssumedDeploy + AssumedWrite,
		},
		"zero bounds mean the defaults": {
			steps: deploysOn(20, true), want: 2 * AssumedDeploy,
		},
		"a drain is assumed to end within a second": {
			steps: []estStep{{kind: WaitDrain, wait: 10 * time.Second}}, want: AssumedDrain,
		},
		"a drain that closes long-lived sessions counts its bound": {
			steps: []estStep{{kind: WaitDrain, wait: 10 * time.Second, close: true}}, want: 10 * time.Second,
		},
		"a drain holds at least its in_flight": {
			steps: []estStep{{kind: WaitDrain, wait: 10 * time.Second, inFlight: 3 * time.Second}}, want: 3 * time.Second,
		},
		"no steps": {bounds: NewBounds(1, 1)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			steps, after := estimatePlan(tc.steps)
			if got := EstimateWall(steps, after, tc.bounds).Wall; got != tc.want {
				t.Errorf("EstimateWall = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestEstimateOfAFleet plans the benchmark fleet (1,000 services, 10,000
// instances, depends_on chains of ten) with and without bounds: without, the
// estimate is the critical path of waits as before; with, it can be no less
// than its own critical waits (at most those, drains assumed shorter), nor than
// the deploys' share of the deploy bound.
func TestEstimateOfAFleet(t *testing.T) {
	cfg, live := benchFleet()
	plain, ds := MakePlan(cfg, live, Options{})
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	if plain.Summary.Estimate != nil {
		t.Error("a plan made without bounds has an estimate basis")
	}
	b := NewBounds(10, 10)
	bounded, ds := MakePlan(cfg, live, Options{Bounds: &b})
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	e := bounded.Summary.Estimate
	if e == nil {
		t.Fatal("a plan made with bounds has no estimate basis")
	}
	if e.CriticalWaits > plain.Summary.EstimatedWall {
		t.Errorf("critical waits %s, above the unbounded estimate %s (which counts drains at their bound)",
			time.Duration(e.CriticalWaits), time.Duration(plain.Summary.EstimatedWall))
	}
	deploys := 0
	for _, st := range bounded.Steps {
		if st.Kind == Deploy {
			deploys++
		}
	}
	floor := time.Duration(deploys/b.Deploys) * AssumedDeploy
	wall := time.Duration(bounded.Summary.EstimatedWall)
	if wall < floor || wall < time.Duration(e.CriticalWaits) {
		t.Errorf("estimate %s for %d deploys at %d at once, below the floor %s or the critical waits %s",
			wall, deploys, b.Deploys, floor, time.Duration(e.CriticalWaits))
	}
	t.Logf("%d steps, %d deploys: critical waits %s, estimate %s", len(bounded.Steps), deploys, time.Duration(e.CriticalWaits), wall)
}

// BenchmarkEstimate simulates the benchmark fleet's plan under the default bounds.
func BenchmarkEstimate(b *testing.B) {
	cfg, live := benchFleet()
	p, ds := MakePlan(cfg, live, Options{})
	if ds.HasErrors() {
		b.Fatal(ds.Err())
	}
	index := map[string]int32{}
	for i, st := range p.Steps {
		index[st.ID] = int32(i)
	}
	after := make([][]int32, len(p.Steps))
	for i, st := range p.Steps {
		for _, a := range st.After {
			after[i] = append(after[i], index[a])
		}
	}
	for b.Loop() {
		EstimateWall(p.Steps, after, NewBounds(10, 10))
	}
}

// TestSlots names the slots of each kind of step: a write holds its provider's,
// unless the provider's kind groups the writes it receives (nginx); a deploy
// holds the deploy slot and its host's; a wait holds none.
func TestSlots(t *testing.T) {
	b := NewBounds(10, 4)
	tests := map[string]struct {
		step Step
		want map[string]int
	}{
		"registry write":  {Step{Kind: RegistrySetEnabled, Args: StepArgs{Provider: "nacos.prod"}}, map[string]int{"provider nacos.prod": 10}},
		"haproxy write":   {Step{Kind: BalancerSetState, Args: StepArgs{Provider: "haproxy.lb"}}, map[string]int{"provider haproxy.lb": 10}},
		"nginx write":     {Step{Kind: BalancerSetWeight, Args: StepArgs{Provider: "nginx.edge"}}, nil},
		"gateway publish": {Step{Kind: GatewayPublish, Args: StepArgs{Provider: "nacos.prod"}}, map[string]int{"provider nacos.prod": 10}},
		"deploy":          {Step{Kind: Deploy, Args: StepArgs{Address: "10.0.0.5:8080"}}, map[string]int{"deploy": 10, "host 10.0.0.5": 4}},
		"propagation":     {Step{Kind: WaitPropagation, Args: StepArgs{Duration: Duration(time.Second)}}, nil},
		"health":          {Step{Kind: WaitHealthy}, nil},
		"deploy, no host": {Step{Kind: Deploy}, map[string]int{"deploy": 10}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := b.Slots(&tc.step)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Slots = %v, want %v", got, tc.want)
			}
		})
	}
}
