package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/internal/demo"
	fleetpkg "github.com/nonstop-release/nonstop/internal/fleet"
	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// TestGatewayTierZeroDowntime releases both tiers of examples/gateway-tier in one
// apply, as written but for the SLB (HAProxy with active checks stands in for
// it), the 4 s propagation and the 1 s in-flight wait: the search servers 5.1.0 → 5.2.0 group by group,
// then the gateways 2.3.0 → 2.4.0 group by group, under a steady load through
// the front balancer (→ gateway → search server), through the registry to a
// gateway (→ search server) and through the registry straight to a search
// server. No request may fail, and no path may ever route to fewer than
// min_available (2) members as that path sees them: HAProxy's gateways, the
// consumers' lists, and the search servers each gateway in traffic routes to.
func TestGatewayTierZeroDowntime(t *testing.T) {
	t.Parallel()
	g := newGatewayTier(t, "5.1.0", "2.3.0")
	r := g.releaser("5.2.0", "2.4.0")
	spans := newStepSpans()
	r.events = spans

	// Every path sees the whole fleet before the load starts.
	deadline := time.Now().Add(30 * time.Second)
	through := gatewaysRouteTo("slb → gateways → search", g.lb.TCPURL())
	for {
		up, err := demo.HAProxyServing("slb", g.lb.TCPURL(), gatewayPool).Members()
		routes, rerr := through.Members()
		// HAProxy says UP before its first check: a check must have passed too.
		confirmed, _, serr := g.lb.Confirmed(gatewayPool)
		if err == nil && rerr == nil && serr == nil && len(up) == 4 && confirmed == 4 && len(routes) == 4 &&
			len(g.searchConsumer.Instances()) == 4 && len(g.gatewayConsumer.Instances()) == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("before the load: HAProxy serves %v (%v), the gateways route to %v (%v), the consumers list %v and %v",
				up, err, routes, rerr, g.searchConsumer.Instances(), g.gatewayConsumer.Instances())
		}
		time.Sleep(100 * time.Millisecond)
	}
	sampler := demo.StartSampler(sampleEvery,
		demo.HAProxyServing("slb → gateways", g.lb.TCPURL(), gatewayPool),
		through,
		g.gatewayConsumer.Serving("registry → gateways"),
		g.searchConsumer.Serving("registry → search"),
		demo.HAProxyChecksUp(checksUpPath, g.lb.TCPURL(), gatewayPool))
	load := demo.StartLoad(loadRate, loadMax,
		demo.HTTPPath("slb → gateway → search", g.lb.URL("www")),
		g.gatewayConsumer.Path("registry → gateway → search"),
		g.searchConsumer.Path("registry → search"))
	tr := &traffic{load: load, sampler: sampler, started: time.Now()}

	_, elapsed, err := g.release(r)
	time.Sleep(2 * time.Second) // keep calling the new versions for a while
	counts := g.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	var requests int64
	for _, c := range counts {
		requests += c.Sent()
	}
	// The physical minimum: per group, the propagation and the in-flight wait,
	// then the restart until the instance serves (start-up delay and warm-up; a
	// gateway also until HAProxy's rise checks pass); two groups per tier, one
	// tier after the other.
	floor := 2*(gatewayTierPropagation+gatewayTierInFlight+startDelay+warmup) +
		2*(gatewayTierPropagation+gatewayTierInFlight+demo.ComputedConfirm(startDelay, warmup, testfleet.DefaultHAProxyChecks))
	t.Logf("gateway tier: both tiers released in one apply in %s (physical minimum %s, ×%.2f), %d requests on 3 paths",
		elapsed.Round(time.Millisecond), floor, elapsed.Seconds()/floor.Seconds(), requests)

	// The search servers were released before the first gateway step began.
	searchFirst, searchLast := spans.span(searchService)
	gatewayFirst, gatewayLast := spans.span(gatewayService)
	if searchLast.IsZero() || gatewayFirst.IsZero() || !gatewayFirst.After(searchLast) {
		t.Errorf("order: %s ran %s – %s and %s %s – %s; want every %s step after the last of %s",
			searchService, stamp(searchFirst), stamp(searchLast), gatewayService, stamp(gatewayFirst), stamp(gatewayLast),
			gatewayService, searchService)
	}
	t.Logf("%s: %s; %s: %s", searchService, searchLast.Sub(searchFirst).Round(time.Millisecond),
		gatewayService, gatewayLast.Sub(gatewayFirst).Round(time.Millisecond))

	// Through every path, the new search servers answer at the end.
	for _, c := range counts {
		if c.Versions["5.2.0"] == 0 {
			t.Errorf("path %s never reached 5.2.0: %v", c.Name, c.Versions)
		}
	}
	g.assertReleased(r, map[string]string{searchService: "5.2.0", gatewayService: "2.4.0"})
	g.assertNoChanges(r)
}

// assertReleased refreshes live state and asserts that every instance of each
// service runs its version (asked directly), enabled in the registry, and that
// every gateway is in the front balancer's traffic.
func (g *gatewayTier) assertReleased(r *releaser, versions map[string]string) {
	t := g.t
	t.Helper()
	live, ds := operation.Refresh(context.Background(), g.options(r))
	if ds.HasErrors() {
		t.Fatalf("refresh: %v", ds.Err())
	}
	for svc, addrs := range map[string][]string{searchService: g.search, gatewayService: g.gws} {
		ls := live.Services[svc]
		if ls == nil {
			t.Fatalf("refresh saw no service %s", svc)
		}
		for _, a := range addrs {
			if v := directVersion(t, a); v != versions[svc] {
				t.Errorf("%s %s runs %q, want %s", svc, a, v, versions[svc])
			}
			in, ok := ls.Instances[a]
			if !ok || !in.Enabled || !in.Healthy || in.Version != versions[svc] {
				t.Errorf("%s %s in the registry: %+v, want enabled and healthy at %s", svc, a, in, versions[svc])
			}
			if svc == gatewayService {
				if got := memberView(ls.Balancers["slb"], a); got != serving {
					t.Errorf("gateway %s on the front balancer: %s, want serving", a, got)
				}
			}
		}
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("15:04:05.000")
}

// TestGatewayTierGoldenIsTheExample keeps the planner's golden cases of the
// gateway tier planning the example as written (gateway_tier, with the SLB) and
// as this package runs it (gateway_tier_haproxy, HAProxy standing in for it).
func TestGatewayTierGoldenIsTheExample(t *testing.T) {
	root, err := fleetpkg.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(filepath.Join(root, "examples", "gateway-tier", "main.ns.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	standIn, err := standInHAProxy(example, "tcp://127.0.0.1:9999")
	if err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string][]byte{"gateway_tier": example, "gateway_tier_haproxy": standIn} {
		golden, err := os.ReadFile(filepath.Join(root, "planner", "testdata", dir, "config.ns.hcl"))
		if err != nil {
			t.Fatal(err)
		}
		if string(golden) != string(want) {
			t.Errorf("planner/testdata/%s/config.ns.hcl is not examples/gateway-tier/main.ns.hcl as the case plans it: "+
				"rewrite it and run go test ./planner -run TestPlanGolden -update, then the same in ./cmd/nonstop/views", dir)
		}
	}
}
