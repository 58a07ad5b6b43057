package executor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// A propagation wait proves itself. It is the time the registry needs to push a
// change to its consumers and they need to refresh their lists, which holds only
// while the registry can push: a registry that stops answering during the wait
// (a long GC pause, a hung disk, a partition) has told nobody, and deploying
// then sends consumers that still hold the instance to a stopped process. So
// while it waits, a wait.propagation of a service with a registry checks that the
// registry answers (one listing call per registry at a time, at most every probe
// interval per wait, shared by every wait on it), and when the registry was
// silent for more than two probe intervals the window starts again from its
// first answer after. A registry that stays silent longer than
// the outage bound fails the step: rollback then keeps the instance out of
// traffic where it is.

const (
	// propagationProbeTimeout bounds one liveness probe of the registry: longer
	// than a healthy listing call ever takes, shorter than a consumer's refresh.
	propagationProbeTimeout = 2 * time.Second
)

// minPropagationOutageBound is the shortest outage a propagation wait rides out
// before it fails; waits longer than it ride out outages as long as themselves.
// (A variable so that tests can shorten it.)
var minPropagationOutageBound = 30 * time.Second

// registryPulse tells whether a registry answers, probing it at most once at a
// time however many waits ask.
type registryPulse struct {
	mu       sync.Mutex
	probing  chan struct{} // closed when the probe in flight ends; nil when none
	at       time.Time     // when the last probe ended
	answered bool          // whether it was answered within propagationProbeTimeout
	err      error
}

// pulses holds one registryPulse per registry provider of an execution.
type pulses struct {
	mu sync.Mutex
	by map[string]*registryPulse
}

func (p *pulses) of(provider string) *registryPulse {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.by == nil {
		p.by = map[string]*registryPulse{}
	}
	if p.by[provider] == nil {
		p.by[provider] = &registryPulse{}
	}
	return p.by[provider]
}

// check returns the verdict of a probe that ended at notBefore or later, probing
// (once, for every caller) when there is none; at is when that probe ended.
func (rp *registryPulse) check(ctx context.Context, r providers.Registry, key providers.ServiceKey, notBefore time.Time) (at time.Time, answered bool, err error) {
	for {
		rp.mu.Lock()
		if rp.probing == nil && !rp.at.IsZero() && !rp.at.Before(notBefore) {
			at, answered, err = rp.at, rp.answered, rp.err
			rp.mu.Unlock()
			return at, answered, err
		}
		if wait := rp.probing; wait != nil {
			rp.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return time.Time{}, false, ctx.Err()
			}
		}
		done := make(chan struct{})
		rp.probing = done
		rp.mu.Unlock()

		pctx, cancel := context.WithTimeout(ctx, propagationProbeTimeout)
		_, err = r.Instances(pctx, key)
		cancel()
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		at = time.Now()
		rp.mu.Lock()
		rp.at, rp.answered, rp.err, rp.probing = at, err == nil, err, nil
		close(done)
		rp.mu.Unlock()
		return at, err == nil, err
	}
}

// waitPropagation waits until the registry has answered throughout Args.Duration:
// answers no further apart than twice the probe interval, from one that follows
// the write to one after the window's end. A gap restarts the window at the
// answer that ends it. A service without a registry (or a wait of nothing)
// simply sleeps.
func (x *execution) waitPropagation(ctx context.Context, st *planner.Step) error {
	d := time.Duration(st.Args.Duration)
	r, key, err := x.registryOf(st)
	if err != nil || d <= 0 {
		return sleep(ctx, d)
	}
	every := min(time.Second, max(d/4, 50*time.Millisecond))
	maxGap := 2 * every
	bound := max(d, minPropagationOutageBound)
	pulse := x.pulses.of(registryName(x, st))
	start := time.Now()
	last := start // the write before this wait was answered
	warned := false
	for {
		need := time.Now().Add(-every / 2)
		if end := start.Add(d); time.Now().After(end) && need.Before(end) {
			need = end // the window's end is proven by an answer after it
		}
		at, answered, perr := pulse.check(ctx, r, key, need)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case !answered:
			if silent := time.Since(last); silent > bound {
				return fmt.Errorf("the registry did not answer for %s during the propagation wait (bound %s): consumers may still list the instance; last error: %v",
					silent.Round(time.Second), bound, perr)
			}
			if !warned {
				warned = true
				x.warn(st, fmt.Sprintf("%s: the registry does not answer (%v); the %s propagation wait counts only time the registry could push",
					describe(st), perr, d))
			}
		case at.Sub(last) > maxGap:
			x.warn(st, fmt.Sprintf("%s: the registry answers again after %s of silence; the %s propagation wait starts again",
				describe(st), at.Sub(last).Round(100*time.Millisecond), d))
			start, last, warned = at, at, false
		default:
			if at.After(last) {
				last = at
			}
			if at.Sub(start) >= d {
				back, err := x.enabledAgain(ctx, r, key, st)
				if err != nil {
					return err
				}
				if len(back) == 0 {
					return nil
				}
				x.warn(st, fmt.Sprintf("%s: %v enabled again in the registry during the propagation wait (the "+
					"registry applied the application's registration whole, as Polaris does when a client "+
					"re-registers after an outage); nonstop disabled it again and the %s propagation wait starts again",
					describe(st), back, d))
				start, last, warned = time.Now(), time.Now(), false
			}
		}
		next := every
		if answered {
			next = min(next, max(start.Add(d).Sub(time.Now()), 0))
		}
		if err := sleep(ctx, next); err != nil {
			return err
		}
	}
}

// enabledAgain finds the instances a propagation wait is for (its address, or
// every instance of its group; a wait for neither is for none) that the registry lists enabled again, and
// disables them again. A propagation wait follows a disable: an instance
// enabled again has been in consumers' lists during the wait, so the wait must
// start again. (After a 15 s registry outage, an instance's old process
// re-registered itself enabled while nonstop waited, and the deploy that
// followed sent registry consumers to a stopped process.)
func (x *execution) enabledAgain(ctx context.Context, r providers.Registry, key providers.ServiceKey, st *planner.Step) ([]string, error) {
	want := map[string]bool{}
	if st.Args.Address != "" {
		want[st.Args.Address] = true
	} else if svc, err := x.service(st.Service); err == nil && st.Args.Group != "" {
		for _, g := range svc.Groups {
			if g.Name == st.Args.Group {
				for _, a := range g.Instances {
					want[a.String()] = true
				}
			}
		}
	}
	if len(want) == 0 {
		return nil, nil
	}
	list, err := r.Instances(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("checking that the instances stay disabled after the propagation wait: %w", err)
	}
	var back []string
	for _, in := range list {
		if !want[in.Address] || !in.Enabled {
			continue
		}
		if err := r.SetInstanceEnabled(ctx, instanceKey(key, in), false); err != nil {
			return nil, fmt.Errorf("%s was enabled again in the registry during the propagation wait; disabling it again: %w", in.Address, err)
		}
		back = append(back, in.Address)
	}
	return back, nil
}

// registryName identifies the registry a step's service uses, for sharing probes.
func registryName(x *execution, st *planner.Step) string {
	svc, err := x.service(st.Service)
	if err != nil || svc.Registry == nil {
		return ""
	}
	return svc.Registry.Provider.String()
}
