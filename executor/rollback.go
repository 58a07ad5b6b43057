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
// A redeploy unit's steps are built just before it runs, from the live state of the
// instance (see liveRedeploySteps); until then only dep is set.
type rbUnit struct {
	address string
	steps   []rbStep
	dep     *planner.Step // the forward deploy of a touched instance
	routes  bool          // the unit puts routes (and gateway documents) back
}

// rollbackPlan derives the inverse steps from what completed. With the pause policy
// only the first unit (traffic back on never-deployed instances) is returned. The
// second result lists touched instances that cannot be brought back, with why.
// The caller holds x.mu.
func (x *execution) rollbackPlan(sr *serviceRun, svc *lang.Service, policy string) (units []rbUnit, lost []string) {
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
	raisesFirst(restore)
	// Routes (and gateway documents) go back last, once the instances they name
	// are redeployed and serve: a balancer that waits for a route's members to
	// pass its checks (HAProxy) would otherwise wait out its bound on members the
	// rollback has not brought back yet.
	var members, routes []write
	for _, w := range restore {
		if w.class() == classRoute {
			routes = append(routes, w)
		} else {
			members = append(members, w)
		}
	}
	unitOf := func(ws []write) rbUnit {
		u := rbUnit{}
		for _, w := range ws {
			isTraffic, serving := traffic(w.undo)
			u.steps = append(u.steps, rbStep{step: w.undo, guard: isTraffic && !serving})
		}
		return u
	}
	if len(members) > 0 {
		units = append(units, unitOf(members))
	}
	if policy == PolicyPause {
		return units, nil
	}
	defer func() {
		if len(routes) > 0 {
			u := unitOf(routes)
			u.routes = true
			units = append(units, u)
		}
	}()

	// Touched instances out of traffic first: they cost no capacity to redeploy. The
	// order follows what nonstop last wrote; whether an instance takes traffic live
	// is read again when its unit runs (liveRedeploySteps).
	order := append([]string(nil), sr.touched...)
	sort.SliceStable(order, func(i, j int) bool { return !sr.servingNow(order[i]) && sr.servingNow(order[j]) })
	for _, addr := range order {
		dep := sr.touchedBy[addr]
		if dep.Args.FromVersion == "" {
			lost = append(lost, addr+" (its previous version is unknown)")
			continue
		}
		units = append(units, rbUnit{address: addr, dep: &dep})
	}
	return units, lost
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

// numberRollback gives a unit's steps stable ids, counting on from *n across the
// units of one rollback: "order-service.rollback.3".
func numberRollback(service string, steps []rbStep, n *int) {
	for i := range steps {
		*n++
		steps[i].step.ID = service + ".rollback." + strconv.Itoa(*n)
		steps[i].step.Service = service
		steps[i].step.After = nil
	}
}
