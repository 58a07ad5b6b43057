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
func assemble(drafts []*serviceDraft) ([]Step, [][]int32, diags.Diagnostics) {
	byName := make(map[string]*serviceDraft, len(drafts))
	total := 0
	for _, d := range drafts {
		byName[d.start.name] = d
		for _, st := range d.stages {
			for _, c := range st {
				total += len(c)
			}
		}
	}
	order, ds := serviceOrder(drafts, byName)
	if ds.HasErrors() {
		return nil, nil, ds
	}
	steps := make([]Step, 0, total)
	after := make([][]int32, 0, total)
	// One-element After lists of steps inside a chain share these backing arrays.
	ids := make([]string, total)
	idx := make([]int32, total)
	type tail struct {
		ids []string
		idx []int32
	}
	tails := make(map[string]tail, len(drafts)) // what a dependent service waits for
	for _, d := range order {
		name := d.start.name
		var prev tail
		for _, dep := range d.start.svc.DependsOn {
			t := tails[trimService(dep)]
			prev.ids = append(prev.ids, t.ids...)
			prev.idx = append(prev.idx, t.idx...)
		}
		n := 0
		for _, st := range d.stages {
			var ends tail
			for _, c := range st {
				cur := prev
				for _, si := range c {
					n++
					i := len(steps)
					steps = append(steps, d.steps[si])
					s := &steps[i]
					s.ID = name + "." + strconv.Itoa(n)
					s.After = cur.ids
					after = append(after, cur.idx)
					ids[i], idx[i] = s.ID, int32(i)
					cur = tail{ids[i : i+1 : i+1], idx[i : i+1 : i+1]}
				}
				ends.ids = append(ends.ids, cur.ids[0])
				ends.idx = append(ends.idx, cur.idx[0])
			}
			prev = ends
		}
		tails[name] = prev
	}
	return steps, after, ds
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
