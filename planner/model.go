package planner

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// serviceModel is a mutable copy of one service's live state, restricted to the
// declared instances. The planner builds steps against it and the safety replay
// applies steps to it; both use applyStep, so they agree on what a step does.
type serviceModel struct {
	name     string
	svc      *lang.Service
	need     int  // members every pool keeps serving: max(1, min_available)
	registry bool // the service has a registry block
	// regProvider is the registry's provider, "nacos.prod", when registry is set.
	regProvider string
	insts       []*instanceModel
	// index maps an address to its position in insts when the service has many
	// instances; a few are found faster by scanning. It is never changed after
	// newServiceModel, so clones share it.
	index map[string]int32
	bals  []*balancerModel
}

// indexThreshold is the instance count from which a serviceModel looks instances up
// in a map rather than by scanning insts.
const indexThreshold = 24

// balancerModel is one balancer block and the routes materialised on its pool.
type balancerModel struct {
	name     string
	provider string // "nginx.edge"
	kind     string // "nginx"
	pool     string
	prefix   string // "provider/pool/", the prefix of its members' names
	weight   *int
	routes   map[string]*providers.Route // nil while the pool holds no route
}

// instanceModel is one declared instance: its registry entry and its member in
// every balancer pool (members[i] belongs to bals[i]).
type instanceModel struct {
	addr   string
	group  string
	target string // "service/group/address", the target of its steps

	registered bool
	enabled    bool
	healthy    bool
	regWeight  float64
	version    string
	known      bool // version is known
	up         bool // the process runs and is healthy (false between deploy and wait.healthy)
	needsProp  bool // disabled in the registry and the propagation wait has not run since

	members []memberModel
}

// memberModel is an instance's member in one balancer pool.
type memberModel struct {
	name       string // "provider/pool/address"
	present    bool
	weight     int
	initWeight int
	state      providers.MemberState
	needsDrain bool // drained on an LB that reports sessions; wait.drain has not run since
}

// balancerDrainsByState reports whether a balancer kind drains members with a state
// change (HAProxy's "drain") rather than weight 0, and reports in-flight sessions.
func balancerDrainsByState(kind string) bool { return kind == "haproxy" }

// balancerHasRoutes reports whether a balancer kind can materialise routes.
func balancerHasRoutes(kind string) bool { return kind == "nginx" || kind == "haproxy" }

// newServiceModel copies a service's live state; known supplies versions the registry
// does not reveal (service address -> version). The instances, their members and
// the names of both are allocated together: a plan builds a thousand of these.
func newServiceModel(svc *lang.Service, ls *LiveService, known map[string]string) *serviceModel {
	m := &serviceModel{
		name:     svc.Name,
		svc:      svc,
		need:     max(1, svc.MinAvailable),
		registry: svc.Registry != nil,
	}
	if ls == nil {
		ls = &LiveService{}
	}
	if m.registry {
		m.regProvider = svc.Registry.Provider.String()
	}
	nb := len(svc.Balancers)
	bals := make([]balancerModel, nb)
	m.bals = make([]*balancerModel, nb)
	for i, b := range svc.Balancers {
		provider := b.Provider.String()
		bm := &bals[i]
		*bm = balancerModel{name: b.Name, provider: provider, kind: b.Provider.Kind, pool: b.Pool,
			prefix: provider + "/" + b.Pool + "/", weight: b.Weight}
		if rs := ls.Routes[b.Name]; len(rs) > 0 {
			bm.routes = make(map[string]*providers.Route, len(rs))
			for j := range rs {
				r := rs[j]
				bm.routes[r.Name] = &r
			}
		}
		m.bals[i] = bm
	}
	var memberIndex []map[string]*providers.Member
	if nb > 0 {
		memberIndex = make([]map[string]*providers.Member, nb)
		for i, b := range svc.Balancers {
			ms := ls.Balancers[b.Name]
			memberIndex[i] = make(map[string]*providers.Member, len(ms))
			for j := range ms {
				memberIndex[i][ms[j].Address] = &ms[j]
			}
		}
	}
	n := 0
	for _, g := range svc.Groups {
		n += len(g.Instances)
	}
	if n >= indexThreshold {
		m.index = make(map[string]int32, n)
	}
	slab := make([]instanceModel, n)
	members := make([]memberModel, n*nb)
	m.insts = make([]*instanceModel, 0, n)
	var abuf [64]byte
	for _, g := range svc.Groups {
		for _, a := range g.Instances {
			key := appendAddress(abuf[:0], a)
			if m.lookup(string(key)) >= 0 {
				continue
			}
			inst, registered := ls.Instances[string(key)]
			addr := inst.Address
			if !registered || addr != string(key) {
				addr = string(key)
			}
			im := &slab[len(m.insts)]
			*im = instanceModel{addr: addr, group: g.Name, up: !m.registry}
			im.members = members[len(m.insts)*nb : (len(m.insts)+1)*nb : (len(m.insts)+1)*nb]
			if registered && m.registry {
				im.registered, im.enabled, im.healthy = true, inst.Enabled, inst.Healthy
				im.regWeight = inst.Weight
				im.up = inst.Healthy
				if inst.VersionKnown {
					im.version, im.known = inst.Version, true
				}
			}
			if v, ok := known[addr]; ok && !im.known && v != "" {
				im.version, im.known = v, true
			}
			for i := range im.members {
				if mem := memberIndex[i][addr]; mem != nil {
					im.members[i] = memberModel{present: true, weight: mem.Weight, initWeight: mem.Weight, state: mem.State}
					if mem.State == "" {
						im.members[i].state = providers.StateReady
					}
					im.members[i].needsDrain = mem.Sessions != nil && *mem.Sessions > 0 && !memberServing(im.members[i])
				}
			}
			if m.index != nil {
				m.index[addr] = int32(len(m.insts))
			}
			m.insts = append(m.insts, im)
		}
	}
	m.nameInstances()
	return m
}

