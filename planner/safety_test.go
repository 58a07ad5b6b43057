package planner

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// TestPlanProperties plans 200 random fleets. Every plan must pass CheckSafety,
// replaying it must reach the desired state (every instance at the version and
// serving with its configured weight, except a blue-green standby group), and
// planning again from that state must find nothing to do. Refusals are allowed only
// with the planner's safety summaries.
func TestPlanProperties(t *testing.T) {
	r := rand.New(rand.NewSource(20240611))
	planned, refused := 0, map[string]int{}
	for i := range 200 {
		cfg, live, opts := randomFleet(r)
		p, ds := MakePlan(cfg, live, opts)
		if ds.HasErrors() {
			for _, d := range ds.Errs() {
				switch d.Summary {
				case "Service cannot be released without downtime", "Unsafe plan":
					refused[d.Summary]++
					if testing.Verbose() && d.Summary == "Unsafe plan" {
						t.Logf("fleet %d refused: %s", i, d.Detail)
					}
				default:
					t.Fatalf("fleet %d: unexpected error %q: %s", i, d.Summary, d.Detail)
				}
			}
			continue
		}
		planned++
		if sds := CheckSafety(cfg, live, p); sds.HasErrors() {
			t.Fatalf("fleet %d: emitted plan fails CheckSafety: %v", i, sds)
		}
		finals := replayWithKnown(t, cfg, live, opts, p)
		for _, name := range cfg.ServiceNames {
			if err := desiredState(finals[name]); err != nil {
				t.Fatalf("fleet %d: after the plan, service %s is not in the desired state: %v\nsteps:\n%s", i, name, err, stepList(p))
			}
		}
		again, ds := MakePlan(cfg, liveOf(finals), Options{KnownVersions: knownOf(finals)})
		if ds.HasErrors() {
			t.Fatalf("fleet %d: re-planning the desired state failed: %v", i, ds)
		}
		if len(again.Steps) != 0 || len(again.Changes) != 0 {
			t.Fatalf("fleet %d: re-planning the desired state gives %d steps, %d changes:\n%s", i, len(again.Steps), len(again.Changes), stepList(again))
		}
	}
	t.Logf("planned %d fleets, refused %v", planned, refused)
	if planned < 100 {
		t.Errorf("only %d of 200 random fleets got a plan; the generator or the planner is too strict", planned)
	}
}

// replayWithKnown replays p on the fleet's models (versions hidden by the registry
// filled from opts) and returns the final models.
func replayWithKnown(t *testing.T, cfg *lang.Config, live *Live, opts Options, p *Plan) map[string]*serviceModel {
	t.Helper()
	starts := map[string]*serviceModel{}
	for _, name := range cfg.ServiceNames {
		starts[name] = newServiceModel(cfg.Services[name], live.Services[name], opts.KnownVersions[name])
	}
	after, ds := stepGraph(p.Steps)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	finals, ds := replay(starts, p, after)
	if ds.HasErrors() {
		t.Fatalf("replay: %v", ds)
	}
	return finals
}

// desiredState checks a service's steady state: every group serves at the version
// with configured weights, except that with keep_standby whole groups may be out of
// traffic; at least one group serves; routes point at every up instance of their version.
func desiredState(m *serviceModel) error {
	keep := m.svc.Strategy != nil && m.svc.Strategy.Kind == lang.BlueGreen && m.svc.Strategy.KeepStandby
	serving := 0
	for _, g := range m.groupNames() {
		standby := true
		for _, im := range m.groupInstances(g) {
			standby = standby && !m.takesTraffic(im)
		}
		if keep && standby {
			continue
		}
		for _, im := range m.groupInstances(g) {
			if !im.atVersion(m.svc.Version) || !m.fullyServing(im) {
				return fmt.Errorf("instance %s: version %q known %v up %v enabled %v members %+v", im.addr, im.version, im.known, im.up, im.enabled, im.members)
			}
		}
		serving++
	}
	if serving == 0 {
		return fmt.Errorf("no group serves")
	}
	for _, b := range m.bals {
		if !b.caps.HoldsRoutes {
			continue
		}
		if len(b.routes) != len(m.svc.Routes) {
			return fmt.Errorf("balancer %s has %d routes, want %d", b.name, len(b.routes), len(m.svc.Routes))
		}
		for _, r := range m.svc.Routes {
			got := b.routes[r.Name]
			if got == nil || got.Version != r.Version || !sameSet(got.Members, m.upAt(r.Version)) {
				return fmt.Errorf("route %s on %s is %+v", r.Name, b.name, got)
			}
		}
	}
	return nil
}

