package operation

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

func TestStaleObjectsNamesChanges(t *testing.T) {
	before := fakeLiveModel()
	prior := planner.Fingerprints(before)
	after := fakeLiveModel()
	after.Services["shop"].Instances["127.0.0.1:18081"] = withEnabled(after.Services["shop"].Instances["127.0.0.1:18081"], false)
	after.Services["shop"].Balancers["http"][1].State = providers.StateDrain
	after.Services["shop"].Balancers["http"] = append(after.Services["shop"].Balancers["http"],
		providers.Member{Pool: "shop", Address: "127.0.0.1:18089", Weight: 1, State: providers.StateReady})
	inst := after.Services["shop"].Instances["127.0.0.1:18082"]
	inst.Version, inst.Metadata = "0.9.0", map[string]string{"version": "0.9.0"}
	after.Services["shop"].Instances["127.0.0.1:18082"] = inst
	got := staleObjects(prior, after, "0.9.0", "1.0.0")
	want := []string{
		"shop 127.0.0.1:18081 enabled in the registry changed since the plan was made",
		"shop 127.0.0.1:18082 version in the registry changed since the plan was made",
		"shop 127.0.0.1:18082 state on balancer http changed since the plan was made",
		"shop 127.0.0.1:18089 on balancer http appeared since the plan was made",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("staleObjects (-want +got):\n%s", diff)
	}
}

// fakeLiveModel is the live model of a shop whose weights are as configured.
func fakeLiveModel() *planner.Live {
	ls := &planner.LiveService{Name: "shop", Instances: map[string]providers.Instance{},
		Balancers: map[string][]providers.Member{}}
	for _, addr := range shopAddrs {
		ls.Instances[addr] = providers.Instance{Service: "shop", Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
			Address: addr, Enabled: true, Healthy: true, Weight: 1,
			Metadata: map[string]string{"version": "1.0.0"}, Version: "1.0.0", VersionKnown: true}
		ls.Balancers["http"] = append(ls.Balancers["http"], providers.Member{Pool: "shop", Address: addr, Weight: 1, State: providers.StateReady})
	}
	return &planner.Live{Services: map[string]*planner.LiveService{"shop": ls}}
}

func withEnabled(in providers.Instance, enabled bool) providers.Instance {
	in.Enabled = enabled
	return in
}
