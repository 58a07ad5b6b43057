package views

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

func TestRenderPlanMarkdownGolden(t *testing.T) {
	parts := RenderPlanMarkdown(renderTestPlan(), 0)
	if len(parts) != 1 {
		t.Fatalf("%d parts, want 1", len(parts))
	}
	checkGolden(t, "plan/plan.md", parts[0])
}

func TestRenderPlanMarkdownSplitGolden(t *testing.T) {
	parts := RenderPlanMarkdown(syntheticPlan(30), 1500)
	if len(parts) < 3 {
		t.Fatalf("%d parts, want at least 3 at 1500 characters", len(parts))
	}
	checkMarkdownParts(t, parts, 1500)
	checkGolden(t, "plan/plan-split.md", strings.Join(parts, "\n<!-- ---- next comment ---- -->\n"))
}

func TestRenderPlanMarkdownNoChanges(t *testing.T) {
	got := RenderPlanMarkdown(&planner.Plan{FormatVersion: planner.FormatVersion}, 0)
	want := []string{"**Plan:** No changes. Live state matches the configuration.\n"}
	if len(got) != 1 || got[0] != want[0] {
		t.Errorf("RenderPlanMarkdown = %q, want %q", got, want)
	}
}

// syntheticPlan builds a plan of n deploy steps over services of 100 instances.
func syntheticPlan(n int) *planner.Plan {
	p := &planner.Plan{FormatVersion: planner.FormatVersion, Summary: planner.Summary{Upgrades: n, EstimatedWall: planner.Duration(time.Duration(n) * time.Second)}}
	prev := ""
	for i := range n {
		svc := fmt.Sprintf("service-%03d", i/100)
		addr := fmt.Sprintf("a/10.0.%d.%d:8080", i/250, i%250)
		p.Changes = append(p.Changes, planner.Change{Action: planner.Update, Service: svc, Object: "instance", Address: addr,
			Field: "version", Before: "1.4.2", After: "1.5.0"})
		id := fmt.Sprintf("s%d", i)
		st := planner.Step{ID: id, Kind: planner.Deploy, Service: svc, Target: svc + "/" + addr,
			Args: planner.StepArgs{Version: "1.5.0", FromVersion: "1.4.2"}}
		if prev != "" {
			st.After = []string{prev}
		}
		p.Steps = append(p.Steps, st)
		prev = id
	}
	return p
}

var fenceLine = regexp.MustCompile("^`{3,}")

// checkMarkdownParts checks every part is under maxChars, balances its code fences and
// details blocks, and carries its part header.
func checkMarkdownParts(t *testing.T, parts []string, maxChars int) {
	t.Helper()
	for i, part := range parts {
		if len(part) >= maxChars {
			t.Errorf("part %d has %d characters, want fewer than %d", i+1, len(part), maxChars)
		}
		fences := 0
		for _, l := range strings.Split(part, "\n") {
			if fenceLine.MatchString(l) {
				fences++
			}
		}
		if fences%2 != 0 {
			t.Errorf("part %d leaves a code block open (%d fence lines)", i+1, fences)
		}
		if o, c := strings.Count(part, "<details>"), strings.Count(part, "</details>"); o != c {
			t.Errorf("part %d opens %d <details> and closes %d", i+1, o, c)
		}
		if len(parts) > 1 && !strings.Contains(strings.SplitN(part, "\n", 2)[0], fmt.Sprintf("(part %d of %d)", i+1, len(parts))) {
			t.Errorf("part %d does not start with its part header: %q", i+1, strings.SplitN(part, "\n", 2)[0])
		}
	}
	if !strings.HasPrefix(parts[0], "**Plan:** ") {
		t.Errorf("first part does not start with the summary line: %.60q", parts[0])
	}
}

func TestRenderPlanMarkdownTenThousandSteps(t *testing.T) {
	p := syntheticPlan(10000)
	parts := RenderPlanMarkdown(p, 0)
	if len(parts) < 2 {
		t.Fatalf("%d parts, want several", len(parts))
	}
	checkMarkdownParts(t, parts, DefaultMarkdownMaxChars)

	all := strings.Join(parts, "\n")
	stepLines := map[string]int{}
	stepLine := regexp.MustCompile(`^\s*(\d+)\. deploy `)
	for _, l := range strings.Split(all, "\n") {
		if m := stepLine.FindStringSubmatch(l); m != nil {
			stepLines[m[1]]++
		}
	}
	for i := 1; i <= len(p.Steps); i++ {
		if n := stepLines[fmt.Sprint(i)]; n != 1 {
			t.Fatalf("step %d appears %d times across the parts, want once", i, n)
		}
	}
	for _, c := range p.Changes[:50] {
		if !strings.Contains(all, "! "+c.Service+" "+c.Address+` version "1.4.2" -> "1.5.0"`) {
			t.Fatalf("change %s %s is missing", c.Service, c.Address)
		}
	}
}

func TestRenderPlanMarkdownFencesOutlastBackticks(t *testing.T) {
	p := &planner.Plan{Changes: []planner.Change{{Action: planner.Update, Service: "s", Address: "a/h:1", Field: "version", Before: "```1", After: "2"}}}
	part := RenderPlanMarkdown(p, 0)[0]
	if !strings.Contains(part, "````diff\n") || !strings.Contains(part, "\n````\n") {
		t.Errorf("a value holding ``` must be fenced with ````:\n%s", part)
	}
}

func TestRenderPlanMarkdownTruncatesHugeLines(t *testing.T) {
	p := &planner.Plan{Changes: []planner.Change{{Action: planner.Update, Service: "s", Address: "a/h:1", Field: "note", Before: strings.Repeat("é", 5000), After: "x"}}}
	parts := RenderPlanMarkdown(p, 1000)
	checkMarkdownParts(t, parts, 1000)
	if !strings.Contains(parts[0], "…") {
		t.Errorf("an overlong line was not cut:\n%s", parts[0])
	}
}

func BenchmarkRenderPlanMarkdownTenThousandSteps(b *testing.B) {
	p := syntheticPlan(10000)
	for b.Loop() {
		RenderPlanMarkdown(p, 0)
	}
}
