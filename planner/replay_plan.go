package planner

import (
	"slices"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// span is the range [lo, hi) of one service's steps in a plan.
type span struct{ lo, hi int32 }

// replayPlan is the safety replay of a plan MakePlan assembled, and its diff: it
// applies every service's steps (spans[k] in steps, for starts[k]) to its start
// model, copied into scratch[k] (the builder's working model, no longer needed), in
// level order, as replaySteps does, and lists the changes between each start and
// its final model. Most plans change an instance's version and a field or two
// besides, so each worker makes room for two changes per instance up front.
//
// It relies on what assemble guarantees: a service's steps lie together, each after
// the steps it waits for, and the steps that wait for other services' steps are the
// heads of the service's first stage, which all wait for the same steps. Every step
// of a service therefore sits a fixed number of levels deeper than it would if the
// service stood alone, and the service's level order is its own, which each worker
// computes for its services. The plan's level order is computed only to sort
// violations, when there are any.
func replayPlan(starts, scratch []*serviceModel, spans []span, steps []Step, after [][]int32) ([]*serviceModel, []Change, diags.Diagnostics) {
	finals := make([]*serviceModel, len(starts))
	bounds := workers(len(starts))
	parts := make([][]rankedDiag, len(bounds)-1)
	changes := make([][]Change, len(bounds)-1)
	parallel(bounds, func(w, lo, hi int) {
		var part []rankedDiag
		var level, idx []int32
		n := 0
		for _, m := range starts[lo:hi] {
			n += 2 * len(m.insts)
		}
		diff := make([]Change, 0, n)
		for k := lo; k < hi; k++ {
			finals[k] = scratch[k]
			finals[k].reset(starts[k])
			idx, level = localOrder(after, spans[k], idx, level)
			part = replayService(finals[k], steps, idx, part)
			diff = appendServiceDiff(diff, starts[k], finals[k])
			diff = appendGatewayDiff(diff, starts[k])
		}
		parts[w], changes[w] = part, diff
	})
	var ds diags.Diagnostics
	if found := slices.Concat(parts...); len(found) > 0 {
		order, lds := levelOrder(after)
		if ds = ds.Append(lds); ds.HasErrors() {
			return nil, nil, ds
		}
		ds = ds.Append(inLevelOrder(found, order))
	}
	all := slices.Concat(changes...)
	if len(all) == 0 {
		all = nil // a plan without changes has none, not an empty list
	}
	return finals, all, ds
}

// localOrder returns the steps of sp sorted by their level among the steps of sp
// (edges from other steps are left out), ties in plan order. Every step must come
// after the steps of sp it waits for. idx and level are reused buffers.
func localOrder(after [][]int32, sp span, idx, level []int32) ([]int32, []int32) {
	n := int(sp.hi - sp.lo)
	level = slices.Grow(level[:0], n)[:n]
	top := int32(0)
	for i := sp.lo; i < sp.hi; i++ {
		l := int32(0)
		for _, j := range after[i] {
			if j >= sp.lo && j < sp.hi {
				l = max(l, level[j-sp.lo]+1)
			}
		}
		level[i-sp.lo] = l
		top = max(top, l)
	}
	// Counting sort by level: start[l] is where the steps of level l begin.
	var buf [64]int32
	start := buf[:0]
	if int(top)+2 > len(buf) {
		start = make([]int32, 0, top+2)
	}
	start = start[:top+2]
	clear(start)
	for _, l := range level {
		start[l+1]++
	}
	for l := 1; l < len(start); l++ {
		start[l] += start[l-1]
	}
	idx = slices.Grow(idx[:0], n)[:n]
	for i, l := range level {
		idx[start[l]] = sp.lo + int32(i)
		start[l]++
	}
	return idx, level
}
