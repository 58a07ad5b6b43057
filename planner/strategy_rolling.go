package planner

import (
	"sort"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/zclconf/go-cty/cty"
)

// defaultPropagation is the registry propagation wait when neither the drain block
// nor the registry provider sets one: consumers cache instance lists for ~30s.
const defaultPropagation = 30 * time.Second

// serviceDraft is one service's steps before they get ids: stages of parallel chains
// of the steps in a.steps[lo:hi].
type serviceDraft struct {
	start *serviceModel
	// scratch is the builder's working copy of start, which the safety replay reuses.
	scratch *serviceModel
	stages  []stage
	lo, hi  int32
}

// buildService builds the stages of one service with its strategy, then places the
// route changes. Its steps are appended to a.steps.
func buildService(cfg *lang.Config, start *serviceModel, a *arena) (*serviceDraft, diags.Diagnostics) {
	svc := start.svc
	lo := int32(len(a.steps))
	b := &builder{m: start.clone(), version: svc.Version, prop: propagation(cfg, svc), a: a, steps: a.steps}
	switch strategyKind(svc) {
	case lang.BlueGreen:
		b.blueGreen()
	case lang.Canary:
		b.canary()
	default:
		b.rolling()
	}
	ds := b.placeGatewayRoutes(start)
	ds = ds.Append(b.placeRoutes(start))
	a.steps = b.steps
	if b.err != nil {
		ds = ds.Append(diags.Sourceless(diags.Error, "Internal planner error",
			"The planner built a step it cannot apply to its own model of service "+svc.Name+": "+b.err.Error()+
				". This is a bug in nonstop; please report it with the plan's inputs."))
	}
	return &serviceDraft{start: start, scratch: b.m, stages: b.stages, lo: lo, hi: int32(len(a.steps))}, ds
}

// estimateSteps guesses how many steps a service of n instances needs: about eight
// per instance (drain, waits, deploy, checks, restore) and a few for the service.
func estimateSteps(svc *lang.Service) int {
	n := 0
	for _, g := range svc.Groups {
		n += len(g.Instances)
	}
	return 8*n + 8
}

// strategyKind returns the service's strategy, rolling when none is declared.
func strategyKind(svc *lang.Service) lang.StrategyKind {
	if svc.Strategy == nil {
		return lang.Rolling
	}
	return svc.Strategy.Kind
}

// propagation is how long consumers take to drop a disabled instance: the drain
// block's propagation, else the registry provider's, else 30s; zero without a registry.
func propagation(cfg *lang.Config, svc *lang.Service) time.Duration {
	if svc.Registry == nil {
		return 0
	}
	if svc.Drain.Propagation != nil {
		return *svc.Drain.Propagation
	}
	if p := cfg.Providers[svc.Registry.Provider]; p != nil {
		if v, ok := p.Attrs["propagation"]; ok && !v.IsNull() && v.IsKnown() && v.Type() == cty.String {
			if d, err := time.ParseDuration(v.AsString()); err == nil {
				return d
			}
		}
	}
	return defaultPropagation
}

// rolling releases batch by batch. Instances that serve nowhere (or already run the
// target version) are finished first, in parallel: that never lowers availability
// and is how an interrupted release resumes. The rest follow in the strategy's batches.
func (b *builder) rolling() {
	rec, rest := b.splitRecovery(b.m.insts)
	b.eachUnit(rec, b.converge)
	// Lost registrations first: their repair gives the registry back instances
	// before the others are taken out of it.
	var lost, others []*instanceModel
	for _, im := range rest {
		if b.m.lost(im) {
			lost = append(lost, im)
		} else {
			others = append(others, im)
		}
	}
	for _, batch := range rollingBatches(b.m, lost) {
		b.eachUnit(batch, b.converge)
	}
	for _, batch := range rollingBatches(b.m, others) {
		b.eachUnit(batch, b.converge)
	}
}

// splitRecovery separates the instances whose convergence cannot lower availability
// (at the target version already and registered, or serving on no path) from the
// others. A lost registration is repaired by a redeploy, which drains the pools
// that still route to the instance: it goes in the strategy's batches.
func (b *builder) splitRecovery(insts []*instanceModel) (rec, rest []*instanceModel) {
	for _, im := range insts {
		if (im.atVersion(b.version) && !b.m.lost(im)) || !b.m.contributes(im) {
			rec = append(rec, im)
		} else {
			rest = append(rest, im)
		}
	}
	return rec, rest
}

// rollingBatches splits insts into the batches of the rolling strategy: one per
// group in declared order, or chunks of Count (or Percent of the service's
// instances, rounded up) ordered by group then address.
func rollingBatches(m *serviceModel, insts []*instanceModel) [][]*instanceModel {
	size := batchSize(m)
	if size == 0 {
		var out [][]*instanceModel
		for _, g := range m.groupNames() {
			var batch []*instanceModel
			for _, im := range insts {
				if im.group == g {
					batch = append(batch, im)
				}
			}
			if len(batch) > 0 {
				out = append(out, batch)
			}
		}
		return out
	}
	sorted := sortByGroupAddress(m, insts)
	var out [][]*instanceModel
	for len(sorted) > 0 {
		n := min(size, len(sorted))
		out = append(out, sorted[:n])
		sorted = sorted[n:]
	}
	return out
}

// batchSize returns how many instances a rolling batch drains at once, 0 for by group.
func batchSize(m *serviceModel) int {
	st := m.svc.Strategy
	if st == nil || st.Kind != lang.Rolling {
		return 0
	}
	switch {
	case st.Batch.Count > 0:
		return st.Batch.Count
	case st.Batch.Percent > 0:
		return max(1, (len(m.insts)*st.Batch.Percent+99)/100)
	}
	return 0
}

// sortByGroupAddress orders instances by declared group, then address.
func sortByGroupAddress(m *serviceModel, insts []*instanceModel) []*instanceModel {
	gi := map[string]int{}
	for i, g := range m.groupNames() {
		gi[g] = i
	}
	out := append([]*instanceModel(nil), insts...)
	sort.SliceStable(out, func(i, j int) bool {
		if gi[out[i].group] != gi[out[j].group] {
			return gi[out[i].group] < gi[out[j].group]
		}
		return out[i].addr < out[j].addr
	})
	return out
}
