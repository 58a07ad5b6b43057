package views

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// TestMarkdownCanaryTrafficShares: each canary balancer.switch says the share of
// the pool's traffic its weights give the new version.
func TestMarkdownCanaryTrafficShares(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(plannerCases, "canary_fresh", "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p planner.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	md := strings.Join(RenderPlanMarkdown(&p, 0), "\n")
	for _, want := range []string{
		"13. balancer.switch nginx.edge/order_backend weights=127.0.0.1:18081=11,127.0.0.1:18082=11,127.0.0.1:18083=100,127.0.0.1:18084=100 (after 6, 12) → 1.5.0 gets 10% of traffic",
		"→ 1.5.0 gets 50% of traffic",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the canary plan's markdown lacks %q:\n%s", want, md)
		}
	}
}

// TestRenderPlanReportMarkdown: a pull-request report has its marker and header on
// every part, the configuration change and the drift repair apart from the
// changes to live systems.
func TestRenderPlanReportMarkdown(t *testing.T) {
	p := syntheticPlan(40)
	repair := planner.Change{Action: planner.Update, Service: "service-000", Object: "member", Address: "nginx.edge/web/10.0.0.9:8080", Field: "weight", Before: 7, After: 1}
	p.Changes = append(p.Changes, repair)
	r := PlanReport{
		Marker: func(part string) string {
			if part == "" {
				return "<!-- nonstop:plan dir=deploy workspace=default -->"
			}
			return "<!-- nonstop:plan dir=deploy workspace=default part=" + part + " -->"
		},
		Header: "### nonstop plan · `deploy`",
		Plan:   p,
		Base:   "origin/main",
		Config: []lang.ConfigChange{{Action: "update", Service: "service-000", What: "version", Before: `"1.4.2"`, After: `"1.5.0"`, Where: []string{"deploy/main.ns.hcl:3"}}},
		Repair: []planner.Change{repair},
		Drift:  []planner.DriftItem{{Service: "service-000", Object: "route", Address: "nginx.edge/web/beta", Field: "present", Expected: false, Actual: true}},
	}
	one := RenderPlanReportMarkdown(r, 0)
	if len(one) != 1 {
		t.Fatalf("%d parts, want 1", len(one))
	}
	md := one[0]
	for _, want := range []string{
		"<!-- nonstop:plan dir=deploy workspace=default -->\n### nonstop plan · `deploy`\n**Plan:** 40 instances to upgrade",
		"**Configuration:** 1 change from `origin/main`.\n**Drift repair:** 2 objects changed outside nonstop",
		"<details><summary>Configuration change, origin/main → head (1)</summary>",
		`! service service-000 version "1.4.2" → "1.5.0" (deploy/main.ns.hcl:3)`,
		"<details><summary>Changes to live systems (40)</summary>",
		"<details><summary>Drift repair: objects changed outside nonstop (2)</summary>",
		"! service-000 nginx.edge/web/10.0.0.9:8080 weight 7 -> 1",
		"+ service-000 route nginx.edge/web/beta: not in the configuration (not repaired by this plan)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Count(md, "weight 7 -> 1") != 1 {
		t.Errorf("the repair is listed with the changes to live systems too:\n%s", md)
	}

	parts := RenderPlanReportMarkdown(r, 1500)
	if len(parts) < 3 {
		t.Fatalf("%d parts at 1,500 characters, want several", len(parts))
	}
	for i, part := range parts {
		marker := fmt.Sprintf("<!-- nonstop:plan dir=deploy workspace=default part=%d/%d -->\n### nonstop plan · `deploy`\n", i+1, len(parts))
		if !strings.HasPrefix(part, marker) || len(part) >= 1500 {
			t.Errorf("part %d (%d characters) does not start with its marker and header: %.120q", i+1, len(part), part)
		}
	}
}
