package planner

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGatewayDrift checks drift of gateway routes documents against the golden
// cases' live state: a document as configured is no drift, a missing one is
// "present", a hand-edited one is reported field by field.
func TestGatewayDrift(t *testing.T) {
	const addr = "nacos.prod/GATEWAY/order-service.routes.json"
	cases := map[string][]DriftItem{
		"gateway_routes_same":    nil,
		"gateway_routes_missing": {{Service: "order-service", Object: "gateway", Address: addr, Field: "present", Expected: true, Actual: false}},
		"gateway_routes_hand_edit": {
			{Service: "order-service", Object: "gateway", Address: addr, Field: "route manual", Expected: nil, Actual: "version=1.4.2 client_ip=[10.9.0.1]"},
			{Service: "order-service", Object: "gateway", Address: addr, Field: "weights", Expected: "1.5.0=100", Actual: "1.4.2=50 1.5.0=50"},
		},
	}
	for name, want := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, live, _ := loadPlanCase(t, filepath.Join("testdata", name))
			var got []DriftItem
			for _, it := range Drift(cfg, live) {
				if it.Object == "gateway" {
					got = append(got, it)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("gateway drift (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGatewayFingerprint checks that a plan's fingerprints cover the document, so
// that a hand edit between plan and apply makes a plan file stale.
func TestGatewayFingerprint(t *testing.T) {
	cfg, live, opts := loadPlanCase(t, filepath.Join("testdata", "gateway_routes_release"))
	p, ds := MakePlan(cfg, live, opts)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	const key = "order-service/gateway/spring"
	if p.Prior.Objects[key] == "" {
		t.Fatalf("no fingerprint %s in %v", key, p.Prior.Objects)
	}
	if stale := p.Prior.Stale(live); len(stale) != 0 {
		t.Fatalf("stale against its own live state: %v", stale)
	}
	gw := *live.Services["order-service"].Gateways["spring"]
	gw.Content += " "
	gw.MD5 = "0123"
	live.Services["order-service"].Gateways["spring"] = &gw
	stale := p.Prior.Stale(live)
	if len(stale) != 1 || stale[0].Key != key || stale[0].Change != "changed" {
		t.Fatalf("after a hand edit: stale %v, want %s changed", stale, key)
	}
	delete(live.Services["order-service"].Gateways, "spring")
	if stale := p.Prior.Stale(live); len(stale) != 1 || stale[0].Change != "gone" {
		t.Fatalf("after a failed read: stale %v, want %s gone", stale, key)
	}
}

// TestGatewayRouteUnserved checks that a document whose route points at a version
// no instance runs after the release is refused.
func TestGatewayRouteUnserved(t *testing.T) {
	cfg, live, opts := loadPlanCase(t, filepath.Join("testdata", "gateway_routes_same"))
	cfg.Services["order-service"].Routes[0].Version = "9.9.9"
	_, ds := MakePlan(cfg, live, opts)
	if !ds.HasErrors() || ds.Errs()[0].Summary != "Route to a version no instance serves" {
		t.Fatalf("want a route error, got %v", ds)
	}
}
