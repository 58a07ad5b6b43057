package planner

import (
	"fmt"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// CheckSafety replays the plan's steps, in the order of their After edges, on a copy
// of the live state and reports every step after which a pool keeps fewer serving
// members than it needs (and fewer than before the step), an instance is deployed
// while it still takes traffic, or a route loses its last up instance of its version.
// Plan runs it on every plan it makes; the executor and tests can run it on any plan.
func CheckSafety(cfg *lang.Config, live *Live, p *Plan) diags.Diagnostics {
	if live == nil {
		live = &Live{}
	}
	starts := map[string]*serviceModel{}
	var ds diags.Diagnostics
	for _, s := range p.Steps {
		if _, ok := starts[s.Service]; ok {
			continue
		}
		svc := cfg.Services[s.Service]
		if svc == nil {
			ds = ds.Append(diags.Sourceless(diags.Error, "Unsafe plan",
				fmt.Sprintf("Step %s acts on service %q, which the configuration does not declare.", s.ID, s.Service)))
			return ds
		}
		starts[s.Service] = newServiceModel(svc, live.Services[s.Service], nil)
	}
	after, gds := stepGraph(p.Steps)
	if ds = ds.Append(gds); ds.HasErrors() {
		return ds
	}
	_, rds := replay(starts, p, after)
	return ds.Append(rds)
}

// keepText says how many serving members a pool must keep.
func keepText(minAvailable int) string {
	if minAvailable > 1 {
		return fmt.Sprintf("%d (min_available)", minAvailable)
	}
	return "at least 1"
}

// routeStates reports for every route whether it has a member up at its version.
func routeStates(m *serviceModel) map[string]bool {
	var out map[string]bool
	for _, b := range m.bals {
		for name, r := range b.routes {
			if out == nil {
				out = map[string]bool{}
			}
			out[routeKey(b, name)] = m.routeUp(r)
		}
	}
	return out
}

// unsafe is the diagnostic of a step that breaks a safety rule.
func unsafe(s *Step, what string) diags.Diagnostic {
	return diags.Sourceless(diags.Error, "Unsafe plan",
		fmt.Sprintf("Step %s (%s %s) is unsafe: %s.", s.ID, s.Kind, s.Target, what))
}

// stepGraph resolves every step's After ids to step indices, reporting duplicate
// and unknown ids.
func stepGraph(steps []Step) ([][]int32, diags.Diagnostics) {
	var ds diags.Diagnostics
	index := make(map[string]int32, len(steps))
	for i, s := range steps {
		if _, dup := index[s.ID]; dup {
			ds = ds.Append(diags.Sourceless(diags.Error, "Invalid plan", fmt.Sprintf("Step id %s is used twice.", s.ID)))
		}
		index[s.ID] = int32(i)
	}
	after := make([][]int32, len(steps))
	for i, s := range steps {
		for _, a := range s.After {
			j, ok := index[a]
			if !ok {
				ds = ds.Append(diags.Sourceless(diags.Error, "Invalid plan", fmt.Sprintf("Step %s runs after %s, which is not in the plan.", s.ID, a)))
				continue
			}
			after[i] = append(after[i], j)
		}
	}
	return after, ds
}

// levelOrder returns the step indices sorted by level (the longest chain of After
// edges before the step), ties in plan order, or an error when the edges form a cycle.
func levelOrder(after [][]int32) ([]int, diags.Diagnostics) {
	n := len(after)
	// next[start[j]:start[j+1]] are the steps that wait for step j (compressed rows).
	indeg := make([]int32, n)
	start := make([]int32, n+1)
	for i, as := range after {
		indeg[i] = int32(len(as))
		for _, j := range as {
			start[j+1]++
		}
	}
	for j := range n {
		start[j+1] += start[j]
	}
	next := make([]int32, start[n])
	fill := slices.Clone(start[:n])
	for i, as := range after {
		for _, j := range as {
			next[fill[j]] = int32(i)
			fill[j]++
		}
	}
	order := make([]int, 0, n)
	var frontier []int
	for i := range n {
		if indeg[i] == 0 {
			frontier = append(frontier, i)
		}
	}
	// A step enters the frontier in the round its last predecessor completes, which
	// is its level; each round is sorted by plan order.
	for len(frontier) > 0 {
		slices.Sort(frontier)
		order = append(order, frontier...)
		var nextFrontier []int
		for _, i := range frontier {
			for _, j := range next[start[i]:start[i+1]] {
				if indeg[j]--; indeg[j] == 0 {
					nextFrontier = append(nextFrontier, int(j))
				}
			}
		}
		frontier = nextFrontier
	}
	if len(order) != n {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "Invalid plan", "The steps' After edges form a cycle.")}
	}
	return order, nil
}

