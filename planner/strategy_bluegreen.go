package planner

// blueGreen deploys to the idle group while it takes no traffic, verifies it, then
// switches every balancer to it in one step per balancer. The registry enables the
// new group before the switch and disables the old group after it. With
// keep_standby the old group stays deployed, out of traffic, as the standby that the
// next release deploys to (A/B ping-pong); without it the old group is then upgraded
// too and put back in traffic.
func (b *builder) blueGreen() {
	m := b.m
	keep := m.svc.Strategy != nil && m.svc.Strategy.KeepStandby
	groups := m.groupNames()

	// Nothing to release: converge what is (or, with keep_standby, what should be) in traffic.
	live := b.liveGroups()
	if b.groupsAt(groups) || (keep && len(live) > 0 && b.groupsAt(live)) {
		if keep && !b.groupsAt(groups) {
			groups = live
		}
		var insts []*instanceModel
		for _, g := range groups {
			insts = append(insts, m.groupInstances(g)...)
		}
		b.eachUnit(insts, b.converge)
		return
	}

	next := b.pickNewGroup(groups)
	newInsts := m.groupInstances(next)
	var oldInsts []*instanceModel
	var oldGroups []string
	for _, g := range groups {
		if g != next {
			oldInsts = append(oldInsts, m.groupInstances(g)...)
			oldGroups = append(oldGroups, g)
		}
	}

	// 1. Prepare the new group out of traffic: drain, deploy, health, verify, and
	// wait until every balancer's own checks pass, so the switch routes at once.
	b.eachUnit(newInsts, b.prepare)
	// 2. The registry enables the new group.
	b.eachUnit(newInsts, b.enable)
	// 3. Every balancer switches to the new group in one step.
	var switches []chain
	for bi := range m.bals {
		weights := make(map[string]int, len(m.insts))
		for _, im := range newInsts {
			weights[im.addr] = m.configuredWeight(bi, im)
		}
		for _, im := range oldInsts {
			weights[im.addr] = 0
		}
		if s, changed := b.switchStep(bi, weights); changed {
			var c chain
			b.emit(&c, s)
			switches = append(switches, c)
		}
	}
	b.add(switches...)
	// 4. The registry disables the old group, and its traffic drains away.
	b.eachUnit(oldInsts, func(c *chain, im *instanceModel) {
		if m.registry && im.registered && im.enabled {
			b.emit(c, b.registryEnabled(im, false))
		}
	})
	var waits []chain
	for _, g := range oldGroups {
		waits = append(waits, b.quiesceGroup(g))
	}
	b.add(waits...)
	// 5. Without a standby, the old group follows.
	if !keep {
		b.eachUnit(oldInsts, b.converge)
	}
}

// prepare readies an instance out of traffic for a switch to it: drained, deployed,
// healthy and verified, and confirmed by the balancers' own health checks.
func (b *builder) prepare(c *chain, im *instanceModel) {
	if !im.atVersion(b.version) || b.m.lost(im) {
		b.drain(c, im)
		b.upgrade(c, im)
	} else {
		b.recheck(c, im)
	}
	b.confirm(c, im)
}

// liveGroups lists the groups with an instance that takes or serves traffic.
func (b *builder) liveGroups() []string {
	var out []string
	for _, g := range b.m.groupNames() {
		for _, im := range b.m.groupInstances(g) {
			if b.m.takesTraffic(im) || b.m.contributes(im) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// groupsAt reports whether every instance of the groups runs the target version.
func (b *builder) groupsAt(groups []string) bool {
	for _, g := range groups {
		for _, im := range b.m.groupInstances(g) {
			if !im.atVersion(b.version) {
				return false
			}
		}
	}
	return true
}

// pickNewGroup chooses the group that receives the release: one that already runs
// the target version (an interrupted release), else the first idle group (the
// standby), else the last group, which is drained first.
func (b *builder) pickNewGroup(groups []string) string {
	for _, g := range groups {
		if b.groupsAt([]string{g}) {
			return g
		}
	}
	live := map[string]bool{}
	for _, g := range b.liveGroups() {
		live[g] = true
	}
	for _, g := range groups {
		if !live[g] {
			return g
		}
	}
	return groups[len(groups)-1]
}

// quiesceGroup emits one propagation wait and one drain wait (sessions, in-flight
// time) for a whole group.
func (b *builder) quiesceGroup(g string) chain {
	var c chain
	var members, closing []string
	prop, inFlight := false, false
	for _, im := range b.m.groupInstances(g) {
		prop = prop || im.needsProp
		inFlight = inFlight || im.needsInFlight
		for bi, mm := range im.members {
			if mm.needsDrain {
				members = append(members, mm.name)
				if b.m.svc.Balancers[bi].LongLived {
					closing = append(closing, mm.name)
				}
			}
		}
	}
	target := b.m.name + "/" + g
	if prop {
		b.emit(&c, Step{Kind: WaitPropagation, Target: target, Args: StepArgs{Group: g, Duration: Duration(b.prop)}})
	}
	if len(members) > 0 || inFlight {
		args := StepArgs{Group: g}
		if len(members) > 0 {
			args.Members, args.Close, args.Duration = members, closing, Duration(drainTimeout(b.m.svc.Drain))
		}
		b.inFlightArgs(&args, inFlight)
		b.emit(&c, Step{Kind: WaitDrain, Target: target, Args: args})
	}
	return c
}
