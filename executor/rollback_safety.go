package executor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// A rollback is a plan, not a script: each unit's steps are chained into a plan
// and replayed by planner.CheckSafety on the live state read just before the
// unit runs, exactly as every forward plan is replayed when it is made. A unit
// the replay refuses (it would leave a pool with fewer serving members than
// min_available, deploy an instance that still takes traffic, or take the last
// member of a route's version away) does not run; its instance is reported as not
// restored with the replay's words, and the other units still run. The runtime
// guards (othersServing) stay as a second check of the state as it is at the
// moment of each drain.

// errUnsafeRollback marks a unit the safety replay refused.
var errUnsafeRollback = errors.New("the rollback step would be unsafe")

// unitPlan chains a unit's steps into a plan: each waits for the one before it,
// as runUnit runs them.
func unitPlan(steps []rbStep) *planner.Plan {
	p := &planner.Plan{Steps: make([]planner.Step, len(steps))}
	for i, s := range steps {
		p.Steps[i] = s.step
		if i > 0 {
			p.Steps[i].After = []string{steps[i-1].step.ID}
		}
	}
	return p
}

// checkUnitSafety replays a numbered unit on the service's live state. It returns
// nil when the unit is safe, when there is nothing to replay it against (no
// configuration: an executor driven without one), or when the unit only puts
// members back into traffic and deploys nothing (it cannot lower capacity). A
// unit that lowers or deploys is refused when the live state cannot be read.
func (x *execution) checkUnitSafety(ctx context.Context, svc *lang.Service, steps []rbStep) error {
	cfg := x.r.Config
	if cfg == nil || svc == nil || cfg.Services[svc.Name] == nil || onlyRaises(steps) {
		return nil // nothing to replay against, or nothing that can lower capacity
	}
	live, ds := planner.Refresh(ctx, cfg, planner.Providers(x.r.Providers), planner.RefreshOptions{Targets: []string{svc.Name}})
	if ds.HasErrors() {
		return fmt.Errorf("%w: reading the live state to replay it: %v", errUnsafeRollback, ds.Err())
	}
	if ds := planner.CheckSafety(cfg, live, unitPlan(steps)); ds.HasErrors() {
		var why []string
		for _, d := range ds {
			why = append(why, d.Detail)
		}
		return fmt.Errorf("%w: %s", errUnsafeRollback, strings.Join(why, " "))
	}
	return nil
}

// onlyRaises reports whether every traffic write of the unit puts its object back
// into traffic and the unit deploys nothing.
func onlyRaises(steps []rbStep) bool {
	for _, s := range steps {
		if s.step.Kind == planner.Deploy {
			return false
		}
		if isTraffic, serving := traffic(s.step); isTraffic && !serving {
			return false
		}
	}
	return true
}

// raisesFirst orders restores so that every write putting an object back into
// traffic comes before any write taking one out: a rollback never lowers a member
// before the member it gives the traffic back to serves. Within each half the
// class order (balancers, registry, routes) holds.
func raisesFirst(ws []write) {
	lowers := func(w write) bool {
		isTraffic, serving := traffic(w.undo)
		return isTraffic && !serving
	}
	sort.SliceStable(ws, func(i, j int) bool {
		li, lj := lowers(ws[i]), lowers(ws[j])
		if li != lj {
			return !li
		}
		return ws[i].class() < ws[j].class()
	})
}
