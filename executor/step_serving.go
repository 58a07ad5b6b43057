package executor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// servingPoll is how often wait.serving and a raise's confirmation read the pools:
// one cheap list call per pool, and HAProxy checks every second or so.
const servingPoll = 200 * time.Millisecond

// defaultServingBound bounds the confirmation of a raise when the plan gives none.
const defaultServingBound = 60 * time.Second

// waitServing runs wait.serving: it reads the members' pools until every balancer
// reports its member healthy by its own checks (Member.Confirmed), bounded by
// Args.Duration. The error names each member still unconfirmed with the state and
// health its balancer last reported.
func (x *execution) waitServing(ctx context.Context, st *planner.Step) error {
	byPool, err := membersByPool(st.Args.Members)
	if err != nil {
		return err
	}
	bound := time.Duration(st.Args.Duration)
	if bound <= 0 {
		bound = defaultServingBound
	}
	return x.confirmMembers(ctx, byPool, bound, func(m providers.Member) bool { return m.Confirmed() })
}

// confirmMembers polls the pools until ok holds for every listed member, or bound
// passes.
func (x *execution) confirmMembers(ctx context.Context, byPool map[[2]string][]string, bound time.Duration, ok func(providers.Member) bool) error {
	deadline := time.Now().Add(bound)
	pools := make([][2]string, 0, len(byPool))
	for k := range byPool {
		pools = append(pools, k)
	}
	slices.SortFunc(pools, func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	for {
		var waiting []string
		for _, k := range pools {
			b, err := x.balancer(k[0])
			if err != nil {
				return err
			}
			members, err := b.Pool(ctx, k[1])
			x.sawPool(k[0], k[1], members, err)
			if err != nil {
				return fmt.Errorf("reading pool %s: %w", k[1], err)
			}
			for _, addr := range byPool[k] {
				m, found := memberAt(members, addr)
				switch {
				case !found:
					return fmt.Errorf("%s/%s has no member %s", k[0], k[1], addr)
				case !ok(m):
					waiting = append(waiting, fmt.Sprintf("%s/%s/%s (%s)", k[0], k[1], addr, memberText(m)))
				}
			}
		}
		if len(waiting) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("the balancer does not report %s serving within %s", strings.Join(waiting, ", "), bound)
		}
		if err := sleep(ctx, min(servingPoll, time.Until(deadline))); err != nil {
			return err
		}
	}
}

// confirmRaised waits, after a write to a balancer that runs its own health checks,
// until every member the write put in traffic (weight above zero and ready, read
// back) is serving as the balancer sees it. A step that raises a member thus ends
// only once the balancer routes to it, whatever the plan's wait.serving steps did.
func (x *execution) confirmRaised(ctx context.Context, b providers.Balancer, provider, pool string, addrs []string, bound time.Duration) error {
	if !providers.CapabilitiesOf(b.Kind()).ConfirmsServing || len(addrs) == 0 {
		return nil
	}
	k := [2]string{provider, pool}
	return x.confirmMembers(ctx, map[[2]string][]string{k: addrs}, bound, func(m providers.Member) bool {
		return !raisedByAdmin(m) || m.Serving()
	})
}

// raisedByAdmin reports whether a member is in traffic by its weight and state.
func raisedByAdmin(m providers.Member) bool {
	return m.Weight > 0 && (m.State == providers.StateReady || m.State == "")
}

// servingBound is how long a raise may wait for the balancer: the service's health
// timeout, else 60s.
func (x *execution) servingBound(service string) time.Duration {
	if svc, err := x.service(service); err == nil && svc.Health != nil && svc.Health.Timeout > 0 {
		return svc.Health.Timeout
	}
	return defaultServingBound
}

// membersByPool groups "provider/pool/address" names by provider and pool.
func membersByPool(names []string) (map[[2]string][]string, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("wait.serving lists no member")
	}
	byPool := map[[2]string][]string{}
	for _, name := range names {
		dm, err := parseMember(name)
		if err != nil {
			return nil, err
		}
		k := [2]string{dm.provider, dm.pool}
		byPool[k] = append(byPool[k], dm.address)
	}
	return byPool, nil
}

// memberAt finds the member with an address.
func memberAt(members []providers.Member, addr string) (providers.Member, bool) {
	for _, m := range members {
		if m.Address == addr {
			return m, true
		}
	}
	return providers.Member{}, false
}

// memberText describes what a balancer reports of a member: "state ready, weight
// 1, health down: DOWN 1/2 L7STS".
func memberText(m providers.Member) string {
	state := m.State
	if state == "" {
		state = providers.StateReady
	}
	s := fmt.Sprintf("state %s, weight %d", state, m.Weight)
	if m.Health != providers.HealthUnknown {
		s += ", health " + string(m.Health)
	}
	if m.HealthDetail != "" {
		s += ": " + m.HealthDetail
	}
	return s
}