// knownOf returns the versions the models know, as a state would record them.
func knownOf(models map[string]*serviceModel) map[string]map[string]string {
	out := map[string]map[string]string{}
	for name, m := range models {
		out[name] = map[string]string{}
		for _, im := range m.insts {
			if im.known {
				out[name][im.addr] = im.version
			}
		}
	}
	return out
}

func stepList(p *Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  %s %s %s %+v after %v\n", s.ID, s.Kind, s.Target, s.Args, s.After)
	}
	return b.String()
}

// TestCheckSafetyRejects breaks a safe plan in several ways and checks that the
// replay names the offending step and what it breaks.
func TestCheckSafetyRejects(t *testing.T) {
	cfg, live, opts := loadPlanCase(t, "testdata/rolling_fresh")
	p, ds := MakePlan(cfg, live, opts)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	find := func(kind StepKind, n int) int {
		for i, s := range p.Steps {
			if s.Kind == kind {
				if n == 0 {
					return i
				}
				n--
			}
		}
		t.Fatalf("no %s step", kind)
		return -1
	}
	tests := map[string]struct {
		mutate func(p *Plan)
		want   string
	}{
		"deploy before drain": {func(p *Plan) { p.Steps[find(Deploy, 0)].After = nil },
			"Step order-service.6 (deploy order-service/a/127.0.0.1:18081) is unsafe: deploys 127.0.0.1:18081 while it still takes traffic (enabled in the registry, weight 1 in haproxy.lb/order_tcp/127.0.0.1:18081)."},
		"propagation skipped": {func(p *Plan) { p.Steps[find(WaitPropagation, 0)].Kind = Pause },
			"Step order-service.6 (deploy order-service/a/127.0.0.1:18081) is unsafe: deploys 127.0.0.1:18081 while it still takes traffic (the registry propagation wait has not run since it was disabled)."},
		"batches in parallel": {func(p *Plan) {
			p.Steps[find(BalancerSetWeight, 4)].After, p.Steps[find(BalancerSetWeight, 6)].After = nil, nil
		},
			"Step order-service.37 (balancer.set_weight nginx.edge/order_backend/127.0.0.1:18084) is unsafe: it leaves pool nginx.edge/order_backend with 0 serving members; service order-service must keep at least 1."},
		"serving unconfirmed": {func(p *Plan) {
			for i := range p.Steps {
				if p.Steps[i].Kind == WaitServing {
					p.Steps[i].Kind, p.Steps[i].Args.Members = Pause, nil
				}
			}
		},
			// Group a is back in HAProxy by nonstop's writes but not by HAProxy's checks.
			"Step order-service.38 (balancer.set_state haproxy.lb/order_tcp/127.0.0.1:18084) is unsafe: it leaves pool haproxy.lb/order_tcp with 0 serving members; service order-service must keep at least 1."},
		"unknown after": {func(p *Plan) { p.Steps[3].After = []string{"order-service.99"} },
			"Step order-service.4 runs after order-service.99, which is not in the plan."},
		"cycle": {func(p *Plan) { p.Steps[0].After = []string{p.Steps[len(p.Steps)-1].ID} },
			"The steps' After edges form a cycle."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q := clonePlan(p)
			tc.mutate(q)
			got := CheckSafety(cfg, live, q)
			if d := cmp.Diff([]string{tc.want}, details(got)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	if ds := CheckSafety(cfg, live, p); len(ds) != 0 {
		t.Errorf("the unmodified plan: %v", ds)
	}
}

func details(ds diags.Diagnostics) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Detail)
	}
	return out
}

func clonePlan(p *Plan) *Plan {
	q := *p
	q.Steps = append([]Step(nil), p.Steps...)
	return &q
}
