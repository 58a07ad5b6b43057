package executor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// checkingKind is a test-only balancer kind with its own health checks: adding a
// kind is one registration, and the executor asks the kind, not its name.
const checkingKind = "checkinglb"

func init() {
	providers.Register(providers.Factory{Kind: checkingKind, Caps: providers.Capabilities{ConfirmsServing: true, DrainsByState: true},
		New: func(providers.Settings) (providers.Provider, error) { return nil, nil }})
}

// checkingLB wraps the fake balancer with health checks like HAProxy's: a member
// is down until its checks pass, which happens at upAt[address] (never when zero).
// It records the fewest members serving as the balancer sees them after any write.
type checkingLB struct {
	lb   *fakeLB
	pool string

	mu         sync.Mutex
	upAt       map[string]time.Time
	minServing int
}

func (b *checkingLB) Kind() string { return checkingKind }
func (b *checkingLB) Name() string { return "lb" }

func (b *checkingLB) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	ms, err := b.lb.Pool(ctx, pool)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range ms {
		at, ok := b.upAt[ms[i].Address]
		if ok && (at.IsZero() || time.Now().Before(at)) {
			ms[i].Health, ms[i].HealthDetail = providers.HealthDown, "DOWN 0/2"
		} else {
			ms[i].Health, ms[i].HealthDetail = providers.HealthUp, "UP"
		}
	}
	return ms, err
}

func (b *checkingLB) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	defer b.observe(ctx)
	return b.lb.SetMemberWeight(ctx, pool, address, weight)
}

func (b *checkingLB) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	defer b.observe(ctx)
	return b.lb.SetMemberState(ctx, pool, address, state)
}

func (b *checkingLB) observe(ctx context.Context) {
	ms, _ := b.Pool(ctx, b.pool)
	n := 0
	for _, m := range ms {
		if m.Serving() {
			n++
		}
	}
	b.mu.Lock()
	b.minServing = min(b.minServing, n)
	b.mu.Unlock()
}

// TestSwitchWaitsForChecks switches to a group whose checks pass only 300ms after
// the switch starts: the old group keeps serving until the balancer confirms the
// new one, so the pool never lacks a member the balancer routes to.
func TestSwitchWaitsForChecks(t *testing.T) {
	rl := newRelease(t, releaseOptions{instances: 4})
	oldGroup, newGroup := rl.addrs[:2], rl.addrs[2:]
	ctx := context.Background()
	for _, a := range newGroup {
		if err := rl.lb.SetMemberState(ctx, "order_backend", a, providers.StateDrain); err != nil {
			t.Fatal(err)
		}
	}
	upAt := time.Now().Add(300 * time.Millisecond)
	lb := &checkingLB{lb: rl.lb, pool: "order_backend", minServing: 2,
		upAt: map[string]time.Time{newGroup[0]: upAt, newGroup[1]: upAt}}
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nginx", Name: "edge"}] = lb
	weights := map[string]int{oldGroup[0]: 0, oldGroup[1]: 0, newGroup[0]: 1, newGroup[1]: 1}
	steps := []planner.Step{{ID: "s.1", Kind: planner.BalancerSwitch, Service: "order-service",
		Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Weights: weights}}}
	if _, err := r.Apply(ctx, &planner.Plan{Steps: steps}); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(upAt) {
		t.Error("the switch ended before the balancer confirmed the new group")
	}
	if lb.minServing < 1 {
		t.Errorf("the pool had %d members serving as the balancer sees it after some write, want at least 1", lb.minServing)
	}
	ms, _ := lb.Pool(ctx, "order_backend")
	for _, m := range ms {
		if want := weights[m.Address] > 0; m.Serving() != want {
			t.Errorf("%s serving %t after the switch, want %t", m.Address, m.Serving(), want)
		}
	}
}

// TestWaitServing waits for a member whose checks pass later, and names a member
// whose checks never pass with what the balancer last reported.
func TestWaitServing(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	soon := time.Now().Add(200 * time.Millisecond)
	lb := &checkingLB{lb: rl.lb, pool: "order_backend", upAt: map[string]time.Time{a: soon, b: {}}}
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nginx", Name: "edge"}] = lb
	step := func(addr string, bound time.Duration) planner.Step {
		return planner.Step{ID: "w", Kind: planner.WaitServing, Service: "order-service", Target: "order-service/a/" + addr,
			Args: planner.StepArgs{Address: addr, Members: []string{"nginx.edge/order_backend/" + addr}, Duration: planner.Duration(bound)}}
	}
	if res := mustApply(t, r, &planner.Plan{Steps: []planner.Step{step(a, 5*time.Second)}}); res.Failed() {
		t.Fatalf("wait.serving for a member that comes up: %s", res.Services["order-service"].Error)
	}
	if time.Now().Before(soon) {
		t.Error("wait.serving ended before the balancer reported the member up")
	}
	res, _ := r.Apply(context.Background(), &planner.Plan{Steps: []planner.Step{step(b, 300*time.Millisecond)}})
	want := "the balancer does not report nginx.edge/order_backend/" + b + " (state ready, weight 1, health down: DOWN 0/2) serving within 300ms"
	if got := res.Services["order-service"].Error; !strings.Contains(got, want) {
		t.Errorf("error %q\nwant it to contain %q", got, want)
	}
}

