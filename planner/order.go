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
// indices each step waits for, and for each step the index in drafts of its service.
func assemble(drafts []*serviceDraft, emitted []Step) ([]Step, [][]int32, []int32, diags.Diagnostics) {
	byName := make(map[string]*serviceDraft, len(drafts))
	pos := make(map[*serviceDraft]int32, len(drafts))
	total := 0
	for i, d := range drafts {
		byName[d.start.name] = d
		pos[d] = int32(i)
		for _, st := range d.stages {
			for _, c := range st {
				total += int(c.hi - c.lo)
			}
		}
	}
	order, ds := serviceOrder(drafts, byName)
	if ds.HasErrors() {
		return nil, nil, nil, ds
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

	// Ids are cut from one string: name.1, name.2, ... per service in plan order.
	idEnd := make([]int32, total)
	buf := make([]byte, 0, total*16)
	i := 0
	for _, d := range order {
		for n := 1; n <= d.count(); n++ {
			buf = append(buf, d.start.name...)
			buf = append(buf, '.')
			buf = strconv.AppendInt(buf, int64(n), 10)
			idEnd[i] = int32(len(buf))
			i++
		}
	}
	all := string(buf)

	after := make([][]int32, total)
	service := make([]int32, total)
	// One-element After lists of steps inside a chain share these backing arrays.
	ids := make([]string, total)
	idx := make([]int32, total)
	type tail struct {
		ids []string
		idx []int32
	}
	tails := make(map[string]tail, len(drafts)) // what a dependent service waits for
	i = 0
	begin := int32(0)
	for _, d := range order {
		name, k := d.start.name, pos[d]
		var prev tail
		for _, dep := range d.start.svc.DependsOn {
			t := tails[trimService(dep)]
			prev.ids = append(prev.ids, t.ids...)
			prev.idx = append(prev.idx, t.idx...)
		}
		for _, st := range d.stages {
			ends := tail{make([]string, 0, len(st)), make([]int32, 0, len(st))}
			for _, c := range st {
				cur := prev
				for range c.hi - c.lo {
					s := &steps[i]
					id := all[begin:idEnd[i]]
					begin = idEnd[i]
					s.ID = id
					s.After = cur.ids
					after[i] = cur.idx
					service[i] = k
					ids[i], idx[i] = id, int32(i)
					cur = tail{ids[i : i+1 : i+1], idx[i : i+1 : i+1]}
					i++
				}
				ends.ids = append(ends.ids, cur.ids[0])
				ends.idx = append(ends.idx, cur.idx[0])
			}
			prev = ends
		}
		tails[name] = prev
	}
	return steps, after, service, ds
}

// count is the number of steps in the draft's stages.
func (d *serviceDraft) count() int {
	n := 0
	for _, st := range d.stages {
		for _, c := range st {
			n += int(c.hi - c.lo)
		}
	}
	return n
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
