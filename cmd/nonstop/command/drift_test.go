package command

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDriftRealFleet checks that a fleet matching its configuration has no drift,
// then changes weights by hand on nginx and on HAProxy and checks that drift exits
// 2 naming each member with the expected and the actual weight.
func TestDriftRealFleet(t *testing.T) {
	f := startFleet(t, "1.4.2", []string{"1.4.2", "1.4.2", "1.4.2", "1.4.2"})
	ctx := context.Background()

	insync := f.nonstop(t, "drift").mustExit(t, 0)
	if !strings.Contains(insync.stdout, "No drift.") {
		t.Errorf("drift in sync printed:\n%s", insync.stdout)
	}
	var report struct {
		Drift bool             `json:"drift"`
		Items []map[string]any `json:"items"`
	}
	decode := func(r result) {
		t.Helper()
		report.Drift, report.Items = false, nil
		if err := json.Unmarshal([]byte(r.stdout), &report); err != nil {
			t.Fatalf("drift -json: %v\n%s", err, r.stdout)
		}
	}
	decode(f.nonstop(t, "drift", "-json").mustExit(t, 0))
	if report.Drift || report.Items == nil || len(report.Items) != 0 {
		t.Errorf("drift -json in sync: %+v, want drift false and items []", report)
	}

	must(t, "nginx weight", f.edge.SetMemberWeight(ctx, "web", f.demos[0].Addr, 3))
	must(t, "haproxy weight", f.lb.SetMemberWeight(ctx, "web", f.demos[2].Addr, 5))
	item := func(address string, actual float64) map[string]any {
		return map[string]any{"service": f.service, "object": "member", "address": address,
			"field": "weight", "expected": 1.0, "actual": actual}
	}
	decode(f.nonstop(t, "drift", "-json").mustExit(t, 2))
	want := []map[string]any{
		item("nginx.edge/web/"+f.demos[0].Addr, 3),
		item("haproxy.lb/web/"+f.demos[2].Addr, 5),
	}
	if !report.Drift {
		t.Error("drift -json says drift false")
	}
	if diff := cmp.Diff(want, report.Items); diff != "" {
		t.Errorf("drift items (-want +got):\n%s", diff)
	}

	human := f.nonstop(t, "drift").mustExit(t, 2)
	for _, w := range []string{
		"member nginx.edge/web/" + f.demos[0].Addr + " weight: expected 1, actual 3",
		"member haproxy.lb/web/" + f.demos[2].Addr + " weight: expected 1, actual 5",
	} {
		if !strings.Contains(human.stdout, w) {
			t.Errorf("drift output has no %q:\n%s", w, human.stdout)
		}
	}
	md := f.nonstop(t, "drift", "-format", "markdown").mustExit(t, 2)
	header := "<!-- nonstop:drift dir=" + f.dir + " workspace=default -->\n### nonstop drift · `" + f.dir + "` · workspace `default`\n\n"
	if !strings.HasPrefix(md.stdout, header+"**Drift:** 2 differences in 1 service.") {
		t.Errorf("drift markdown:\n%s", md.stdout)
	}
}
