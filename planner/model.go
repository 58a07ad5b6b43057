package planner

import (
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
	// gateways are the gateway routes documents as read, by block name (shared
	// by clones: never changed).
	gateways map[string]*LiveGateway
}

// indexThreshold is the instance count from which a serviceModel looks instances up
// in a map rather than by scanning insts.
const indexThreshold = 24

// balancerModel is one balancer block and the routes materialised on its pool.
type balancerModel struct {
	name     string
	provider string // "nginx.edge"
	kind     string // "nginx"
	caps     providers.Capabilities
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
	// needsInFlight: the instance left a path while drain.in_flight is set and no
	// wait.drain has held its in-flight time since.
	needsInFlight bool
	// tainted: a deploy began and its gates never passed (an interrupted apply); it
	// is checked (wait.healthy, verify) again before it takes traffic.
	tainted bool

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
	// unchecked: the balancer runs its own health checks and has not reported the
	// member healthy since its instance was (re)started, or reports it down. Such a
	// member does not count as serving, whatever nonstop wrote, until a wait.serving.
	unchecked bool
}

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
	m.gateways = ls.Gateways
	nb := len(svc.Balancers)
	bals := make([]balancerModel, nb)
	m.bals = make([]*balancerModel, nb)
	for i, b := range svc.Balancers {
		provider := b.Provider.String()
		bm := &bals[i]
		*bm = balancerModel{name: b.Name, provider: provider, kind: b.Provider.Kind, pool: b.Pool,
			caps: providers.CapabilitiesOf(b.Provider.Kind), prefix: provider + "/" + b.Pool + "/", weight: b.Weight}
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
					im.members[i].unchecked = bals[i].caps.ConfirmsServing && mem.Health == providers.HealthDown
					im.members[i].needsDrain = mem.Sessions != nil && *mem.Sessions > 0 && !memberRaised(im.members[i])
				}
			}
			if m.registry && !registered {
				// Not in the registry (a registration lost in an outage): what nonstop
				// knows of its health is what the pools routing to it say.
				for _, mm := range im.members {
					im.up = im.up || (mm.present && memberRaised(mm) && !mm.unchecked)
				}
				// Consumers may still list an instance that serves the pools (its
				// registration lost in an outage that also kept pushes from them):
				// the registry dropping it must reach them like a disable before it
				// is redeployed.
				im.needsProp = im.up
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

// recover applies what an interrupted apply left unproven: out-of-traffic
// instances owe their waits, tainted ones must pass their gates again.
func (m *serviceModel) recover(rec Recovery) {
	for _, im := range m.insts {
		if rec.Tainted[im.addr] {
			im.tainted, im.up = true, false
			for bi := range im.members {
				// A restart the balancer's checks may not have seen yet.
				im.members[bi].unchecked = im.members[bi].unchecked || m.bals[bi].caps.ConfirmsServing
			}
		}
		if !rec.OwesWaits {
			continue
		}
		if m.registry && im.registered && !im.enabled {
			im.needsProp = true
			im.needsInFlight = m.holdsInFlight()
		}
		for bi := range im.members {
			mm := &im.members[bi]
			if mm.present && !memberRaised(*mm) {
				mm.needsDrain = mm.needsDrain || m.bals[bi].caps.DrainsByState
				im.needsInFlight = im.needsInFlight || m.holdsInFlight()
			}
		}
	}
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
