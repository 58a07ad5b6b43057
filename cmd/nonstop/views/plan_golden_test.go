package views

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nonstop-release/nonstop/planner"
)

// plannerCases is where the planner keeps its golden cases: config.ns.hcl and
// live.json in, plan.json out.
var plannerCases = filepath.Join("..", "..", "..", "planner", "testdata")

// TestPlanTextGolden renders the plan.json of every planner golden case and
// compares it with the case's plan.txt: the plan a reviewer reads for that config
// and live state. After go test ./planner -update, run this test with -update too.
func TestPlanTextGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(plannerCases, "*", "plan.json"))
	if len(files) < 15 {
		t.Fatalf("found %d planner cases with a plan.json, want at least 15", len(files))
	}
	for _, f := range files {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var p planner.Plan
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			var txt bytes.Buffer
			if err := RenderPlan(&txt, &p); err != nil {
				t.Fatal(err)
			}
			compareGoldenFile(t, filepath.Join(dir, "plan.txt"), txt.String())
		})
	}
}
