package planner

import (
	"fmt"
	"math"

	"github.com/nonstop-release/nonstop/lang"
)

// canaryScale is the weight of the heavier side of a canary split. It fits every
// balancer's range (nginx ≥ 1, HAProxy 0..256) and gives 1% resolution.
const canaryScale = 100

// canaryOrder returns the groups with the canary group first: the first declared
// group, unless it serves while another group is idle (a blue-green standby left
// out of traffic), in which case the first idle group is the canary: it is
// upgraded without taking anything out of traffic, and the serving groups follow
// after the promotion.
func (b *builder) canaryOrder() []string {
	groups := b.m.groupNames()
	live := map[string]bool{}
	for _, g := range b.liveGroups() {
		live[g] = true
	}
	if !live[groups[0]] {
		return groups
	}
	for i, g := range groups {
		if !live[g] {
			return append([]string{g}, append(append([]string(nil), groups[:i]...), groups[i+1:]...)...)
		}
	}
	return groups
}

// canary upgrades the canary group (canaryOrder: the first group, or an idle
// standby), then moves traffic to it in the declared steps:
// each step below 100 sets the balancer (and registry) weights so the canary group
// gets about that share, then pauses and runs the step's analysis gates. The step
// at 100 (or the end of the steps) restores the configured weights everywhere, holds
// and checks once more, and the other groups follow one group at a time.
func (b *builder) canary() {
	m := b.m
	groups := b.canaryOrder()
	if b.groupsAt(groups) {
		b.eachUnit(m.insts, b.converge)
		return
	}
	canaryInsts := m.groupInstances(groups[0])
	var rest []*instanceModel
	for _, g := range groups[1:] {
		rest = append(rest, m.groupInstances(g)...)
	}

	// The canary group is upgraded out of traffic.
	b.eachUnit(canaryInsts, b.prepare)

	steps := []lang.CanaryStep{{Weight: 100}}
	if m.svc.Strategy != nil && len(m.svc.Strategy.Steps) > 0 {
		steps = m.svc.Strategy.Steps
	}
	enabled := false
	for i, st := range steps {
		if st.Weight >= 100 {
			break
		}
		if st.Weight == 0 {
			// A dark canary: out of the pools and the registry, reached only
			// through its routes, which the route placement sets once it is up.
			b.markCanary(0)
			b.canaryHold(i, st)
			continue
		}
		b.canaryWeights(canaryInsts, rest, st.Weight)
		if !enabled {
			b.eachUnit(canaryInsts, b.enable)
			enabled = true
		}
		b.markCanary(st.Weight)
		b.canaryHold(i, st)
	}

	// Promotion: configured weights everywhere, then the rest group by group.
	b.canaryWeights(canaryInsts, rest, 100)
	if !enabled {
		b.eachUnit(canaryInsts, b.enable)
	}
	b.markCanary(100)
	if last := steps[len(steps)-1]; last.Weight >= 100 {
		b.canaryHold(len(steps)-1, last)
	}
	rec, others := b.splitRecovery(rest)
	b.eachUnit(rec, b.converge)
	for _, g := range groups[1:] {
		var batch []*instanceModel
		for _, im := range others {
			if im.group == g {
				batch = append(batch, im)
			}
		}
		b.eachUnit(batch, b.converge)
	}
}

// canaryWeights emits one stage that sets the canary split to pct percent: one
// balancer.switch per pool and registry.set_weight for every enabled instance. At
// 100 it restores the configured weights instead.
//
// The split gives each canary member the weight pct/nc and each other serving member
// (100-pct)/no, where nc and no count them in the pool, scaled so the heavier side is
// canaryScale and rounded to integers of at least 1. The canary's share is then
// nc·wc / (nc·wc + no·wo) ≈ pct%.
func (b *builder) canaryWeights(canaryInsts, rest []*instanceModel, pct int) {
	m := b.m
	var chains []chain
	for bi := range m.bals {
		var serving []*instanceModel
		for _, im := range rest {
			if memberRaised(im.members[bi]) {
				serving = append(serving, im)
			}
		}
		wc, wo := canarySplit(pct, len(canaryInsts), len(serving))
		weights := make(map[string]int, len(canaryInsts)+len(serving))
		for _, im := range canaryInsts {
			weights[im.addr] = pick(pct >= 100 || len(serving) == 0, m.configuredWeight(bi, im), wc)
		}
		for _, im := range serving {
			weights[im.addr] = pick(pct >= 100, m.configuredWeight(bi, im), wo)
		}
		if s, changed := b.switchStep(bi, weights); changed {
			var c chain
			b.emit(&c, s)
			chains = append(chains, c)
		}
	}
	if m.registry {
		var enabledRest []*instanceModel
		for _, im := range rest {
			if im.registered && im.enabled {
				enabledRest = append(enabledRest, im)
			}
		}
		wc, wo := canarySplit(pct, len(canaryInsts), len(enabledRest))
		set := func(im *instanceModel, w float64) {
			if im.registered && im.regWeight != w {
				var c chain
				b.emit(&c, b.registryWeight(im, w))
				chains = append(chains, c)
			}
		}
		for _, im := range canaryInsts {
			set(im, pickF(pct >= 100 || len(enabledRest) == 0, configuredRegistryWeight(im), float64(wc)))
		}
		for _, im := range enabledRest {
			set(im, pickF(pct >= 100, configuredRegistryWeight(im), float64(wo)))
		}
	}
	b.add(chains...)
}

// canarySplit returns the member weights of the canary and the other members for a
// canary share of pct percent (see canaryWeights).
func canarySplit(pct, nc, no int) (wc, wo int) {
	if nc == 0 || no == 0 || pct >= 100 {
		return canaryScale, canaryScale
	}
	a := float64(pct) / float64(nc)
	o := float64(100-pct) / float64(no)
	scale := canaryScale / math.Max(a, o)
	return max(1, int(math.Round(a*scale))), max(1, int(math.Round(o*scale)))
}

// canaryHold emits the pause and the analysis gates of canary step i, in sequence.
func (b *builder) canaryHold(i int, st lang.CanaryStep) {
	target := fmt.Sprintf("%s/canary step %d (%d%%)", b.m.name, i+1, st.Weight)
	var c chain
	if st.Pause > 0 || st.PauseUntilResumed {
		b.emit(&c, Step{Kind: Pause, Target: target, Args: StepArgs{Duration: Duration(st.Pause), UntilResumed: st.PauseUntilResumed}})
	}
	if len(st.Analysis) > 0 {
		b.emit(&c, Step{Kind: GateAnalysis, Target: target, Args: StepArgs{Analysis: st.Analysis, Version: b.version}})
	}
	b.add(c)
}

func pick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

func pickF(cond bool, a, b float64) float64 {
	if cond {
		return a
	}
	return b
}
