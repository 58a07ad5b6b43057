package executor

import (
	"context"
	"fmt"
	"sort"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// memberKey names a balancer member field as rollback tracks it.
func memberKey(field, provider, pool, address string) string {
	return field + "|" + provider + "|" + pool + "|" + address
}

// findMember reads a pool and returns one member: the value a write will replace.
func findMember(ctx context.Context, b providers.Balancer, pool, address string) (providers.Member, error) {
	members, err := b.Pool(ctx, pool)
	if err != nil {
		return providers.Member{}, fmt.Errorf("reading pool %s: %w", pool, err)
	}
	for _, m := range members {
		if m.Address == address {
			return m, nil
		}
	}
	return providers.Member{}, fmt.Errorf("%s is not a member of pool %s", address, pool)
}

// setMemberWeight runs balancer.set_weight.
func (x *execution) setMemberWeight(ctx context.Context, st *planner.Step) ([]write, error) {
	a := st.Args
	if a.Weight == nil {
		return nil, fmt.Errorf("balancer.set_weight has no weight")
	}
	b, err := x.balancer(a.Provider)
	if err != nil {
		return nil, err
	}
	before, err := findMember(ctx, b, a.Pool, a.Address)
	if err != nil {
		return nil, err
	}
	if err := b.SetMemberWeight(ctx, a.Pool, a.Address, *a.Weight); err != nil {
		return nil, fmt.Errorf("setting the weight of %s in %s to %d: %w", a.Address, a.Pool, *a.Weight, err)
	}
	w := before.Weight
	if *a.Weight == 0 {
		x.lowered(b, a.Address)
	}
	writes := []write{{
		key:     memberKey("weight", a.Provider, a.Pool, a.Address),
		address: a.Address,
		did:     *st,
		undo:    withArgs(st, func(u *planner.StepArgs) { u.Weight = &w }),
	}}
	if *a.Weight > 0 && w == 0 {
		waitsFromHere(ctx)
		if err := x.confirmRaised(ctx, b, a.Provider, a.Pool, []string{a.Address}, x.servingBound(st.Service)); err != nil {
			return writes, err
		}
	}
	return writes, nil
}

// setMemberState runs balancer.set_state.
func (x *execution) setMemberState(ctx context.Context, st *planner.Step) ([]write, error) {
	a := st.Args
	if a.State == "" {
		return nil, fmt.Errorf("balancer.set_state has no state")
	}
	b, err := x.balancer(a.Provider)
	if err != nil {
		return nil, err
	}
	before, err := findMember(ctx, b, a.Pool, a.Address)
	if err != nil {
		return nil, err
	}
	if err := b.SetMemberState(ctx, a.Pool, a.Address, a.State); err != nil {
		return nil, fmt.Errorf("setting the state of %s in %s to %s: %w", a.Address, a.Pool, a.State, err)
	}
	prev := before.State
	if prev == "" {
		prev = providers.StateReady
	}
	if a.State != providers.StateReady {
		x.lowered(b, a.Address)
	}
	writes := []write{{
		key:     memberKey("state", a.Provider, a.Pool, a.Address),
		address: a.Address,
		did:     *st,
		undo:    withArgs(st, func(u *planner.StepArgs) { u.State = prev }),
	}}
	if a.State == providers.StateReady && prev != providers.StateReady {
		waitsFromHere(ctx)
		if err := x.confirmRaised(ctx, b, a.Provider, a.Pool, []string{a.Address}, x.servingBound(st.Service)); err != nil {
			return writes, err
		}
	}
	return writes, nil
}

// inBatch runs fn inside the balancer's Batch when it has one, so that several
// writes cost one apply (one nginx reload).
func inBatch(ctx context.Context, b any, fn func() error) error {
	if bb, ok := b.(providers.Batcher); ok {
		return bb.Batch(ctx, fn)
	}
	return fn()
}

// switchMembers runs balancer.switch: several members' weights in one batch (a
// member given weight > 0 is also made ready). Each member's change is recorded
// as its own set_weight / set_state write, so rollback undoes them per instance.
func (x *execution) switchMembers(ctx context.Context, st *planner.Step) ([]write, error) {
	a := st.Args
	if len(a.Weights) == 0 {
		return nil, fmt.Errorf("balancer.switch has no weights")
	}
	b, err := x.balancer(a.Provider)
	if err != nil {
		return nil, err
	}
	members, err := b.Pool(ctx, a.Pool)
	if err != nil {
		return nil, fmt.Errorf("reading pool %s: %w", a.Pool, err)
	}
	before := map[string]providers.Member{}
	for _, m := range members {
		before[m.Address] = m
	}
	addrs := make([]string, 0, len(a.Weights))
	for addr := range a.Weights {
		if _, ok := before[addr]; !ok {
			return nil, fmt.Errorf("%s is not a member of pool %s", addr, a.Pool)
		}
		addrs = append(addrs, addr)
	}
	// Raise before lowering: on a balancer that applies writes one at a time
	// (HAProxy's runtime API), lowering the old members first would leave the pool
	// with no serving member between two commands.
	sort.Slice(addrs, func(i, j int) bool {
		ri, rj := a.Weights[addrs[i]] > 0, a.Weights[addrs[j]] > 0
		if ri != rj {
			return ri
		}
		return addrs[i] < addrs[j]
	})
	var writes []write
	set := func(addrs []string) error {
		for _, addr := range addrs {
			w, m := a.Weights[addr], before[addr]
			one := planner.Step{ID: st.ID, Kind: planner.BalancerSetWeight, Service: st.Service,
				Target: a.Provider + "/" + a.Pool + "/" + addr,
				Args:   planner.StepArgs{Provider: a.Provider, Pool: a.Pool, Address: addr, Weight: &w}}
			if err := b.SetMemberWeight(ctx, a.Pool, addr, w); err != nil {
				return fmt.Errorf("setting the weight of %s in %s to %d: %w", addr, a.Pool, w, err)
			}
			if w == 0 {
				x.lowered(b, addr)
			}
			prevW := m.Weight
			writes = append(writes, write{key: memberKey("weight", a.Provider, a.Pool, addr), address: addr, did: one,
				undo: withArgs(&one, func(u *planner.StepArgs) { u.Weight = &prevW })})
			if w > 0 && m.State != providers.StateReady && m.State != "" {
				if err := b.SetMemberState(ctx, a.Pool, addr, providers.StateReady); err != nil {
					return fmt.Errorf("setting the state of %s in %s to ready: %w", addr, a.Pool, err)
				}
				ready := one
				ready.Kind, ready.Args.Weight, ready.Args.State = planner.BalancerSetState, nil, providers.StateReady
				prevS := m.State
				writes = append(writes, write{key: memberKey("state", a.Provider, a.Pool, addr), address: addr, did: ready,
					undo: withArgs(&ready, func(u *planner.StepArgs) { u.State = prevS })})
			}
		}
		return nil
	}
	if !providers.CapabilitiesOf(b.Kind()).ConfirmsServing {
		return writes, inBatch(ctx, b, func() error { return set(addrs) })
	}
	// A balancer with its own checks routes to a raised member only once they pass:
	// the members it lowers keep serving until it confirms the raised ones.
	n := 0
	for n < len(addrs) && a.Weights[addrs[n]] > 0 {
		n++
	}
	if err := set(addrs[:n]); err != nil {
		return writes, err
	}
	if err := x.confirmRaised(ctx, b, a.Provider, a.Pool, addrs[:n], x.servingBound(st.Service)); err != nil {
		return writes, err
	}
	return writes, set(addrs[n:])
}
