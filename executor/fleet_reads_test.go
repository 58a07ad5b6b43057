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

// listingsInFlight is a registry whose listings take 20ms; it records the most
// it served at once.
type listingsInFlight struct {
	*fakeRegistry
	mu       sync.Mutex
	now, max int
}

func (r *listingsInFlight) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	r.mu.Lock()
	r.now++
	r.max = max(r.max, r.now)
	r.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	r.mu.Lock()
	r.now--
	r.mu.Unlock()
	return r.fakeRegistry.Instances(ctx, svc)
}

// TestRegistryListingsAreBounded releases twelve services at -parallelism 3,
// each disabling and enabling its instance: their writes, and every listing
// the apply sends the registry besides (each write's read, the read-back
// before a service completes), reach it at most three at a time, and every
// service completes.
func TestRegistryListingsAreBounded(t *testing.T) {
	log := &writeLog{}
	reg := &listingsInFlight{fakeRegistry: newFakeRegistry("prod", log)}
	var steps []planner.Step
	var names []string
	for i := range 12 {
		name, addr := fmt.Sprintf("s%d", i), fmt.Sprintf("127.0.0.1:%d", i+1)
		reg.add(name, addr)
		names = append(names, name)
		steps = append(steps,
			step(name+".1", planner.RegistrySetEnabled, name, planner.StepArgs{Provider: "nacos.prod", Address: addr, Enabled: boolp(false)}),
			step(name+".2", planner.RegistrySetEnabled, name, planner.StepArgs{Provider: "nacos.prod", Address: addr, Enabled: boolp(true)}, name+".1"))
	}
	r := &Runner{Config: bareConfig(names...), Parallelism: 3,
		Providers: map[lang.ProviderRef]providers.Provider{{Kind: "nacos", Name: "prod"}: reg}}
	res := mustApply(t, r, &planner.Plan{Steps: steps})
	if res.Failed() {
		t.Fatal(res.Summary())
	}
	if reg.max == 0 || reg.max > 3 {
		t.Errorf("the registry served %d listings at once, want 1 to 3 (-parallelism 3)", reg.max)
	}
}
