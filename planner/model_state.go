package planner

import (
	"maps"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

// clone returns a deep copy. Routes are shared: they are replaced whole, never mutated.
func (m *serviceModel) clone() *serviceModel {
	c := *m
	nb := len(m.bals)
	c.insts = make([]*instanceModel, len(m.insts))
	slab := make([]instanceModel, len(m.insts))
	members := make([]memberModel, len(m.insts)*nb)
	for i, im := range m.insts {
		ic := &slab[i]
		*ic = *im
		ic.members = members[i*nb : (i+1)*nb : (i+1)*nb]
		copy(ic.members, im.members)
		c.insts[i] = ic
	}
	c.bals = make([]*balancerModel, nb)
	bals := make([]balancerModel, nb)
	for i, b := range m.bals {
		bc := &bals[i]
		*bc = *b
		if b.routes != nil {
			bc.routes = make(map[string]*providers.Route, len(b.routes))
			for k, r := range b.routes {
				bc.routes[k] = r
			}
		}
		c.bals[i] = bc
	}
	return &c
}

// reset sets m back to the state of from, which m is a clone of, reusing m's memory.
func (m *serviceModel) reset(from *serviceModel) {
	for i, im := range m.insts {
		members := im.members
		*im = *from.insts[i]
		im.members = members
		copy(members, from.insts[i].members)
	}
	for i, b := range m.bals {
		b.routes = nil
		if r := from.bals[i].routes; r != nil {
			b.routes = maps.Clone(r)
		}
	}
}

// memberRaised reports whether nonstop has put a member in traffic: weight above
// zero and ready. The balancer may still hold it back (memberServing).
func memberRaised(mm memberModel) bool {
	return mm.present && mm.weight > 0 && mm.state == providers.StateReady
}

// memberServing reports whether a member takes new traffic as the balancer itself
// sees it: raised, and confirmed by the balancer's own health checks.
func memberServing(mm memberModel) bool { return memberRaised(mm) && !mm.unchecked }

// registryServing reports whether the registry sends consumers to the instance.
func (m *serviceModel) registryServing(im *instanceModel) bool {
	return !m.registry || (im.registered && im.enabled && im.healthy)
}

// takesTraffic reports whether an instance may still receive requests: a member
// serving, enabled in the registry, or a propagation / drain wait still owed.
func (m *serviceModel) takesTraffic(im *instanceModel) bool {
	if im.needsProp || im.needsInFlight || (m.registry && im.registered && im.enabled) {
		return true
	}
	for _, mm := range im.members {
		if memberRaised(mm) || mm.needsDrain {
			return true
		}
	}
	return false
}

// contributes reports whether an instance serves on at least one path: the
// registry (registered, enabled, healthy) or a pool. An instance that lost its
// registration still serves every pool that routes to it, so converging it lowers
// those pools like any other.
func (m *serviceModel) contributes(im *instanceModel) bool {
	if !im.up {
		return false
	}
	if m.registry && m.registryServing(im) {
		return true
	}
	for _, mm := range im.members {
		if memberServing(mm) {
			return true
		}
	}
	return !m.registry && len(im.members) == 0
}

// poolServing counts the up instances whose member of pool bi serves (weight,
// state and the balancer's own checks): what the pool routes to, whatever the
// registry says.
func (m *serviceModel) poolServing(bi int) int {
	n := 0
	for _, im := range m.insts {
		if im.up && memberServing(im.members[bi]) {
			n++
		}
	}
	return n
}

// registryCount counts the up instances the registry hands to consumers:
// registered, enabled and healthy.
func (m *serviceModel) registryCount() int {
	n := 0
	for _, im := range m.insts {
		if im.up && m.registryServing(im) {
			n++
		}
	}
	return n
}

// configuredWeight is the weight a serving member of pool bi should have: the
// balancer's weight, else the member's weight before the plan when non-zero, else 1.
func (m *serviceModel) configuredWeight(bi int, im *instanceModel) int {
	if w := m.bals[bi].weight; w != nil {
		return *w
	}
	if im.members[bi].initWeight > 0 {
		return im.members[bi].initWeight
	}
	return 1
}

// configuredRegistryWeight is the registry weight an instance returns to after a
// canary. The configuration sets no registry weight and the live weight may be a
// leftover of an interrupted canary, so it is Nacos' default, 1.
func configuredRegistryWeight(*instanceModel) float64 { return 1 }

// lost reports whether an instance of a service in a registry is not registered
// there: its registration was lost (a registry outage, an expired session), or
// it never started. Its application registers itself only when it starts, so the
// plan redeploys it, whatever version nonstop last deployed there; enabling what
// is not registered cannot work.
func (m *serviceModel) lost(im *instanceModel) bool { return m.registry && !im.registered }

// atVersion reports whether the instance is known to run version v.
func (im *instanceModel) atVersion(v string) bool { return im.known && im.version == v }

// fullyServing reports whether an instance serves everywhere with its configured
// weights: the steady state of a released instance.
func (m *serviceModel) fullyServing(im *instanceModel) bool {
	if !im.up || !m.registryServing(im) {
		return false
	}
	for bi, mm := range im.members {
		if !memberRaised(mm) || mm.weight != m.configuredWeight(bi, im) {
			return false
		}
	}
	return true
}

// balancerIndex finds the balancer a step writes to by provider and pool.
func (m *serviceModel) balancerIndex(provider, pool string) int {
	for i, b := range m.bals {
		if b.provider == provider && b.pool == pool {
			return i
		}
	}
	return -1
}

// groupNames returns the declared group names in order.
func (m *serviceModel) groupNames() []string {
	out := make([]string, 0, len(m.svc.Groups))
	for _, g := range m.svc.Groups {
		out = append(out, g.Name)
	}
	return out
}

// groupInstances returns the instances of group g in declared order.
func (m *serviceModel) groupInstances(g string) []*instanceModel {
	var out []*instanceModel
	for _, im := range m.insts {
		if im.group == g {
			out = append(out, im)
		}
	}
	return out
}

// routeUp reports whether a route has a member that is up at the route's version.
func (m *serviceModel) routeUp(r *providers.Route) bool {
	for _, a := range r.Members {
		if im := m.byAddr(a); im != nil && im.up && im.atVersion(r.Version) {
			return true
		}
	}
	return false
}

// upAt lists, sorted, the addresses of instances that are up at version v.
func (m *serviceModel) upAt(v string) []string {
	var out []string
	for _, im := range m.insts {
		if im.up && im.atVersion(v) {
			out = append(out, im.addr)
		}
	}
	sort.Strings(out)
	return out
}

// trimService removes a "service." prefix from a target name.
func trimService(t string) string { return strings.TrimPrefix(t, "service.") }
