package executor

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// liveRedeploySteps builds the unit of a touched instance just before it runs. Each
// object nonstop wrote for the instance that takes traffic live is drained first,
// whatever nonstop last wrote to it: a restarted instance re-registers itself
// enabled (Polaris does so), so the new version may be serving although the apply
// disabled it before the deploy. Then come the waits for the registry's propagation
// and the balancers' drain, the redeploy of the previous version, its health check
// and the restore of the original values.
func (x *execution) liveRedeploySteps(ctx context.Context, sr *serviceRun, dep planner.Step, prop, drainBound time.Duration) ([]rbStep, error) {
	addr := dep.Args.Address
	x.mu.Lock()
	var keys []string
	for _, k := range sr.keys {
		if sr.origin[k].address == addr {
			keys = append(keys, k)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return sr.origin[keys[i]].class() < sr.origin[keys[j]].class() })
	last := make([]planner.Step, len(keys))
	undo := make([]planner.Step, len(keys))
	for i, k := range keys {
		last[i], undo[i] = sr.latest[k].did, sr.origin[k].undo
	}
	x.mu.Unlock()

	var steps []rbStep
	var members []string
	regDrained := false
	for _, st := range last {
		if isTraffic, _ := traffic(st); !isTraffic {
			continue
		}
		serving, err := x.liveServing(ctx, st)
		if err != nil {
			return nil, err
		}
		if !serving {
			continue
		}
		steps = append(steps, rbStep{step: drained(st), guard: true})
		if st.Kind == planner.RegistrySetEnabled {
			regDrained = true
		} else {
			members = append(members, st.Args.Provider+"/"+st.Args.Pool+"/"+addr)
		}
	}
	// An instance the registry guard caught enabled was in consumers' lists too.
	regDrained = regDrained || x.guards.wasCaught(dep.Service, addr)
	base := planner.Step{Service: dep.Service, Target: dep.Target}
	if regDrained && prop > 0 {
		st := base
		st.Kind, st.Args = planner.WaitPropagation, planner.StepArgs{Duration: planner.Duration(prop)}
		steps = append(steps, rbStep{step: st})
	}
	// With drain.in_flight the drain wait holds at least that long too, for the
	// paths that cannot count the requests the instance still holds.
	svc, svcErr := x.service(dep.Service)
	var inFlight time.Duration
	if svcErr == nil && (regDrained || len(members) > 0) {
		inFlight = svc.Drain.InFlight
	}
	if len(members) > 0 || inFlight > 0 {
		st := base
		st.Kind, st.Args = planner.WaitDrain, planner.StepArgs{Address: addr, Group: dep.Args.Group, InFlight: planner.Duration(inFlight)}
		if len(members) > 0 {
			st.Args.Members, st.Args.Duration = dedupe(members), planner.Duration(drainBound)
		}
		steps = append(steps, rbStep{step: st})
	}
	// The old version is deployed, health-checked and verified like any release of
	// it: the rollback plan is replayed by the same rules (checkUnitSafety).
	kinds := []planner.StepKind{planner.Deploy, planner.WaitHealthy}
	if svcErr == nil && svc.Verify != nil {
		kinds = append(kinds, planner.Verify)
	}
	for _, kind := range kinds {
		st := base
		st.Kind = kind
		st.Args = planner.StepArgs{Address: addr, Group: dep.Args.Group, Version: dep.Args.FromVersion}
		if kind == planner.Deploy {
			st.Args.FromVersion = dep.Args.Version
		}
		steps = append(steps, rbStep{step: st})
	}
	// The balancers' own checks confirm the old version before it takes traffic.
	var checked []string
	for _, st := range last {
		if st.Kind == planner.RegistrySetEnabled || st.Kind == planner.RegistrySetWeight {
			continue
		}
		if b, err := x.balancer(st.Args.Provider); err == nil && providers.CapabilitiesOf(b.Kind()).ConfirmsServing {
			checked = append(checked, st.Args.Provider+"/"+st.Args.Pool+"/"+addr)
		}
	}
	if len(checked) > 0 {
		st := base
		st.Kind = planner.WaitServing
		st.Args = planner.StepArgs{Address: addr, Group: dep.Args.Group, Members: dedupe(checked),
			Duration: planner.Duration(x.servingBound(dep.Service))}
		steps = append(steps, rbStep{step: st})
	}
	// Back in traffic in the planner's order: registry first, then balancers.
	for i := len(undo) - 1; i >= 0; i-- {
		steps = append(steps, rbStep{step: undo[i]})
	}
	return steps, nil
}

// liveServing reads the live value of the object a traffic write changed and
// reports whether it lets the instance take traffic now. A balancer member serves
// when its weight is above zero and it is ready; a registry instance serves when it
// is registered and enabled. An object that is gone serves nothing.
func (x *execution) liveServing(ctx context.Context, st planner.Step) (bool, error) {
	addr := st.Args.Address
	if st.Kind == planner.RegistrySetEnabled {
		r, key, err := x.registryOf(&st)
		if err != nil {
			return false, err
		}
		in, ok, err := findInstance(ctx, r, key, addr)
		if err != nil {
			return false, err
		}
		return ok && in.Enabled, nil
	}
	b, err := x.balancer(st.Args.Provider)
	if err != nil {
		return false, err
	}
	members, err := b.Pool(ctx, st.Args.Pool)
	if err != nil {
		return false, fmt.Errorf("reading pool %s: %w", st.Args.Pool, err)
	}
	for _, m := range members {
		if m.Address == addr {
			return m.Weight > 0 && (m.State == providers.StateReady || m.State == ""), nil
		}
	}
	return false, nil
}

// dedupe drops repeated entries, keeping the first of each.
func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
