package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// handleFailure runs a failed service's on_failure policy once nothing of the
// service runs any more.
func (x *execution) handleFailure(ctx context.Context, sr *serviceRun) {
	if ctx.Err() != nil {
		return
	}
	policy := PolicyRollback
	svc, err := x.service(sr.name)
	if err == nil && svc.OnFailure == PolicyPause {
		policy = PolicyPause
	}
	x.mu.Lock()
	sr.policy = policy
	units, lost := x.rollbackPlan(sr, svc, policy)
	sr.notRestored = append(sr.notRestored, lost...)
	x.mu.Unlock()

	start := x.now()
	startMsg := fmt.Sprintf("%s: %s failed; rolling back", sr.name, sr.failedStep)
	if policy == PolicyPause {
		startMsg = fmt.Sprintf("%s: %s failed; pausing with traffic on healthy instances", sr.name, sr.failedStep)
	}
	x.em.emit(Event{Level: LevelWarn, Type: EventRollbackStart, Service: sr.name, Message: startMsg})

	err = x.runRollback(ctx, sr, svc, units)
	elapsed := x.now().Sub(start)
	// What each path shows now, read back: the report says what is, not what
	// nonstop last wrote.
	var views map[string]*InstanceView
	if svc != nil {
		views = x.readBack(ctx, svc)
	}
	x.mu.Lock()
	sr.rollbackErr = err
	sr.views = views
	out := sr.outOfTraffic()
	x.mu.Unlock()
	switch {
	case err != nil:
		x.em.emit(Event{Level: LevelError, Type: EventRollbackErrored, Service: sr.name, Elapsed: elapsed,
			Message: sr.name + ": rollback failed", Error: err.Error()})
	case policy == PolicyPause:
		msg := sr.name + ": paused"
		if len(out) > 0 {
			msg += "; out of traffic on every path (read back): " + strings.Join(out, ", ")
		}
		if views != nil {
			msg += "; live:" + describeViews(views, sr.touched)
		}
		x.em.emit(Event{Level: LevelWarn, Type: EventServicePaused, Service: sr.name, Elapsed: elapsed, Message: msg})
	default:
		x.em.emit(Event{Level: LevelWarn, Type: EventRollbackComplete, Service: sr.name, Elapsed: elapsed,
			Message: sr.name + ": rolled back"})
	}
}

// runRollback runs the units in order. A unit stops at its first failed step
// (its later steps depend on it), and that unit's instance is reported as not
// restored, but the other units still run: a rollback skips nothing it can still
// do. Their own guards (othersServing) keep every drain safe. A lost journal or
// lock stops everything. A redeploy unit's steps are built from the live state
// just before it runs. Consecutive redeploys of instances that are out of traffic
// on every path lower nothing, so they run together; a unit that takes an
// instance out of traffic runs alone, once those before it are done, with its
// steps built and replayed then. The error joins every unit's failure.
func (x *execution) runRollback(ctx context.Context, sr *serviceRun, svc *lang.Service, units []rbUnit) error {
	prop, drainBound := x.rollbackWaits(svc)
	n := 0
	var (
		errsMu sync.Mutex
		errs   []error
	)
	// fail records a unit's failure and reports whether the rollback must stop.
	fail := func(u rbUnit, err error) bool {
		errsMu.Lock()
		errs = append(errs, err)
		errsMu.Unlock()
		x.mu.Lock()
		sr.notRestored = append(sr.notRestored, fmt.Sprintf("%s (%v)", unitName(u), err))
		x.mu.Unlock()
		return aborts(err) || ctx.Err() != nil
	}
	build := func(u *rbUnit) error {
		if u.dep == nil {
			return nil
		}
		steps, err := x.liveRedeploySteps(ctx, sr, *u.dep, prop, drainBound)
		if err != nil {
			return fmt.Errorf("reading the live state of %s: %w", u.address, err)
		}
		u.steps = steps
		return nil
	}
	finish := func(u *rbUnit) error {
		numberRollback(sr.name, u.steps, &n)
		if err := x.checkUnitSafety(ctx, svc, u.steps); err != nil {
			x.em.emit(Event{Level: LevelWarn, Type: EventStepProgress, Service: sr.name,
				Message: fmt.Sprintf("%s: rollback of %s skipped: %v", sr.name, unitName(*u), err)})
			return err
		}
		return nil
	}
	for i := 0; i < len(units); {
		u := units[i]
		i++
		err := build(&u)
		if err == nil && (u.dep == nil || lowers(u.steps)) {
			if err = finish(&u); err == nil {
				err = x.runUnit(ctx, sr, u)
			}
		}
		if err != nil {
			if fail(u, err) {
				return errors.Join(errs...)
			}
			continue
		}
		if u.dep == nil || lowers(u.steps) {
			continue
		}
		// u lowers nothing: gather the redeploys after it that lower nothing either.
		batch := []rbUnit{u}
		for i < len(units) && units[i].dep != nil {
			v := units[i]
			if err := build(&v); err != nil {
				i++
				if fail(v, err) {
					return errors.Join(errs...)
				}
				continue
			}
			if lowers(v.steps) {
				break // built again once the batch is back in traffic
			}
			i++
			batch = append(batch, v)
		}
		var ready []rbUnit
		for _, b := range batch {
			if err := finish(&b); err != nil {
				if fail(b, err) {
					return errors.Join(errs...)
				}
				continue
			}
			ready = append(ready, b)
		}
		stop := false
		var wg sync.WaitGroup
		var stopMu sync.Mutex
		for _, b := range ready {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := x.runUnit(ctx, sr, b); err != nil && fail(b, err) {
					stopMu.Lock()
					stop = true
					stopMu.Unlock()
				}
			}()
		}
		wg.Wait()
		if stop {
			return errors.Join(errs...)
		}
	}
	return errors.Join(errs...)
}

