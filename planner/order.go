package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// assemble orders the services by depends_on and turns their stages into steps with
// ids ("order-service.3", numbered in order within the service) and After edges: a
// step waits for the previous step of its chain; the first step of a chain waits for
// every last step of the previous stage; the first stage waits for the last steps of
// the service's dependencies. Services without a path between them stay independent.
//
// emitted holds the drafts' steps in emission order. When that is already the plan's
// order (no dependency reorders services, no route stage was inserted) the steps are
// numbered in place; otherwise they are copied. assemble returns the steps, the
// indices each step waits for, and for each draft the span of its steps in the plan.
//
// Where each service's steps go and what its first stage waits for is worked out
// first, service by service; the steps themselves are then numbered and linked in
// chunks of services that run in parallel.
func assemble(drafts []*serviceDraft, emitted []Step) ([]Step, [][]int32, []span, diags.Diagnostics) {
	byName := make(map[string]*serviceDraft, len(drafts))
	pos := make(map[*serviceDraft]int32, len(drafts))
	for i, d := range drafts {
		byName[d.start.name] = d
		pos[d] = int32(i)
	}
	order, ds := serviceOrder(drafts, byName)
	if ds.HasErrors() {
		return nil, nil, nil, ds
	}

	// spans[k] is where draft k's steps go; waits[o] the steps that the first stage of
	// order[o] waits for, the last steps of its dependencies.
	spans := make([]span, len(drafts))
	waits := make([][]int32, len(order))
	tails := make(map[string][]int32, len(drafts))
	total := int32(0)
	for o, d := range order {
		var prev []int32
		for _, dep := range d.start.svc.DependsOn {
			prev = append(prev, tails[trimService(dep)]...)
		}
		waits[o] = prev
		i := total
		for _, st := range d.stages {
			ends := make([]int32, 0, len(st))
			for _, c := range st {
				i += c.hi - c.lo
				ends = append(ends, i-1)
			}
			prev = ends
		}
		tails[d.start.name] = prev
		spans[pos[d]] = span{total, i}
		total = i
	}

	steps := emitted
	if !inOrder(order, len(emitted)) {
		steps = make([]Step, 0, total)
		for _, d := range order {
			for _, st := range d.stages {
				for _, c := range st {
					steps = append(steps, emitted[c.lo:c.hi]...)
				}
			}
		}
	}
	steps = steps[:total:total]

	after := make([][]int32, total)
	// One-element After lists of steps inside a chain share these backing arrays.
	ids := make([]string, total)
	idx := make([]int32, total)
	parallel(workers(len(order)), func(_, lo, hi int) {
		// The ids of a chunk are cut from one string: name.1, name.2, ... per service.
		size := 0
		for _, d := range order[lo:hi] {
			sp := spans[pos[d]]
			size += int(sp.hi-sp.lo) * (len(d.start.name) + 1 + digits(int(sp.hi-sp.lo)))
		}
		buf := make([]byte, 0, size)
		for _, d := range order[lo:hi] {
			sp := spans[pos[d]]
			for n := 1; n <= int(sp.hi-sp.lo); n++ {
				buf = strconv.AppendInt(append(append(buf, d.start.name...), '.'), int64(n), 10)
			}
		}
		all := string(buf)
		for o := lo; o < hi; o++ {
			d := order[o]
			first := spans[pos[d]].lo
			i := first
			// The first stage waits for the dependencies; their ids are set below.
			var prevIDs []string
			prevIdx := waits[o]
			for _, st := range d.stages {
				endIDs, endIdx := make([]string, 0, len(st)), make([]int32, 0, len(st))
				for _, c := range st {
					cur, curIdx := prevIDs, prevIdx
					for range c.hi - c.lo {
						n := len(d.start.name) + 1 + digits(int(i-first)+1)
						s := &steps[i]
						s.ID, all = all[:n], all[n:]
						s.After, after[i] = cur, curIdx
						ids[i], idx[i] = s.ID, i
						cur, curIdx = ids[i:i+1:i+1], idx[i:i+1:i+1]
						i++
					}
					endIDs, endIdx = append(endIDs, cur[0]), append(endIdx, curIdx[0])
				}
				prevIDs, prevIdx = endIDs, endIdx
			}
		}
	})
	// The heads of every first stage wait for the last steps of the dependencies.
	for o, d := range order {
		if len(waits[o]) == 0 || len(d.stages) == 0 {
			continue
		}
		w := make([]string, len(waits[o]))
		for n, j := range waits[o] {
			w[n] = ids[j]
		}
		i := spans[pos[d]].lo
		for _, c := range d.stages[0] {
			steps[i].After = w
			i += c.hi - c.lo
		}
	}
	return steps, after, spans, ds
}

// digits is the number of decimal digits of n > 0.
func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// inOrder reports whether the services' chains, in order, cover the n emitted steps
// one after the other.
func inOrder(order []*serviceDraft, n int) bool {
	next := int32(0)
	for _, d := range order {
		for _, st := range d.stages {
			for _, c := range st {
				if c.lo != next {
					return false
				}
				next = c.hi
			}
		}
	}
	return int(next) == n
}

// serviceOrder sorts the planned services so each comes after its dependencies,
// keeping declaration order otherwise; a dependency cycle is an error. Dependencies
// that are not planned (not targeted) do not order anything.
func serviceOrder(drafts []*serviceDraft, byName map[string]*serviceDraft) ([]*serviceDraft, diags.Diagnostics) {
	const (
		unvisited = iota
		visiting
		visited
	)
	state := make(map[string]int, len(drafts))
	order := make([]*serviceDraft, 0, len(drafts))
	var ds diags.Diagnostics
	var visit func(d *serviceDraft, path []string) bool
	visit = func(d *serviceDraft, path []string) bool {
		name := d.start.name
		switch state[name] {
		case visited:
			return true
		case visiting:
			ds = ds.Append(diags.Errorf(rangeOf(d.start.svc.DeclRange), "Dependency cycle",
				"Services depend on each other in a cycle: %s. Remove one depends_on entry.",
				strings.Join(append(path, name), " -> ")))
			return false
		}
		state[name] = visiting
		for _, dep := range d.start.svc.DependsOn {
			if dd := byName[trimService(dep)]; dd != nil && !visit(dd, append(path, name)) {
				return false
			}
		}
		state[name] = visited
		order = append(order, d)
		return true
	}
	for _, d := range drafts {
		if !visit(d, nil) {
			break
		}
	}
	if len(order) != len(drafts) && !ds.HasErrors() {
		ds = ds.Append(diags.Sourceless(diags.Error, "Internal planner error", fmt.Sprintf("ordered %d of %d services", len(order), len(drafts))))
	}
	return order, ds
}
