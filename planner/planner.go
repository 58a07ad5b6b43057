package planner

import (
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// Options tunes MakePlan.
type Options struct {
	// Targets are the service names to plan (-target service.NAME); empty means all.
	Targets []string
	// Commit is the git commit recorded in Prior.
	Commit string
	// KnownVersions maps service -> address -> the version nonstop last deployed there
	// (from state). It is used when the registry hides an instance's version.
	KnownVersions map[string]map[string]string
	// Recovery holds, by service, what an interrupted apply left unproven (from
	// state): the plan repeats waits and gates it cannot prove have passed.
	Recovery map[string]Recovery
	// Bounds are the bounds the plan will be applied under; when set, the
	// summary's estimate simulates them (see EstimateWall). Nil: the estimate is
	// the sum of waits on the critical path.
	Bounds *Bounds
}

// Recovery is what an interrupted apply left unproven for one service.
type Recovery struct {
	// OwesWaits: live state cannot say how long an instance has been out of
	// traffic, so every instance out of traffic owes its propagation wait (out of
	// the registry) and its drain wait (drained on a balancer that reports
	// sessions) before it is deployed.
	OwesWaits bool
	// Tainted instances began a deploy whose health and verify gates never
	// passed: whatever version they report, they are taken out of traffic,
	// health-checked and verified again before any path routes to them.
	Tainted map[string]bool
}

// MakePlan diffs the configuration against the live state and returns the ordered,
// safe plan that moves the one to the other. (It cannot be called Plan: that is the
// name of the type it returns.) A plan that the safety replay rejects is not
// returned: the diagnostics say which step would break what.
func MakePlan(cfg *lang.Config, live *Live, opts Options) (*Plan, diags.Diagnostics) {
	var ds diags.Diagnostics
	if live == nil {
		live = &Live{}
	}
	names, tds := planTargets(cfg, opts.Targets)
	ds = ds.Append(tds)
	if ds.HasErrors() {
		return nil, ds
	}

	// The fingerprints depend on the live state only: they are hashed meanwhile.
	var prior map[string]string
	var hashed sync.WaitGroup
	hashed.Go(func() { prior = Fingerprints(liveSubset(live, names)) })
	defer hashed.Wait()

	drafts, bds := buildAll(cfg, live, names, opts)
	ds = ds.Append(bds)
	if ds.HasErrors() {
		return nil, ds
	}

	steps, after, spans, ods := assemble(drafts.list, drafts.steps)
	ds = ds.Append(ods)
	if ds.HasErrors() {
		return nil, ds
	}
	p := &Plan{FormatVersion: FormatVersion, Steps: steps}

	starts := make([]*serviceModel, len(drafts.list))
	scratch := make([]*serviceModel, len(drafts.list))
	for i, d := range drafts.list {
		starts[i], scratch[i] = d.start, d.scratch
	}
	_, changes, sds := replayPlan(starts, scratch, spans, p.Steps, after)
	ds = ds.Append(sds)
	if ds.HasErrors() {
		return nil, ds
	}
	p.Changes = changes
	p.Summary = summarize(p, after)
	if opts.Bounds != nil {
		p.Summary.estimate(p.Steps, after, *opts.Bounds)
	}
	hashed.Wait()
	p.Prior = Prior{Objects: prior, ConfigHash: cfg.Hash, Commit: opts.Commit}
	return p, ds
}

// drafts are the built services and the steps they emitted, in emission order.
type drafts struct {
	list  []*serviceDraft
	steps []Step
}

// minPerWorker is the fewest services worth a goroutine of their own. Tests lower
// it to run small plans in parallel too.
var minPerWorker = 64

// workers splits n services into contiguous chunks, one per goroutine: chunk w is
// [bounds[w], bounds[w+1]). Small plans get one chunk.
func workers(n int) []int {
	w := max(1, min(runtime.GOMAXPROCS(0), n/minPerWorker))
	bounds := make([]int, w+1)
	for i := range bounds {
		bounds[i] = i * n / w
	}
	return bounds
}

// parallel runs fn(w, lo, hi) for every chunk of bounds, concurrently when there
// are several.
func parallel(bounds []int, fn func(w, lo, hi int)) {
	if len(bounds) == 2 {
		fn(0, bounds[0], bounds[1])
		return
	}
	var wg sync.WaitGroup
	for w := range len(bounds) - 1 {
		wg.Go(func() { fn(w, bounds[w], bounds[w+1]) })
	}
	wg.Wait()
}

// buildAll models, checks and builds every named service, in chunks that run in
// parallel. Each chunk emits its steps into its own region of one array; the regions
// are then closed up, so the steps of all services lie one after the other. The
// diagnostics come in the order of names.
func buildAll(cfg *lang.Config, live *Live, names []string, opts Options) (drafts, diags.Diagnostics) {
	type result struct {
		d  *serviceDraft
		ds diags.Diagnostics
	}
	results := make([]result, len(names))
	bounds := workers(len(names))
	estimate := make([]int, len(bounds)) // region w is all[estimate[w]:estimate[w+1]]
	for w := range len(bounds) - 1 {
		estimate[w+1] = estimate[w]
		for _, name := range names[bounds[w]:bounds[w+1]] {
			estimate[w+1] += estimateSteps(cfg.Services[name])
		}
	}
	// The array of steps is large and takes a while to zero: it is allocated while the
	// services are modelled and checked, which needs no room for steps.
	var all []Step
	var allocated sync.WaitGroup
	allocated.Go(func() { all = make([]Step, estimate[len(estimate)-1]) })
	starts := make([]*serviceModel, len(names))
	parallel(bounds, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			svc := cfg.Services[names[i]]
			start := newServiceModel(svc, live.Services[names[i]], opts.KnownVersions[names[i]])
			if rec, ok := opts.Recovery[names[i]]; ok {
				start.recover(rec)
			}
			sds := checkMembership(start)
			if !sds.HasErrors() {
				sds = sds.Append(precheck(start))
			}
			results[i].ds = sds
			if !sds.HasErrors() {
				starts[i] = start
			}
		}
	})
	allocated.Wait()
	arenas := make([]*arena, len(bounds)-1)
	parallel(bounds, func(w, lo, hi int) {
		a := &arena{steps: all[estimate[w]:estimate[w]:estimate[w+1]]}
		arenas[w] = a
		for i := lo; i < hi; i++ {
			if starts[i] != nil {
				d, bds := buildService(cfg, starts[i], a)
				results[i] = result{d, results[i].ds.Append(bds)}
			}
		}
	})

	var ds diags.Diagnostics
	out := drafts{list: make([]*serviceDraft, 0, len(names))}
	for _, r := range results {
		ds = ds.Append(r.ds)
		if r.d != nil && !r.ds.HasErrors() {
			out.list = append(out.list, r.d)
		}
	}
	if ds.HasErrors() {
		return out, ds
	}
	if len(arenas) == 1 {
		out.steps = arenas[0].steps
		return out, ds
	}
	// Close up the regions: region w moves down to the end of region w-1, or, when a
	// region outgrew its estimate and moved elsewhere, every region is copied.
	steps, moved := all, false
	for w, a := range arenas {
		moved = moved || cap(a.steps) != estimate[w+1]-estimate[w]
	}
	if moved {
		n := 0
		for _, a := range arenas {
			n += len(a.steps)
		}
		steps = make([]Step, n)
	}
	to := 0
	for w, a := range arenas {
		copy(steps[to:], a.steps)
		if delta := int32(to); delta != 0 {
			for i := bounds[w]; i < bounds[w+1]; i++ {
				if d := results[i].d; d != nil {
					d.shift(delta)
				}
			}
		}
		to += len(a.steps)
	}
	out.steps = steps[:to]
	return out, ds
}

