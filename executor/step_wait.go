package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// drainMember is one member a wait.drain watches.
type drainMember struct {
	provider, pool, address string
}

// parseMember splits "provider/pool/address"; the pool may itself contain slashes.
func parseMember(s string) (drainMember, error) {
	first := strings.Index(s, "/")
	last := strings.LastIndex(s, "/")
	if first <= 0 || last == first || last == len(s)-1 {
		return drainMember{}, fmt.Errorf("%q is not provider/pool/address", s)
	}
	return drainMember{provider: s[:first], pool: s[first+1 : last], address: s[last+1:]}, nil
}

// waitDrain waits for the requests an instance still holds now that it has left
// traffic: until none of Args.Members has sessions in flight (bounded by
// Args.Duration), and in all at least Args.InFlight (drain.in_flight), the time
// given to the paths that cannot count them: registry consumers and balancers
// that report no sessions.
func (x *execution) waitDrain(ctx context.Context, st *planner.Step) error {
	start := time.Now()
	if err := x.waitSessions(ctx, st); err != nil {
		return err
	}
	if rest := time.Duration(st.Args.InFlight) - time.Since(start); rest > 0 {
		return sleep(ctx, rest)
	}
	return nil
}

// waitSessions polls the members' pools until none of Args.Members has sessions
// in flight. A member whose balancer does not report sessions has nothing to wait
// for. When Args.Duration passes first, the wait ends with a warning:
// drain.timeout is the longest an apply waits for in-flight requests, not a
// failure condition.
func (x *execution) waitSessions(ctx context.Context, st *planner.Step) error {
	if len(st.Args.Members) == 0 {
		return nil
	}
	byPool := map[[2]string][]string{}
	for _, m := range st.Args.Members {
		dm, err := parseMember(m)
		if err != nil {
			return err
		}
		k := [2]string{dm.provider, dm.pool}
		byPool[k] = append(byPool[k], dm.address)
	}
	pools := make([][2]string, 0, len(byPool))
	for k := range byPool {
		pools = append(pools, k)
	}
	sort.Slice(pools, func(i, j int) bool { return pools[i][0]+"/"+pools[i][1] < pools[j][0]+"/"+pools[j][1] })

	deadline := time.Now().Add(time.Duration(st.Args.Duration))
	for {
		busy, err := x.busyMembers(ctx, pools, byPool)
		if err != nil {
			return err
		}
		if len(busy) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			msg := fmt.Sprintf("%s: drain bound %s reached with sessions still open on %s; going on",
				describe(st), time.Duration(st.Args.Duration), strings.Join(busy, ", "))
			x.warn(st, msg)
			return x.closeLongLived(ctx, st)
		}
		wait := min(x.pollInterval(), time.Until(deadline))
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// busyMembers lists the watched members that still report sessions, one Pool call
// per pool.
func (x *execution) busyMembers(ctx context.Context, pools [][2]string, byPool map[[2]string][]string) ([]string, error) {
	var busy []string
	for _, k := range pools {
		b, err := x.balancer(k[0])
		if err != nil {
			return nil, err
		}
		members, err := b.Pool(ctx, k[1])
		x.sawPool(k[0], k[1], members, err)
		if err != nil {
			return nil, fmt.Errorf("reading pool %s: %w", k[1], err)
		}
		for _, addr := range byPool[k] {
			for _, m := range members {
				if m.Address == addr && m.Sessions != nil && *m.Sessions > 0 {
					busy = append(busy, fmt.Sprintf("%s/%s/%s (%d)", k[0], k[1], addr, *m.Sessions))
				}
			}
		}
	}
	return busy, nil
}

// pause runs a pause step: a fixed hold, or a hold until `nonstop resume` names the
// step.
func (x *execution) pause(ctx context.Context, st *planner.Step) error {
	if !st.Args.UntilResumed {
		return sleep(ctx, time.Duration(st.Args.Duration))
	}
	return x.waitResume(ctx, st, "paused until `nonstop resume "+st.ID+"`")
}

// waitResume blocks until the step id is resumed.
func (x *execution) waitResume(ctx context.Context, st *planner.Step, why string) error {
	if x.r.Resume == nil {
		return fmt.Errorf("%s, but this apply cannot be resumed (no resume channel)", why)
	}
	x.em.emit(Event{Type: EventStepWaiting, Step: st, Service: st.Service, Message: describe(st) + ": " + why})
	return x.resume.wait(ctx, st.ID)
}

// closeLongLived closes the sessions still open on the drained members of
// long-lived pools (Args.Close) once the drain bound has passed, so that their
// clients reconnect to serving members instead of being cut by the deploy.
func (x *execution) closeLongLived(ctx context.Context, st *planner.Step) error {
	for _, name := range st.Args.Close {
		dm, err := parseMember(name)
		if err != nil {
			return err
		}
		b, err := x.balancer(dm.provider)
		if err != nil {
			return err
		}
		closer, ok := b.(providers.SessionCloser)
		if !ok {
			return fmt.Errorf("%s cannot close the sessions of %s (its kind has no way to)", dm.provider, name)
		}
		n, err := closer.CloseSessions(ctx, dm.pool, dm.address)
		if err != nil {
			return fmt.Errorf("closing the sessions left on %s: %w", name, err)
		}
		if n > 0 {
			msg := fmt.Sprintf("%s: closed %d long-lived session(s) left on %s; their clients reconnect to serving members", describe(st), n, name)
			x.log.Info(msg)
			x.em.emit(Event{Type: EventStepProgress, Step: st, Service: st.Service, Message: msg})
		}
	}
	return nil
}
