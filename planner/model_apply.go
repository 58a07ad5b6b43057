package planner

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

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
	case GateAnalysis, Pause, GatewayPublish:
		return nil // a gateway document is placed where its versions serve (gateway_routes.go)
	case WaitDrain:
		if err := m.applyInFlight(a); err != nil {
			return err
		}
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
	case WaitServing:
		return m.applyWaitServing(a.Members)
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
				im.needsInFlight = im.needsInFlight || m.holdsInFlight()
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
		for bi := range im.members {
			// The restarted process is unknown to the balancer's checks until they pass.
			im.members[bi].unchecked = m.bals[bi].caps.ConfirmsServing
		}
	case WaitHealthy:
		im.up, im.healthy = true, true
		if m.svc.Verify == nil {
			im.tainted = false
		}
		if m.registry && !im.registered {
			// A deployed instance registers itself; nonstop enables it explicitly.
			im.registered, im.enabled, im.regWeight = true, false, configuredRegistryWeight(im)
		}
	case Verify:
		if !im.up {
			return fmt.Errorf("verifies %s before it is healthy", im.addr)
		}
		im.tainted = false
	default:
		return fmt.Errorf("unknown step kind %q", s.Kind)
	}
	return nil
}

// applyWaitServing marks the members ("provider/pool/address") confirmed by their
// balancers' own checks.
func (m *serviceModel) applyWaitServing(members []string) error {
	if len(members) == 0 {
		return fmt.Errorf("watches no member")
	}
	for _, name := range members {
		found := false
		for bi := range m.bals {
			prefix := m.bals[bi].prefix
			if !strings.HasPrefix(name, prefix) {
				continue
			}
			if im := m.byAddr(name[len(prefix):]); im != nil && im.members[bi].present {
				if !m.bals[bi].caps.ConfirmsServing {
					return fmt.Errorf("%s balancers do not report their members' health", m.bals[bi].kind)
				}
				im.members[bi].unchecked, found = false, true
			}
		}
		if !found {
			return fmt.Errorf("service %s has no member %s", m.name, name)
		}
	}
	return nil
}

// applyBalancerStep applies a step that writes to balancer bi.
func (m *serviceModel) applyBalancerStep(s *Step, bi int) error {
	a := &s.Args
	b := m.bals[bi]
	drainsByState := b.caps.DrainsByState
	setMember := func(addr string, weight *int, state providers.MemberState) error {
		im := m.byAddr(addr)
		if im == nil || !im.members[bi].present {
			return fmt.Errorf("pool %s/%s has no member %s", b.provider, b.pool, addr)
		}
		mm := &im.members[bi]
		was := memberRaised(*mm)
		if weight != nil {
			mm.weight = *weight
		}
		if state != "" {
			mm.state = state
		}
		if state == providers.StateMaint && b.caps.ConfirmsServing {
			mm.unchecked = true // checks stop in maintenance and start over when it ends
		}
		if was && !memberRaised(*mm) {
			mm.needsDrain = mm.needsDrain || drainsByState
			im.needsInFlight = im.needsInFlight || m.holdsInFlight()
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
		if !b.caps.HoldsRoutes {
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
	if im.needsInFlight {
		why = append(why, "the in-flight wait (drain.in_flight) has not run since it left traffic")
	}
	for _, mm := range im.members {
		if memberRaised(mm) {
			why = append(why, fmt.Sprintf("weight %d in %s", mm.weight, mm.name))
		}
		if mm.needsDrain {
			why = append(why, fmt.Sprintf("sessions not drained in %s", mm.name))
		}
	}
	return strings.Join(why, ", ")
}
