package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDependsOnOrder checks that a dependent service starts after its dependency's
// last steps while an independent service starts at once, and that a cycle is refused.
func TestDependsOnOrder(t *testing.T) {
	cfg, live, opts := loadPlanCase(t, "testdata/depends_on")
	p, ds := MakePlan(cfg, live, opts)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	first := map[string][]string{}
	last := map[string]string{}
	for _, s := range p.Steps {
		if _, ok := first[s.Service]; !ok {
			first[s.Service] = s.After
		}
		last[s.Service] = s.ID
	}
	want := map[string][]string{
		"user-service":    nil,
		"order-service":   {last["user-service"]},
		"payment-service": nil,
	}
	if d := cmp.Diff(want, first); d != "" {
		t.Errorf("first steps wait for (-want +got):\n%s", d)
	}

	cfg.Services["user-service"].DependsOn = []string{"service.payment-service"}
	cfg.Services["payment-service"].DependsOn = []string{"service.order-service"}
	_, ds = MakePlan(cfg, live, opts)
	got := details(ds)
	wantErr := []string{"Services depend on each other in a cycle: user-service -> payment-service -> order-service -> user-service. Remove one depends_on entry."}
	if d := cmp.Diff(wantErr, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