// shift moves the draft's steps by delta positions in the emitted steps.
func (d *serviceDraft) shift(delta int32) {
	d.lo, d.hi = d.lo+delta, d.hi+delta
	for _, st := range d.stages {
		for i := range st {
			st[i].lo += delta
			st[i].hi += delta
		}
	}
}

// planTargets resolves Options.Targets to service names in declaration order.
func planTargets(cfg *lang.Config, targets []string) ([]string, diags.Diagnostics) {
	if len(targets) == 0 {
		return cfg.ServiceNames, nil
	}
	var ds diags.Diagnostics
	want := map[string]bool{}
	for _, t := range targets {
		name := trimService(t)
		if _, ok := cfg.Services[name]; !ok {
			ds = ds.Append(diags.Sourceless(diags.Error, "Invalid target",
				fmt.Sprintf("There is no service %q in the configuration; declared services are: %s.",
					name, strings.Join(cfg.ServiceNames, ", "))))
			continue
		}
		want[name] = true
	}
	var names []string
	for _, n := range cfg.ServiceNames {
		if want[n] {
			names = append(names, n)
		}
	}
	return names, ds
}

// liveSubset returns the live state of the named services only.
func liveSubset(live *Live, names []string) *Live {
	out := &Live{Services: make(map[string]*LiveService, len(names))}
	for _, n := range names {
		if ls := live.Services[n]; ls != nil {
			out.Services[n] = ls
		}
	}
	return out
}

// checkMembership reports declared instances that a balancer pool does not hold:
// nonstop changes members' weights and states but does not add members to pools.
func checkMembership(m *serviceModel) diags.Diagnostics {
	var ds diags.Diagnostics
	for bi, b := range m.bals {
		var missing []string
		for _, im := range m.insts {
			if !im.members[bi].present {
				missing = append(missing, im.addr)
			}
		}
		if len(missing) > 0 {
			ds = ds.Append(diags.Errorf(rangeOf(m.svc.Balancers[bi].DeclRange), "Instance missing from balancer pool",
				"Service %s declares %s, but pool %q of %s has no such member. nonstop changes the weights "+
					"and states of existing members and does not add members; add them to the pool first.",
				m.name, strings.Join(missing, ", "), b.pool, b.provider))
		}
	}
	return ds
}