// TestFenceStopsBeforeTheNextWrite loses the lock after the first step: the apply
// stops before the second writes anything, and says why.
func TestFenceStopsBeforeTheNextWrite(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	r := rl.runner()
	calls := 0
	r.Fence = func(context.Context) error {
		if calls++; calls > 1 {
			return errors.New("lock abc was force-unlocked")
		}
		return nil
	}
	zero := 0
	steps := []planner.Step{
		{ID: "s.1", Kind: planner.BalancerSetWeight, Service: "order-service", Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Address: a, Weight: &zero}},
		{ID: "s.2", Kind: planner.BalancerSetWeight, Service: "order-service", After: []string{"s.1"}, Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Address: b, Weight: &zero}},
	}
	_, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil || !strings.Contains(err.Error(), "the state lock was lost") || !strings.Contains(err.Error(), "force-unlocked") {
		t.Fatalf("apply error %v, want the lost lock", err)
	}
	if got := rl.log.list(); len(got) != 1 || !strings.Contains(got[0], a) {
		t.Errorf("writes %v, want only the first step's", got)
	}
}

// settlingKind is a test-only kind whose drains take 300ms to take effect, as
// nginx's reload does.
const settlingKind = "settlinglb"

func init() {
	providers.Register(providers.Factory{Kind: settlingKind, Caps: providers.Capabilities{DrainSettle: 300 * time.Millisecond},
		New: func(providers.Settings) (providers.Provider, error) { return nil, nil }})
}

// settlingLB is the fake balancer under the settling kind.
type settlingLB struct{ *fakeLB }

func (b settlingLB) Kind() string { return settlingKind }

// TestDeployWaitsForDrainSettle drains an instance on a balancer whose drains
// settle late and deploys it at once, as a rollback of an instance the registry
// never enabled does: the deploy starts only once the drain has settled.
func TestDeployWaitsForDrainSettle(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a := rl.addrs[0]
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nginx", Name: "edge"}] = settlingLB{rl.lb}
	events := &eventLog{}
	r.Events = events
	zero := 0
	steps := []planner.Step{
		{ID: "s.1", Kind: planner.BalancerSetWeight, Service: "order-service", Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Address: a, Weight: &zero}},
		{ID: "s.2", Kind: planner.Deploy, Service: "order-service", After: []string{"s.1"}, Args: planner.StepArgs{Address: a, Group: "a", Version: "2.0.0", FromVersion: "1.0.0"}},
	}
	start := time.Now()
	mustApply(t, r, &planner.Plan{Steps: steps})
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("the deploy ran %s after the drain, before it settled (300ms)", took)
	}
	if rl.version(a) != "2.0.0" {
		t.Errorf("%s runs %s, want 2.0.0", a, rl.version(a))
	}
}

// closingLB is the fake balancer with sessions that never end and a way to close
// them, as HAProxy's `shutdown sessions server`.
type closingLB struct {
	*fakeLB
	mu     sync.Mutex
	closed []string
}

func (b *closingLB) CloseSessions(_ context.Context, pool, address string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = append(b.closed, pool+"/"+address)
	return 3, nil
}

// TestDrainClosesLongLivedSessions waits out the drain bound with sessions still
// open: the members of long-lived pools (Args.Close) get their sessions closed,
// the others are left alone.
func TestDrainClosesLongLivedSessions(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	three := 3
	rl.lb.sessions = func(string) *int { return &three }
	lb := &closingLB{fakeLB: rl.lb}
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nginx", Name: "edge"}] = lb
	st := planner.Step{ID: "d", Kind: planner.WaitDrain, Service: "order-service", Target: "order-service/a/" + a,
		Args: planner.StepArgs{Address: a, Duration: planner.Duration(100 * time.Millisecond),
			Members: []string{"nginx.edge/order_backend/" + a, "nginx.edge/order_backend/" + b},
			Close:   []string{"nginx.edge/order_backend/" + a}}}
	mustApply(t, r, &planner.Plan{Steps: []planner.Step{st}})
	if want := []string{"order_backend/" + a}; !slices.Equal(lb.closed, want) {
		t.Errorf("closed %v, want %v", lb.closed, want)
	}
}
