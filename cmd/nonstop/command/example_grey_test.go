package command

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// TestExampleGreyByIDPlan plans examples/grey-by-id against the live state in its
// testdata/live.json (four instances at 1.9.0 behind nginx and HAProxy, no route)
// and compares the rendering with its plan.txt (-update rewrites it). The plan
// must place the numeric route on both balancers before the canary's manual hold,
// so that the new records reach 2.0.0 while group b still runs 1.9.0.
func TestExampleGreyByIDPlan(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "examples", "grey-by-id")
	cfg, ds := lang.LoadDir(dir, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	b, err := os.ReadFile(filepath.Join(dir, "testdata", "live.json"))
	if err != nil {
		t.Fatal(err)
	}
	var live planner.Live
	if err := json.Unmarshal(b, &live); err != nil {
		t.Fatal(err)
	}
	p, ds := planner.MakePlan(cfg, &live, planner.Options{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if sds := planner.CheckSafety(cfg, &live, p); sds.HasErrors() {
		t.Fatalf("the plan fails its own safety check: %v", sds)
	}
	// Where the route lands: on each balancer before the hold, with group a only.
	hold, routes := -1, map[string][]string{}
	for i, s := range p.Steps {
		switch {
		case s.Kind == planner.Pause && s.Args.UntilResumed && hold < 0:
			hold = i
		case s.Kind == planner.RouteSet && hold < 0:
			routes[s.Args.Provider] = s.Args.Route.Members
		}
	}
	if hold < 0 {
		t.Fatal("the plan has no manual pause")
	}
	groupA := []string{"127.0.0.1:18081", "127.0.0.1:18082"}
	for _, prov := range []string{"nginx.edge", "haproxy.lb"} {
		if d := cmp.Diff(groupA, routes[prov]); d != "" {
			t.Errorf("route new-records on %s before the hold (-want +got):\n%s", prov, d)
		}
	}
	var got bytes.Buffer
	if err := views.RenderPlan(&got, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.String(), "query={id>=5000000}") {
		t.Errorf("the rendered plan does not show the comparison:\n%s", got.String())
	}
	path := filepath.Join(dir, "plan.txt")
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}
