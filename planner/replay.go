package planner

import (
	"fmt"
	"maps"
	"slices"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// replay applies the plan's steps (after[i] lists the indices step i waits for) to
// copies of the start models, as replaySteps does, and returns the final models by
// service name.
func replay(starts map[string]*serviceModel, p *Plan, after [][]int32) (map[string]*serviceModel, diags.Diagnostics) {
	names := slices.Sorted(maps.Keys(starts))
	models := make([]*serviceModel, len(names))
	pos := make(map[string]int32, len(names))
	for i, n := range names {
		models[i], pos[n] = starts[n], int32(i)
	}
	service := make([]int32, len(p.Steps))
	for i := range p.Steps {
		if k, ok := pos[p.Steps[i].Service]; ok {
			service[i] = k
		} else {
			service[i] = -1
		}
	}
	list, ds := replaySteps(models, service, p.Steps, after)
	if list == nil {
		return nil, ds
	}
	finals := make(map[string]*serviceModel, len(names))
	for i, n := range names {
		finals[n] = list[i]
	}
	return finals, ds
}

// replaySteps applies the steps to copies of the start models (service[i] is the
// index in starts of step i's service, -1 for none) in level order (a step runs one
// level after the latest step it waits for; ties in plan order), so the units of a
// batch are all drained before any is restored: the worst interleaving of parallel
// chains. It returns the final models, by the index of their start, and the safety
// violations.
//
// A step changes only its service's model, so each service replays its own steps,
// in their level order, one service after the other; the violations are then put
// back in level order.
func replaySteps(starts []*serviceModel, service []int32, steps []Step, after [][]int32) ([]*serviceModel, diags.Diagnostics) {
	order, ds := levelOrder(after)
	if ds.HasErrors() {
		return nil, ds
	}
	// Bucket the level order by service: bucket k is byService[first[k]:first[k+1]].
	first := make([]int32, len(starts)+2)
	for _, i := range order {
		first[service[i]+2]++
	}
	for k := 1; k < len(first); k++ {
		first[k] += first[k-1]
	}
	byService := make([]int32, len(order)) // step indices in level order, bucketed by service
	fill := slices.Clone(first[:len(first)-1])
	for _, i := range order {
		k := service[i] + 1
		byService[fill[k]] = int32(i)
		fill[k]++
	}
	var found []rankedDiag
	for _, i := range byService[first[0]:first[1]] {
		s := &steps[i]
		found = append(found, rankedDiag{i, unsafe(s, fmt.Sprintf("service %q is not part of this plan", s.Service))})
	}
	finals := make([]*serviceModel, len(starts))
	bounds := workers(len(starts))
	parts := make([][]rankedDiag, len(bounds)-1)
	parallel(bounds, func(w, lo, hi int) {
		var part []rankedDiag
		for k := lo; k < hi; k++ {
			finals[k] = starts[k].clone()
			part = replayService(finals[k], steps, byService[first[k+1]:first[k+2]], part)
		}
		parts[w] = part
	})
	found = slices.Concat(append([][]rankedDiag{found}, parts...)...)
	return finals, ds.Append(inLevelOrder(found, order))
}

// rankedDiag is a safety violation and the index of its step.
type rankedDiag struct {
	step int32
	diag diags.Diagnostic
}

// inLevelOrder returns the violations sorted by the position of their steps in
// order, the level order; violations of one step keep their order.
func inLevelOrder(found []rankedDiag, order []int) diags.Diagnostics {
	if len(found) == 0 {
		return nil
	}
	pos := make([]int32, len(order))
	for r, i := range order {
		pos[i] = int32(r)
	}
	slices.SortStableFunc(found, func(a, b rankedDiag) int { return int(pos[a.step] - pos[b.step]) })
	var ds diags.Diagnostics
	for _, f := range found {
		ds = ds.Append(f.diag)
	}
	return ds
}

// replayService applies to m the steps steps[i] for i in idx, in that order, stopping
// at the first violation, and appends the violations to found.
func replayService(m *serviceModel, steps []Step, idx []int32, found []rankedDiag) []rankedDiag {
	if len(idx) == 0 {
		return found
	}
	var counts [4]int
	count := counts[:0]
	if len(m.bals) > len(counts) {
		count = make([]int, 0, len(m.bals))
	}
	for bi := range m.bals {
		count = append(count, m.poolServing(bi))
	}
	regCount := m.registryCount()
	routes := routeStates(m) // "provider/pool/route name" -> route has an up member
	for _, r := range idx {
		s := &steps[r]
		if err := m.applyStep(s); err != nil {
			return append(found, rankedDiag{r, unsafe(s, err.Error())})
		}
		switch s.Kind {
		case WaitPropagation, WaitDrain, Verify, Pause, GateAnalysis:
			continue
		}
		failed := false
		for bi := range m.bals {
			after := m.poolServing(bi)
			if after < count[bi] && after < m.need {
				found = append(found, rankedDiag{r, unsafe(s, fmt.Sprintf("it leaves pool %s/%s with %d serving members; service %s must keep %s",
					m.bals[bi].provider, m.bals[bi].pool, after, m.name, keepText(m.svc.MinAvailable)))})
				failed = true
			}
			count[bi] = after
		}
		if m.registry {
			// The registry is a path too: its consumers must keep as many
			// instances as the pools do.
			after := m.registryCount()
			if after < regCount && after < m.need {
				found = append(found, rankedDiag{r, unsafe(s, fmt.Sprintf("it leaves the registry with %d instances its consumers can call; service %s must keep %s",
					after, m.name, keepText(m.svc.MinAvailable)))})
				failed = true
			}
			regCount = after
		}
		if routes != nil || hasRoutes(m) {
			now := routeStates(m)
			for key, up := range now {
				if !up && routes[key] {
					found = append(found, rankedDiag{r, unsafe(s, fmt.Sprintf("route %s then points at a version no instance serves", key))})
					failed = true
				}
			}
			routes = now
		}
		if failed {
			return found
		}
	}
	return found
}

// hasRoutes reports whether any pool of the service holds a route.
func hasRoutes(m *serviceModel) bool {
	for _, b := range m.bals {
		if len(b.routes) > 0 {
			return true
		}
	}
	return false
}
