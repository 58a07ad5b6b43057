package executor

import (
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// On-failure policies.
const (
	PolicyRollback = "rollback"
	PolicyPause    = "pause"
)

// defaultDrainTimeout is drain.timeout's documented default.
const defaultDrainTimeout = 5 * time.Minute

// rbStep is one rollback step; guarded drains first check that another member
// still serves, so a rollback never empties a pool.
type rbStep struct {
	step  planner.Step
	guard bool
}

// rbUnit is a sequence of rollback steps: the traffic restore of the instances
// still at the old version (address ""), or the redeploy of one touched instance.
type rbUnit struct {
	address string
	steps   []rbStep
}

// rollbackPlan derives the inverse steps from what completed. With the pause policy
// only the first unit (traffic back on never-deployed instances) is returned. The
// second result lists touched instances that cannot be brought back, with why.
// The caller holds x.mu.
func (x *execution) rollbackPlan(sr *serviceRun, svc *lang.Service, policy string) ([]rbUnit, []string) {
	touched := map[string]bool{}
	for _, a := range sr.touched {
		touched[a] = true
	}
	var restore []write
	for _, k := range sr.keys {
		o := sr.origin[k]
		if (o.address != "" && touched[o.address]) || (o.class() == classRoute && policy == PolicyPause) {
			continue
		}
		if o.undo.Kind == sr.latest[k].did.Kind && reflect.DeepEqual(o.undo.Args, sr.latest[k].did.Args) {
			continue // already back where it started
		}
		restore = append(restore, o)
	}
	sort.SliceStable(restore, func(i, j int) bool { return restore[i].class() < restore[j].class() })
	var units []rbUnit
	if len(restore) > 0 {
		u := rbUnit{}
		for _, w := range restore {
			u.steps = append(u.steps, rbStep{step: w.undo})
		}
		units = append(units, u)
	}
	if policy == PolicyPause {
		return x.numberRollback(sr.name, units), nil
	}

	// Touched instances out of traffic first: they cost no capacity to redeploy.
	order := append([]string(nil), sr.touched...)
	sort.SliceStable(order, func(i, j int) bool { return !sr.servingNow(order[i]) && sr.servingNow(order[j]) })
	var lost []string
	prop, drainBound := x.rollbackWaits(svc)
	for _, addr := range order {
		dep := sr.touchedBy[addr]
		if dep.Args.FromVersion == "" {
			lost = append(lost, addr+" (its previous version is unknown)")
			continue
		}
		units = append(units, sr.redeployUnit(dep, prop, drainBound))
	}
	return x.numberRollback(sr.name, units), lost
}

// redeployUnit drains a touched instance where it still serves, redeploys its
// previous version, waits for it to be healthy and restores its original values.
func (sr *serviceRun) redeployUnit(dep planner.Step, prop, drainBound time.Duration) rbUnit {
	addr := dep.Args.Address
	u := rbUnit{address: addr}
	var keys []string
	for _, k := range sr.keys {
		if sr.origin[k].address == addr {
			keys = append(keys, k)
		}
	}
	sort.SliceStable(keys, func(i, j int) bool { return sr.origin[keys[i]].class() < sr.origin[keys[j]].class() })
	var members []string
	regDrained := false
	for _, k := range keys {
		last := sr.latest[k].did
		if isTraffic, serving := traffic(last); isTraffic && serving {
			u.steps = append(u.steps, rbStep{step: drained(last), guard: true})
			if sr.origin[k].class() == classBalancer {
				members = append(members, last.Args.Provider+"/"+last.Args.Pool+"/"+addr)
			} else {
				regDrained = true
			}
		}
	}
	base := planner.Step{Service: dep.Service, Target: dep.Target}
	if regDrained && prop > 0 {
		st := base
		st.Kind, st.Args = planner.WaitPropagation, planner.StepArgs{Duration: planner.Duration(prop)}
		u.steps = append(u.steps, rbStep{step: st})
	}
	if len(members) > 0 {
		st := base
		st.Kind, st.Args = planner.WaitDrain, planner.StepArgs{Members: members, Duration: planner.Duration(drainBound)}
		u.steps = append(u.steps, rbStep{step: st})
	}
	for _, kind := range []planner.StepKind{planner.Deploy, planner.WaitHealthy} {
		st := base
		st.Kind = kind
		st.Args = planner.StepArgs{Address: addr, Group: dep.Args.Group, Version: dep.Args.FromVersion}
		if kind == planner.Deploy {
			st.Args.FromVersion = dep.Args.Version
		}
		u.steps = append(u.steps, rbStep{step: st})
	}
	// Back in traffic in the planner's order: registry first, then balancers.
	for i := len(keys) - 1; i >= 0; i-- {
		u.steps = append(u.steps, rbStep{step: sr.origin[keys[i]].undo})
	}
	return u
}

// drained returns the step that takes an object out of traffic.
func drained(st planner.Step) planner.Step {
	return withArgs(&st, func(a *planner.StepArgs) {
		switch st.Kind {
		case planner.BalancerSetWeight:
			zero := 0
			a.Weight = &zero
		case planner.BalancerSetState:
			a.State = providers.StateDrain
		case planner.RegistrySetEnabled:
			off := false
			a.Enabled = &off
		}
	})
}

// rollbackWaits returns the propagation wait and drain bound a rollback uses: the
// longest the plan used for the service, else the service's drain block.
func (x *execution) rollbackWaits(svc *lang.Service) (prop, drainBound time.Duration) {
	for _, st := range x.plan.Steps {
		if svc == nil || st.Service != svc.Name {
			continue
		}
		switch st.Kind {
		case planner.WaitPropagation:
			prop = max(prop, time.Duration(st.Args.Duration))
		case planner.WaitDrain:
			drainBound = max(drainBound, time.Duration(st.Args.Duration))
		}
	}
	if svc != nil && prop == 0 && svc.Drain.Propagation != nil {
		prop = *svc.Drain.Propagation
	}
	if drainBound == 0 && svc != nil {
		drainBound = svc.Drain.Timeout
	}
	if drainBound == 0 {
		drainBound = defaultDrainTimeout
	}
	return prop, drainBound
}

// numberRollback gives rollback steps stable ids: "order-service.rollback.3".
func (x *execution) numberRollback(service string, units []rbUnit) []rbUnit {
	n := 0
	for _, u := range units {
		for i := range u.steps {
			n++
			u.steps[i].step.ID = service + ".rollback." + strconv.Itoa(n)
			u.steps[i].step.Service = service
			u.steps[i].step.After = nil
		}
	}
	return units
}