// appendAddress appends a.String(), "host:port" ("[v6]:port"), without allocating.
func appendAddress(b []byte, a lang.Address) []byte {
	if strings.IndexByte(a.Host, ':') >= 0 {
		b = append(b, '[')
		b = append(b, a.Host...)
		b = append(b, ']')
	} else {
		b = append(b, a.Host...)
	}
	b = append(b, ':')
	return strconv.AppendInt(b, int64(a.Port), 10)
}

// nameInstances sets every instance's target, "service/group/address", and its
// members' names, "provider/pool/address", all cut from one string.
func (m *serviceModel) nameInstances() {
	size := 0
	for _, im := range m.insts {
		size += len(m.name) + len(im.group) + len(im.addr) + 2
		for _, b := range m.bals {
			size += len(b.prefix) + len(im.addr)
		}
	}
	buf := make([]byte, 0, size)
	for _, im := range m.insts {
		buf = append(append(append(append(append(buf, m.name...), '/'), im.group...), '/'), im.addr...)
		for _, b := range m.bals {
			buf = append(append(buf, b.prefix...), im.addr...)
		}
	}
	all := string(buf)
	for _, im := range m.insts {
		n := len(m.name) + len(im.group) + len(im.addr) + 2
		im.target, all = all[:n], all[n:]
		for bi, b := range m.bals {
			n := len(b.prefix) + len(im.addr)
			im.members[bi].name, all = all[:n], all[n:]
		}
	}
}

// lookup returns the position of the instance at addr in insts, or -1.
func (m *serviceModel) lookup(addr string) int {
	if m.index != nil {
		if i, ok := m.index[addr]; ok {
			return int(i)
		}
		return -1
	}
	for i, im := range m.insts {
		if im.addr == addr {
			return i
		}
	}
	return -1
}

// byAddr returns the instance at addr, or nil.
func (m *serviceModel) byAddr(addr string) *instanceModel {
	if i := m.lookup(addr); i >= 0 {
		return m.insts[i]
	}
	return nil
}

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

// memberServing reports whether a member takes new traffic: weight above zero and ready.
func memberServing(mm memberModel) bool {
	return mm.present && mm.weight > 0 && mm.state == providers.StateReady
}

// registryServing reports whether the registry sends consumers to the instance.
func (m *serviceModel) registryServing(im *instanceModel) bool {
	return !m.registry || (im.registered && im.enabled && im.healthy)
}

// takesTraffic reports whether an instance may still receive requests: a member
// serving, enabled in the registry, or a propagation / drain wait still owed.
func (m *serviceModel) takesTraffic(im *instanceModel) bool {
	if im.needsProp || (m.registry && im.registered && im.enabled) {
		return true
	}
	for _, mm := range im.members {
		if memberServing(mm) || mm.needsDrain {
			return true
		}
	}
	return false
}

// contributes reports whether an instance counts as available in at least one pool.
func (m *serviceModel) contributes(im *instanceModel) bool {
	if !im.up || !m.registryServing(im) {
		return false
	}
	for _, mm := range im.members {
		if memberServing(mm) {
			return true
		}
	}
	return len(im.members) == 0
}

