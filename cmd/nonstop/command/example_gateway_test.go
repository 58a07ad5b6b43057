package command

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// TestExampleGatewayRoutesPlan plans examples/gateway-routes against the live
// state in its testdata/live.json (four instances at 2.0.0, the document at rest
// on 2.0.0) and compares the rendering with its plan.txt (-update rewrites it).
func TestExampleGatewayRoutesPlan(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "examples", "gateway-routes")
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
	var got bytes.Buffer
	if err := views.RenderPlan(&got, p); err != nil {
		t.Fatal(err)
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
