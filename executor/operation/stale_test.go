package operation

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// priorOf returns the prior a plan made from live records.
func priorOf(live *planner.Live) planner.Prior {
	p := &planner.Plan{Prior: planner.Prior{Objects: planner.Fingerprints(live)}}
	p.RecordPrior(live)
	return p.Prior
}

func staleTexts(objs []planner.StaleObject) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.String())
	}
	return out
}

func TestStaleNamesFieldAndBothValues(t *testing.T) {
	prior := priorOf(fakeLiveModel())
	after := fakeLiveModel()
	ls := after.Services["shop"]
	ls.Instances["127.0.0.1:18081"] = withEnabled(ls.Instances["127.0.0.1:18081"], false)
	inst := ls.Instances["127.0.0.1:18082"]
	inst.Version, inst.Metadata = "0.9.0", map[string]string{"version": "0.9.0"}
	ls.Instances["127.0.0.1:18082"] = inst
	ls.Balancers["http"][0].Weight = 0
	ls.Balancers["http"][1].State = providers.StateDrain
	ls.Balancers["http"] = append(ls.Balancers["http"],
		providers.Member{Pool: "shop", Address: "127.0.0.1:18089", Weight: 1, State: providers.StateReady})
	ls.Routes["http"][0].Version = "2.0.0"

	got := staleTexts(prior.Stale(after))
	want := []string{
		"shop 127.0.0.1:18081 enabled in the registry changed from true to false since the plan was made",
		"shop 127.0.0.1:18082 version in the registry changed from 1.0.0 to 0.9.0 since the plan was made",
		"shop 127.0.0.1:18081 weight on balancer http changed from 1 to 0 since the plan was made",
		"shop 127.0.0.1:18082 state on balancer http changed from ready to drain since the plan was made",
		"shop 127.0.0.1:18089 on balancer http appeared since the plan was made",
		"shop route beta version on balancer http changed from 1.0.0 to 2.0.0 since the plan was made",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stale objects (-want +got):\n%s", diff)
	}
}

// TestStaleIgnoresObservedMemberState checks that what a balancer observes and
// reports (sessions, its own health check verdict) never makes a plan stale.
func TestStaleIgnoresObservedMemberState(t *testing.T) {
	prior := priorOf(fakeLiveModel())
	after := fakeLiveModel()
	n := 42
	m := &after.Services["shop"].Balancers["http"][0]
	m.Sessions, m.Health, m.HealthDetail = &n, providers.HealthDown, "DOWN 1/2 L7STS"
	if got := prior.Stale(after); len(got) != 0 {
		t.Errorf("sessions and health made the plan stale: %v", staleTexts(got))
	}
	if p := priorOf(after); !cmp.Equal(p.Objects, prior.Objects) {
		t.Error("sessions and health changed the fingerprints")
	}
}

func TestStaleGoneAndUnreadServices(t *testing.T) {
	before := fakeLiveModel()
	before.Services["cart"] = &planner.LiveService{Name: "cart", Instances: map[string]providers.Instance{
		"127.0.0.1:19000": {Service: "cart", Address: "127.0.0.1:19000", Enabled: true}}}
	prior := priorOf(before)
	after := fakeLiveModel() // cart not read (an apply of -target service.shop)
	delete(after.Services["shop"].Instances, "127.0.0.1:18082")
	want := []string{"shop 127.0.0.1:18082 in the registry is gone since the plan was made"}
	if diff := cmp.Diff(want, staleTexts(prior.Stale(after))); diff != "" {
		t.Errorf("stale objects (-want +got):\n%s", diff)
	}
}

// TestStaleWithoutValues checks a plan that recorded hashes only (written by an
// earlier nonstop): a change is still found, without its field.
func TestStaleWithoutValues(t *testing.T) {
	prior := priorOf(fakeLiveModel())
	prior.Values = nil
	after := fakeLiveModel()
	after.Services["shop"].Balancers["http"][1].Weight = 3
	want := []string{"shop 127.0.0.1:18082 on balancer http changed since the plan was made"}
	if diff := cmp.Diff(want, staleTexts(prior.Stale(after))); diff != "" {
		t.Errorf("stale objects (-want +got):\n%s", diff)
	}
}

// fakeLiveModel is the live model of a shop whose weights are as configured, with
// a header route to its 1.0.0 instances.
func fakeLiveModel() *planner.Live {
	ls := &planner.LiveService{Name: "shop", Instances: map[string]providers.Instance{},
		Balancers: map[string][]providers.Member{}}
	for _, addr := range shopAddrs {
		ls.Instances[addr] = providers.Instance{Service: "shop", Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
			Address: addr, Enabled: true, Healthy: true, Weight: 1,
			Metadata: map[string]string{"version": "1.0.0"}, Version: "1.0.0", VersionKnown: true}
		ls.Balancers["http"] = append(ls.Balancers["http"], providers.Member{Pool: "shop", Address: addr, Weight: 1, State: providers.StateReady})
	}
	ls.Routes = map[string][]providers.Route{"http": {{Pool: "shop", Name: "beta", Version: "1.0.0",
		Match: providers.RouteMatch{Header: map[string]string{"X-Beta": "1"}}, Members: shopAddrs}}}
	return &planner.Live{Services: map[string]*planner.LiveService{"shop": ls}}
}

func withEnabled(in providers.Instance, enabled bool) providers.Instance {
	in.Enabled = enabled
	return in
}
