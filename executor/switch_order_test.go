package executor

import (
	"context"
	"sort"
	"testing"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// oneAtATimeLB is a balancer without Batch, like HAProxy's runtime API: every write
// takes effect on its own. It records the fewest serving members seen after any write.
type oneAtATimeLB struct {
	lb         *fakeLB
	pool       string
	minServing int
}

func (b *oneAtATimeLB) Kind() string { return "haproxy" }
func (b *oneAtATimeLB) Name() string { return "lb" }

func (b *oneAtATimeLB) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	return b.lb.Pool(ctx, pool)
}

func (b *oneAtATimeLB) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	defer b.observe(ctx)
	return b.lb.SetMemberWeight(ctx, pool, address, weight)
}

func (b *oneAtATimeLB) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	defer b.observe(ctx)
	return b.lb.SetMemberState(ctx, pool, address, state)
}

func (b *oneAtATimeLB) observe(ctx context.Context) {
	members, _ := b.lb.Pool(ctx, b.pool)
	serving := 0
	for _, m := range members {
		if m.Weight > 0 && (m.State == providers.StateReady || m.State == "") {
			serving++
		}
	}
	if serving < b.minServing {
		b.minServing = serving
	}
}

// TestSwitchRaisesBeforeLowering switches traffic between two groups on a balancer
// that applies each write alone: whatever the addresses' order, the pool must never
// be left without a serving member between two writes.
func TestSwitchRaisesBeforeLowering(t *testing.T) {
	for _, oldFirst := range []bool{true, false} {
		rl := newRelease(t, releaseOptions{instances: 4})
		addrs := append([]string(nil), rl.addrs...)
		sort.Strings(addrs)
		// The old group sorts first in one run and last in the other.
		oldGroup, newGroup := addrs[:2], addrs[2:]
		if !oldFirst {
			oldGroup, newGroup = addrs[2:], addrs[:2]
		}
		ctx := context.Background()
		for _, a := range newGroup {
			if err := rl.lb.SetMemberState(ctx, "order_backend", a, providers.StateDrain); err != nil {
				t.Fatal(err)
			}
		}
		lb := &oneAtATimeLB{lb: rl.lb, pool: "order_backend", minServing: 2}
		r := rl.runner()
		r.Providers[lang.ProviderRef{Kind: "nginx", Name: "edge"}] = lb
		weights := map[string]int{oldGroup[0]: 0, oldGroup[1]: 0, newGroup[0]: 1, newGroup[1]: 1}
		steps := []planner.Step{{ID: "s.1", Kind: planner.BalancerSwitch, Service: "order-service",
			Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Weights: weights}}}
		if _, err := r.Apply(ctx, &planner.Plan{Steps: steps}); err != nil {
			t.Fatal(err)
		}
		if lb.minServing < 1 {
			t.Errorf("old group sorting first=%v: the pool had no serving member between two writes", oldFirst)
		}
	}
}