// rangeOf returns rng, or nil when it points at no file (configs built in code).
func rangeOf(rng hcl.Range) *hcl.Range {
	if rng.Filename == "" {
		return nil
	}
	return &rng
}

// precheck refuses, before any plan is made, a release that the configuration makes
// impossible without downtime: one instance, one group where the strategy drains a
// whole group, or batches that leave fewer than min_available instances serving.
func precheck(m *serviceModel) diags.Diagnostics {
	svc := m.svc
	upgrade := false
	for _, im := range m.insts {
		upgrade = upgrade || !im.atVersion(svc.Version)
	}
	if !upgrade {
		return nil
	}
	rng := rangeOf(svc.DeclRange)
	if svc.Strategy != nil && rangeOf(svc.Strategy.DeclRange) != nil {
		rng = rangeOf(svc.Strategy.DeclRange)
	}
	fail := func(format string, args ...any) diags.Diagnostics {
		return diags.Diagnostics{diags.Errorf(rng, "Service cannot be released without downtime", format, args...)}
	}
	total, groups := len(m.insts), m.groupNames()
	if total < 2 {
		return fail("Service %s has only one instance. Every release drains the instances it deploys to, so "+
			"nothing would serve while it is upgraded. Declare at least two instances, in two groups.", svc.Name)
	}
	sizes := map[string]int{}
	for _, im := range m.insts {
		sizes[im.group]++
	}
	kind := strategyKind(svc)
	if kind == lang.Rolling {
		size, what := batchSize(m), ""
		if size == 0 {
			if len(groups) < 2 {
				return fail("All instances of %s are in group %q and the rolling strategy drains one group at a time, "+
					"so nothing would serve while the group is upgraded. Split the instances into two or more groups, or "+
					"set batch to a number of instances.", svc.Name, groups[0])
			}
			for _, g := range groups {
				if sizes[g] > size {
					size, what = sizes[g], fmt.Sprintf("group %q", g)
				}
			}
		} else {
			what = fmt.Sprintf("a batch of %d", size)
		}
		if total-size < m.need {
			return fail("Service %s has %d instances and draining %s leaves %d serving, fewer than the %d it must keep "+
				"(min_available = %d). Use smaller batches, add instances or lower min_available.",
				svc.Name, total, what, total-size, m.need, svc.MinAvailable)
		}
		return nil
	}
	if len(groups) < 2 {
		return fail("The %s strategy moves traffic between groups, but %s has only group %q. Declare a second group.",
			kind, svc.Name, groups[0])
	}
	for _, g := range groups {
		if total-sizes[g] < m.need {
			return fail("Service %s has %d instances and draining group %q leaves %d serving, fewer than the %d it must keep "+
				"(min_available = %d). Add instances to the other groups or lower min_available.",
				svc.Name, total, g, total-sizes[g], m.need, svc.MinAvailable)
		}
		if kind == lang.BlueGreen && sizes[g] < m.need {
			return fail("After a blue-green switch group %q alone serves %s, but it has %d instances and the service "+
				"must keep %d (min_available = %d). Add instances to the group or lower min_available.",
				g, svc.Name, sizes[g], m.need, svc.MinAvailable)
		}
	}
	return nil
}
