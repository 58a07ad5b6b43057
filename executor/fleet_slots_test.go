package executor

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// writesInFlight counts the writes a balancer has in flight at once.
type writesInFlight struct {
	*checkingLB
	mu       sync.Mutex
	now, max int
}

func (w *writesInFlight) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	w.mu.Lock()
	w.now++
	w.max = max(w.max, w.now)
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.now--
		w.mu.Unlock()
	}()
	time.Sleep(5 * time.Millisecond)
	return w.checkingLB.SetMemberWeight(ctx, pool, address, weight)
}

// TestConfirmingARaiseHoldsNoSlot raises a member in each of four services on
// a balancer with its own checks, at -parallelism 1: each raise waits until
// the balancer's checks pass (200ms from now), and that wait holds no write
// slot, so the four raises wait together while their writes still reach the
// balancer one at a time.
func TestConfirmingARaiseHoldsNoSlot(t *testing.T) {
	log := &writeLog{}
	lb := &checkingLB{lb: newFakeLB("nginx", "edge", log), upAt: map[string]time.Time{}}
	up := time.Now().Add(200 * time.Millisecond)
	var steps []planner.Step
	var names []string
	for i := range 4 {
		name, addr, pool := fmt.Sprintf("s%d", i), fmt.Sprintf("127.0.0.1:%d", i+1), fmt.Sprintf("pool%d", i)
		lb.lb.addMember(pool, addr, 0)
		lb.upAt[addr] = up
		names = append(names, name)
		steps = append(steps, step(name+".1", planner.BalancerSetWeight, name,
			planner.StepArgs{Provider: checkingKind + ".lb", Pool: pool, Address: addr, Weight: intp(1)}))
	}
	counted := &writesInFlight{checkingLB: lb}
	c := &concurrency{started: map[string]time.Time{}, ended: map[string]time.Time{}}
	r := &Runner{Config: bareConfig(names...), Events: c, Parallelism: 1,
		Providers: map[lang.ProviderRef]providers.Provider{{Kind: checkingKind, Name: "lb"}: counted}}
	res := mustApply(t, r, &planner.Plan{Steps: steps})
	if res.Failed() {
		t.Fatal(res.Summary())
	}
	if counted.max != 1 {
		t.Errorf("the balancer had %d writes in flight at once, want 1 (-parallelism 1)", counted.max)
	}
	if c.max != 4 {
		t.Errorf("%d raises waited for the balancer's checks at once, want all 4 (the wait holds no slot)", c.max)
	}
	for _, st := range steps {
		if end := c.ended[st.ID]; end.Before(up) {
			t.Errorf("%s ended at %s, before the balancer's checks passed at %s", st.ID, end.Format(time.StampMilli), up.Format(time.StampMilli))
		}
	}
}
