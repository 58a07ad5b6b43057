package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// boundedTestPlan is renderTestPlan as `nonstop plan` makes it: with the
// bounds of -parallelism 10 -parallelism-per-host 4 and the simulated estimate.
func boundedTestPlan() *planner.Plan {
	p := renderTestPlan()
	p.Summary.EstimatedWall = planner.Duration(5*time.Minute + 34*time.Second)
	p.Summary.Estimate = &planner.EstimateBasis{Bounds: planner.NewBounds(10, 4),
		Deploy: planner.Duration(planner.AssumedDeploy), Write: planner.Duration(planner.AssumedWrite), Drain: planner.Duration(planner.AssumedDrain),
		CriticalWaits: planner.Duration(5*time.Minute + 30*time.Second)}
	return p
}

// TestRenderPlanBounds renders a plan made with bounds: the estimate names
// the bounds and what it assumed, in the terminal, in a pull-request comment
// and in JSON.
func TestRenderPlanBounds(t *testing.T) {
	var b bytes.Buffer
	if err := RenderPlan(&b, boundedTestPlan()); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "plan/plan-bounds.human.txt", b.String())
	parts := RenderPlanMarkdown(boundedTestPlan(), 0)
	if len(parts) != 1 {
		t.Fatalf("%d markdown parts, want 1", len(parts))
	}
	checkGolden(t, "plan/plan-bounds.md", parts[0])

	js, err := json.Marshal(boundedTestPlan().Summary)
	if err != nil {
		t.Fatal(err)
	}
	want := `"estimated_wall":"5m34s","estimate":{"bounds":{"writes_per_provider":10,"deploys":10,"deploys_per_host":4},` +
		`"assumed_deploy":"1s","assumed_write":"50ms","critical_waits":"5m30s","assumed_drain":"1s"}`
	if !strings.Contains(string(js), want) {
		t.Errorf("summary JSON %s\nlacks %s", js, want)
	}
}
