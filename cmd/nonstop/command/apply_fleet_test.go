package command

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/providers"
)

// TestFleetApplyStalePlanThenRepair runs against real systems: Polaris with
// demo-service instances, nginx and HAProxy. A plan saved before someone changes
// a HAProxy weight by hand is refused, naming the member; apply then repairs both
// weights and records the release.
func TestFleetApplyStalePlanThenRepair(t *testing.T) {
	f := startFleet(t, "1.0.0", []string{"1.0.0", "1.0.0"})
	ctx := context.Background()
	a, b := f.demos[0].Addr, f.demos[1].Addr
	must(t, "nginx weight", f.edge.SetMemberWeight(ctx, "web", a, 3))
	planFile := filepath.Join(t.TempDir(), "fleet.plan")
	if r := f.nonstop(t, "plan", "-out", planFile); r.code != 0 {
		t.Fatalf("plan -out: exit code %d\n%s", r.code, r)
	}
	must(t, "haproxy weight", f.lb.SetMemberWeight(ctx, "web", b, 7))

	r := f.nonstop(t, "apply", planFile)
	want := "plan is stale: " + f.service + " " + b + " weight on balancer tcp changed from 1 to 7 since the plan was made"
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Fatalf("stale plan: want exit 1 and %q\n%s", want, r)
	}

	r = f.nonstop(t, "apply", "-auto-approve")
	if r.code != 0 || !strings.Contains(r.stdout, "Apply complete! 0 instances to upgrade, 2 weight changes") {
		t.Fatalf("apply: want exit 0 and 2 weight changes\n%s", r)
	}
	weights := map[string]int{}
	for name, lb := range map[string]providers.Balancer{"http": f.edge, "tcp": f.lb} {
		members, err := lb.Pool(ctx, "web")
		must(t, "pool", err)
		for _, m := range members {
			weights[name+" "+m.Address] = m.Weight
		}
	}
	wantWeights := map[string]int{"http " + a: 1, "http " + b: 1, "tcp " + a: 1, "tcp " + b: 1}
	if diff := cmp.Diff(wantWeights, weights); diff != "" {
		t.Errorf("live weights after apply (-want +got):\n%s", diff)
	}
	st := loadLocalState(t, f.dir)
	if st.ConfigHash == "" || len(st.History) != 1 || st.History[0].Result != state.ResultSuccess || st.Journal != nil {
		t.Errorf("state after apply: hash %q, history %+v, journal %+v", st.ConfigHash, st.History, st.Journal)
	}
	if r := f.nonstop(t, "history", f.service); r.code != 0 || !strings.Contains(r.stdout, f.service+"  1.0.0  1.0.0") {
		t.Errorf("history:\n%s", r)
	}
}
