package views

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/planner"
)

// driftItem is a planner.DriftItem in the order of its fields.
func driftItem(service, object, address, field string, expected, actual any) planner.DriftItem {
	return planner.DriftItem{Service: service, Object: object, Address: address, Field: field, Expected: expected, Actual: actual}
}

// driftRenderItems covers every kind of line a drift report has.
func driftRenderItems() []planner.DriftItem {
	return []planner.DriftItem{
		driftItem("order-service", "instance", "a/127.0.0.1:18081", "version", "1.5.0", "1.4.2"),
		driftItem("order-service", "member", "nginx.edge/order_backend/127.0.0.1:18082", "present", true, false),
		driftItem("order-service", "member", "nginx.edge/order_backend/127.0.0.1:18083", "weight", 5, 1),
		driftItem("order-service", "route", "nginx.edge/order_backend/hotfix", "present", false, true),
		driftItem("order-service", "route", "nginx.edge/order_backend/beta|testers", "match", "client_ip=[10.8.0.0/16]", "any"),
		driftItem("pay-service", "instance", "blue/127.0.0.1:19001", "weight", "> 0", 0.0),
	}
}

func TestRenderDriftGolden(t *testing.T) {
	var b bytes.Buffer
	if err := RenderDrift(&b, driftRenderItems()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "drift/drift.human.txt", b.String())
	checkGolden(t, "drift/drift.md", RenderDriftMarkdown(driftRenderItems()))
}

func TestRenderDriftNone(t *testing.T) {
	var b bytes.Buffer
	if err := RenderDrift(&b, nil); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != NoDriftMessage+"\n" {
		t.Errorf("RenderDrift(nil) = %q", got)
	}
	if got, want := RenderDriftMarkdown(nil), "**Drift:** none. Live state matches the configuration.\n"; got != want {
		t.Errorf("RenderDriftMarkdown(nil) = %q, want %q", got, want)
	}
}

func TestRenderDriftJSON(t *testing.T) {
	tests := map[string]struct {
		items []planner.DriftItem
		want  string
	}{
		"none": {nil, "{\n  \"drift\": false,\n  \"items\": []\n}\n"},
		"one": {driftRenderItems()[:1], `{
  "drift": true,
  "items": [
    {
      "service": "order-service",
      "object": "instance",
      "address": "a/127.0.0.1:18081",
      "field": "version",
      "expected": "1.5.0",
      "actual": "1.4.2"
    }
  ]
}
`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := RenderDriftJSON(&b, tc.items); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, b.String()); d != "" {
				t.Errorf("RenderDriftJSON (-want +got):\n%s", d)
			}
		})
	}
}