// lowers reports whether a unit takes anything out of traffic (its guarded
// drains).
func lowers(steps []rbStep) bool {
	for _, s := range steps {
		if s.guard {
			return true
		}
	}
	return false
}

// unitName says what a unit restores.
func unitName(u rbUnit) string {
	switch {
	case u.address != "":
		return u.address
	case u.routes:
		return "the routes as they were"
	}
	return "traffic back on the instances at the old version"
}

// runUnit runs one unit's steps in order. Consecutive balancer writes to the same
// provider run inside one Batch when the provider batches.
func (x *execution) runUnit(ctx context.Context, sr *serviceRun, u rbUnit) error {
	for i := 0; i < len(u.steps); {
		s := u.steps[i]
		if s.guard {
			if err := x.othersServing(ctx, &s.step); err != nil {
				return err
			}
		}
		j := i + 1
		if isBalancerWrite(s.step) && !s.guard {
			for j < len(u.steps) && isBalancerWrite(u.steps[j].step) && !u.steps[j].guard &&
				u.steps[j].step.Args.Provider == s.step.Args.Provider {
				j++
			}
		}
		group := u.steps[i:j]
		run := func() error {
			for k := range group {
				if err := x.runOne(ctx, &group[k].step, sr, true); err != nil {
					return err
				}
			}
			return nil
		}
		var err error
		if len(group) > 1 {
			b, berr := x.balancer(s.step.Args.Provider)
			if berr != nil {
				return berr
			}
			err = inBatch(ctx, b, run)
		} else {
			err = run()
		}
		if err != nil {
			return err
		}
		i = j
	}
	return nil
}

func isBalancerWrite(st planner.Step) bool {
	return st.Kind == planner.BalancerSetWeight || st.Kind == planner.BalancerSetState
}

// othersServing refuses to take an instance out of traffic when no other member of
// the pool (or instance of the service) serves.
func (x *execution) othersServing(ctx context.Context, st *planner.Step) error {
	addr := st.Args.Address
	if isBalancerWrite(*st) {
		b, err := x.balancer(st.Args.Provider)
		if err != nil {
			return err
		}
		members, err := b.Pool(ctx, st.Args.Pool)
		if err != nil {
			return fmt.Errorf("reading pool %s: %w", st.Args.Pool, err)
		}
		for _, m := range members {
			if m.Address != addr && m.Serving() { // as the balancer itself sees it
				return nil
			}
		}
		return fmt.Errorf("rollback stopped: draining %s would leave pool %s with no serving member", addr, st.Args.Pool)
	}
	r, key, err := x.registryOf(st)
	if err != nil {
		return err
	}
	list, err := r.Instances(ctx, key)
	if err != nil {
		return fmt.Errorf("listing instances of %s: %w", key.Service, err)
	}
	for _, in := range list {
		if in.Address != addr && in.Enabled && in.Healthy {
			return nil
		}
	}
	return fmt.Errorf("rollback stopped: disabling %s would leave %s with no enabled, healthy instance", addr, key.Service)
}
