package planner

import (
	"fmt"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// chain is a sequence of steps that run one after the other: one instance's unit.
// A chain's steps are emitted one after the other, so it is the range [lo, hi) of
// builder.steps.
type chain struct{ lo, hi int32 }

// empty reports whether the chain has no step.
func (c chain) empty() bool { return c.hi == c.lo }

// stage is a set of chains that run in parallel: one batch. Stages run in order.
type stage []chain

// arena holds what the builders of one plan allocate in bulk: the steps of every
// service, one after the other, and the values that steps' arguments point to.
type arena struct {
	steps  []Step
	ints   []int
	bools  []bool
	floats []float64
	chains []chain
}

// arenaChunk is how many values of a kind arena allocates at once.
const arenaChunk = 512

// intp returns a pointer to a new int holding v.
func (a *arena) intp(v int) *int {
	if len(a.ints) == 0 {
		a.ints = make([]int, arenaChunk)
	}
	p := &a.ints[0]
	*p, a.ints = v, a.ints[1:]
	return p
}

// boolp returns a pointer to a new bool holding v.
func (a *arena) boolp(v bool) *bool {
	if len(a.bools) == 0 {
		a.bools = make([]bool, arenaChunk)
	}
	p := &a.bools[0]
	*p, a.bools = v, a.bools[1:]
	return p
}

// floatp returns a pointer to a new float64 holding v.
func (a *arena) floatp(v float64) *float64 {
	if len(a.floats) == 0 {
		a.floats = make([]float64, arenaChunk)
	}
	p := &a.floats[0]
	*p, a.floats = v, a.floats[1:]
	return p
}

// stage returns an empty stage with room for n chains.
func (a *arena) stage(n int) stage {
	if cap(a.chains)-len(a.chains) < n {
		a.chains = make([]chain, 0, max(n, arenaChunk))
	}
	l := len(a.chains)
	a.chains = a.chains[:l+n]
	return a.chains[l : l : l+n]
}

// builder emits the steps of one service. Every step is applied to the scratch
// model as it is emitted, so later decisions see the state the earlier steps leave.
type builder struct {
	m       *serviceModel // scratch: the state after the steps emitted so far
	version string
	prop    time.Duration
	stages  []stage
	a       *arena
	steps   []Step // every step emitted, in emission order, after other services' steps
	err     error  // a step the builder emitted could not be applied (a planner bug)
	// canaryMarks are the canary traffic steps, where gateway documents follow.
	canaryMarks []canaryMark
}

// emit applies s to the scratch model and appends it to c, which must be empty or
// end with the last step emitted.
func (b *builder) emit(c *chain, s Step) {
	s.Service = b.m.name
	if err := b.m.applyStep(&s); err != nil && b.err == nil {
		b.err = fmt.Errorf("%s %s: %v", s.Kind, s.Target, err)
	}
	n := int32(len(b.steps))
	switch {
	case c.empty():
		c.lo = n
	case c.hi != n && b.err == nil:
		b.err = fmt.Errorf("%s %s: emitted into a chain interrupted by other steps", s.Kind, s.Target)
	}
	b.steps = append(b.steps, s)
	c.hi = n + 1
}

// add appends a stage of the non-empty chains, if any.
func (b *builder) add(chains ...chain) {
	st := b.a.stage(len(chains))
	for _, c := range chains {
		if !c.empty() {
			st = append(st, c)
		}
	}
	if len(st) > 0 {
		b.stages = append(b.stages, st)
	}
}

// eachUnit builds one chain per instance with fn and adds them as one stage.
func (b *builder) eachUnit(insts []*instanceModel, fn func(c *chain, im *instanceModel)) {
	st := b.a.stage(len(insts))
	for _, im := range insts {
		var c chain
		fn(&c, im)
		if !c.empty() {
			st = append(st, c)
		}
	}
	if len(st) > 0 {
		b.stages = append(b.stages, st)
	}
}

// drain takes an instance out of traffic: every balancer first (weight 0, or state
// drain on HAProxy), then the registry, then the propagation and drain waits.
func (b *builder) drain(c *chain, im *instanceModel) {
	for bi := range b.m.bals {
		if !memberRaised(im.members[bi]) {
			continue
		}
		if b.m.bals[bi].caps.DrainsByState {
			b.emit(c, b.memberStep(BalancerSetState, bi, im, StepArgs{State: providers.StateDrain}))
		} else {
			b.emit(c, b.memberStep(BalancerSetWeight, bi, im, StepArgs{Weight: b.a.intp(0)}))
		}
	}
	if b.m.registry && im.registered && im.enabled {
		b.emit(c, b.registryEnabled(im, false))
	}
	b.quiesce(c, im)
}

// quiesce emits the waits an instance still owes before it may be deployed: the
// propagation, then one wait.drain for the sessions of its members on balancers
// that count them and, with drain.in_flight, at least the in-flight time.
func (b *builder) quiesce(c *chain, im *instanceModel) {
	if im.needsProp {
		b.emit(c, Step{Kind: WaitPropagation, Target: im.target,
			Args: StepArgs{Address: im.addr, Group: im.group, Duration: Duration(b.prop)}})
	}
	var members, closing []string
	for bi, mm := range im.members {
		if mm.needsDrain {
			members = append(members, mm.name)
			if b.m.svc.Balancers[bi].LongLived {
				closing = append(closing, mm.name)
			}
		}
	}
	if len(members) > 0 || im.needsInFlight {
		args := StepArgs{Address: im.addr, Group: im.group}
		if len(members) > 0 {
			args.Members, args.Close, args.Duration = members, closing, Duration(drainTimeout(b.m.svc.Drain))
		}
		b.inFlightArgs(&args, im.needsInFlight)
		b.emit(c, Step{Kind: WaitDrain, Target: im.target, Args: args})
	}
}

// drainTimeout is the drain block's timeout, 5m when unset.
func drainTimeout(d lang.Drain) time.Duration {
	if d.Timeout > 0 {
		return d.Timeout
	}
	return 5 * time.Minute
}

// upgrade deploys the target version to a drained instance, waits for it to be
// healthy and runs the verify check.
func (b *builder) upgrade(c *chain, im *instanceModel) {
	from := ""
	if im.known {
		from = im.version
	}
	b.emit(c, Step{Kind: Deploy, Target: im.target,
		Args: StepArgs{Address: im.addr, Group: im.group, Version: b.version, FromVersion: from}})
	b.healthy(c, im)
	if b.m.svc.Verify != nil {
		b.emit(c, Step{Kind: Verify, Target: im.target,
			Args: StepArgs{Address: im.addr, Group: im.group, Version: b.version}})
	}
}

// healthy emits a wait.healthy step.
func (b *builder) healthy(c *chain, im *instanceModel) {
	var timeout time.Duration
	if h := b.m.svc.Health; h != nil {
		timeout = h.Timeout
	}
	b.emit(c, Step{Kind: WaitHealthy, Target: im.target,
		Args: StepArgs{Address: im.addr, Group: im.group, Version: b.version, Duration: Duration(timeout)}})
}

// enable enables the instance in the registry when it is not.
func (b *builder) enable(c *chain, im *instanceModel) {
	if b.m.registry && !im.enabled {
		b.emit(c, b.registryEnabled(im, true))
	}
}

// restore puts the instance back in every pool with its configured weight.
func (b *builder) restore(c *chain, im *instanceModel) {
	for bi, mm := range im.members {
		if w := b.m.configuredWeight(bi, im); mm.weight != w {
			b.emit(c, b.memberStep(BalancerSetWeight, bi, im, StepArgs{Weight: b.a.intp(w)}))
		}
		if im.members[bi].state != providers.StateReady {
			b.emit(c, b.memberStep(BalancerSetState, bi, im, StepArgs{State: providers.StateReady}))
		}
	}
}

// converge brings one instance to the steady state: at the target version (drained,
// deployed and checked first when it is not), enabled and serving with its
// configured weights. An instance already there gets no steps; one already at the
// target version is only restored (after a health wait when it is not known healthy).
//
// Before a member goes back in traffic, a wait.serving waits for the balancer's own
// checks to pass (they run while it is drained); a member whose checks only run in
// traffic (HAProxy's maint) gets its wait.serving right after the restore. Either
// way the chain ends with the member serving as the balancer sees it, so the next
// batch is not drained before its replacement routes.
func (b *builder) converge(c *chain, im *instanceModel) {
	if im.atVersion(b.version) && !b.m.lost(im) {
		b.recheck(c, im)
	} else {
		b.drain(c, im)
		b.upgrade(c, im)
	}
	if !c.empty() {
		b.confirm(c, im)
	}
	b.enable(c, im)
	b.restore(c, im)
	if !c.empty() {
		b.confirm(c, im)
	}
}

// recheck brings an instance already at the target version back to health: a
// health wait when it is not known healthy, and for a tainted one (its deploy's
// gates never passed) the whole check out of traffic: drained first, then health
// and verify again.
func (b *builder) recheck(c *chain, im *instanceModel) {
	if im.tainted {
		if b.m.takesTraffic(im) {
			b.drain(c, im)
		}
		b.healthy(c, im)
		if b.m.svc.Verify != nil {
			b.emit(c, Step{Kind: Verify, Target: im.target,
				Args: StepArgs{Address: im.addr, Group: im.group, Version: b.version}})
		}
		return
	}
	if !im.up {
		b.healthy(c, im)
	}
}

// confirm emits a wait.serving for the instance's members that a balancer with
// its own health checks has not confirmed yet, when those checks run (not in
// maintenance).
func (b *builder) confirm(c *chain, im *instanceModel) {
	var members []string
	for bi, mm := range im.members {
		if mm.present && mm.unchecked && mm.state != providers.StateMaint && b.m.bals[bi].caps.ConfirmsServing {
			members = append(members, mm.name)
		}
	}
	if len(members) > 0 {
		b.emit(c, Step{Kind: WaitServing, Target: im.target,
			Args: StepArgs{Address: im.addr, Group: im.group, Members: members, Duration: Duration(servingTimeout(b.m.svc))}})
	}
}

// servingTimeout bounds a wait.serving: the health block's timeout, else 60s, the
// same bound as the instance's own health check.
func servingTimeout(svc *lang.Service) time.Duration {
	if h := svc.Health; h != nil && h.Timeout > 0 {
		return h.Timeout
	}
	return 60 * time.Second
}

// memberStep builds a balancer step on instance im's member of pool bi.
func (b *builder) memberStep(kind StepKind, bi int, im *instanceModel, args StepArgs) Step {
	bal := b.m.bals[bi]
	args.Provider, args.Pool, args.Address, args.Group = bal.provider, bal.pool, im.addr, im.group
	return Step{Kind: kind, Target: im.members[bi].name, Args: args}
}

// registryEnabled builds a registry.set_enabled step.
func (b *builder) registryEnabled(im *instanceModel, enabled bool) Step {
	r := b.m.svc.Registry
	return Step{Kind: RegistrySetEnabled, Target: im.target, Args: StepArgs{
		Provider: b.m.regProvider, Address: im.addr, Group: im.group,
		RegistryGroup: r.Group, RegistryCluster: r.Cluster, Enabled: b.a.boolp(enabled)}}
}

// registryWeight builds a registry.set_weight step.
func (b *builder) registryWeight(im *instanceModel, w float64) Step {
	r := b.m.svc.Registry
	return Step{Kind: RegistrySetWeight, Target: im.target, Args: StepArgs{
		Provider: b.m.regProvider, Address: im.addr, Group: im.group,
		RegistryGroup: r.Group, RegistryCluster: r.Cluster, RegistryWeight: b.a.floatp(w)}}
}

// switchStep builds one balancer.switch step for pool bi, or reports false when
// every listed member already has its weight and serves where it should.
func (b *builder) switchStep(bi int, weights map[string]int) (Step, bool) {
	changed := false
	for addr, w := range weights {
		mm := b.m.byAddr(addr).members[bi]
		if mm.weight != w || (w > 0 && mm.state != providers.StateReady) {
			changed = true
		}
	}
	bal := b.m.bals[bi]
	return Step{Kind: BalancerSwitch, Target: bal.provider + "/" + bal.pool,
		Args: StepArgs{Provider: bal.provider, Pool: bal.pool, Weights: weights}}, changed
}