// poolServing counts the healthy, enabled, non-zero-weight members of pool bi.
func (m *serviceModel) poolServing(bi int) int {
	n := 0
	for _, im := range m.insts {
		if im.up && m.registryServing(im) && memberServing(im.members[bi]) {
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

// atVersion reports whether the instance is known to run version v.
func (im *instanceModel) atVersion(v string) bool { return im.known && im.version == v }

// fullyServing reports whether an instance serves everywhere with its configured
// weights: the steady state of a released instance.
func (m *serviceModel) fullyServing(im *instanceModel) bool {
	if !im.up || !m.registryServing(im) {
		return false
	}
	for bi, mm := range im.members {
		if !memberServing(mm) || mm.weight != m.configuredWeight(bi, im) {
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

// applyStep changes the model as the step will change the live systems. It returns an
// error, in words a reviewer understands, when the step cannot be applied: it names
// something the service does not have, or it deploys an instance that still takes traffic.
func (m *serviceModel) applyStep(s *Step) error {
	a := &s.Args
	switch s.Kind {
	case BalancerSetWeight, BalancerSetState, BalancerSwitch, RouteSet, RouteDelete:
		bi := m.balancerIndex(a.Provider, a.Pool)
		if bi < 0 {
			return fmt.Errorf("service %s has no balancer on %s pool %q", m.name, a.Provider, a.Pool)
		}
		return m.applyBalancerStep(s, bi)
	case GateAnalysis, Pause:
		return nil
	case WaitDrain:
		for _, name := range a.Members {
			found := false
			for bi := range m.bals {
				prefix := m.bals[bi].prefix
				if !strings.HasPrefix(name, prefix) {
					continue
				}
				if im := m.byAddr(name[len(prefix):]); im != nil {
					im.members[bi].needsDrain, found = false, true
				}
			}
			if !found {
				return fmt.Errorf("service %s has no member %s", m.name, name)
			}
		}
		return nil
	case WaitPropagation:
		if a.Address == "" {
			for _, im := range m.insts {
				if a.Group == "" || im.group == a.Group {
					im.needsProp = false
				}
			}
			return nil
		}
	}
	im := m.byAddr(a.Address)
	if im == nil {
		return fmt.Errorf("service %s has no instance %s", m.name, a.Address)
	}
	switch s.Kind {
	case RegistrySetEnabled, RegistrySetWeight:
		if !m.registry {
			return fmt.Errorf("service %s has no registry", m.name)
		}
		if !im.registered {
			return fmt.Errorf("instance %s is not registered", im.addr)
		}
		if s.Kind == RegistrySetWeight && a.RegistryWeight != nil {
			im.regWeight = *a.RegistryWeight
		}
		if s.Kind == RegistrySetEnabled && a.Enabled != nil {
			if im.enabled && !*a.Enabled {
				im.needsProp = true
			}
			im.enabled = *a.Enabled
		}
	case WaitPropagation:
		im.needsProp = false
	case Deploy:
		if m.takesTraffic(im) {
			return fmt.Errorf("deploys %s while it still takes traffic (%s)", im.addr, m.trafficReason(im))
		}
		im.version, im.known, im.up, im.healthy = a.Version, true, false, false
	case WaitHealthy:
		im.up, im.healthy = true, true
		if m.registry && !im.registered {
			// A deployed instance registers itself; nonstop enables it explicitly.
			im.registered, im.enabled, im.regWeight = true, false, configuredRegistryWeight(im)
		}
	case Verify:
		if !im.up {
			return fmt.Errorf("verifies %s before it is healthy", im.addr)
		}
	default:
		return fmt.Errorf("unknown step kind %q", s.Kind)
	}
	return nil
}

// applyBalancerStep applies a step that writes to balancer bi.
func (m *serviceModel) applyBalancerStep(s *Step, bi int) error {
	a := &s.Args
	b := m.bals[bi]
	drainsByState := balancerDrainsByState(b.kind)
	setMember := func(addr string, weight *int, state providers.MemberState) error {
		im := m.byAddr(addr)
		if im == nil || !im.members[bi].present {
			return fmt.Errorf("pool %s/%s has no member %s", b.provider, b.pool, addr)
		}
		mm := &im.members[bi]
		was := memberServing(*mm)
		if weight != nil {
			mm.weight = *weight
		}
		if state != "" {
			mm.state = state
		}
		if was && !memberServing(*mm) && drainsByState {
			mm.needsDrain = true
		}
		return nil
	}
	switch s.Kind {
	case BalancerSetWeight:
		if a.Weight == nil {
			return fmt.Errorf("sets no weight")
		}
		return setMember(a.Address, a.Weight, "")
	case BalancerSetState:
		return setMember(a.Address, nil, a.State)
	case BalancerSwitch:
		addrs := make([]string, 0, len(a.Weights))
		for addr := range a.Weights {
			addrs = append(addrs, addr)
		}
		sort.Strings(addrs)
		for _, addr := range addrs {
			w := a.Weights[addr]
			state := providers.MemberState("")
			if w > 0 {
				state = providers.StateReady
			}
			if err := setMember(addr, &w, state); err != nil {
				return err
			}
		}
	case RouteSet, RouteDelete:
		if !balancerHasRoutes(b.kind) {
			return fmt.Errorf("%s balancers cannot hold routes", b.kind)
		}
		if a.Route == nil {
			return fmt.Errorf("names no route")
		}
		if s.Kind == RouteDelete {
			delete(b.routes, a.Route.Name)
			return nil
		}
		r := *a.Route
		if b.routes == nil {
			b.routes = map[string]*providers.Route{}
		}
		b.routes[r.Name] = &r
	}
	return nil
}

// trafficReason says why an instance still takes traffic.
func (m *serviceModel) trafficReason(im *instanceModel) string {
	var why []string
	if m.registry && im.registered && im.enabled {
		why = append(why, "enabled in the registry")
	}
	if im.needsProp {
		why = append(why, "the registry propagation wait has not run since it was disabled")
	}
	for _, mm := range im.members {
		if memberServing(mm) {
			why = append(why, fmt.Sprintf("weight %d in %s", mm.weight, mm.name))
		}
		if mm.needsDrain {
			why = append(why, fmt.Sprintf("sessions not drained in %s", mm.name))
		}
	}
	return strings.Join(why, ", ")
}
