package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/planner"
)

// TestPlanRealFleet plans a rolling upgrade 1.4.2 → 1.5.0 of four instances
// behind real nginx and HAProxy, registered in Polaris: the human plan, the exit
// codes, the JSON, a saved plan shown again, markdown, and no changes once the
// configuration asks for the running version.
func TestPlanRealFleet(t *testing.T) {
	f := startFleet(t, "1.5.0", []string{"1.4.2", "1.4.2", "1.4.2", "1.4.2"})

	human := f.nonstop(t, "plan").mustExit(t, 0)
	wantLines := []string{"nonstop will make these changes:", "Steps:", "# " + f.service,
		"Plan: 4 instances to upgrade"}
	for _, d := range f.demos {
		wantLines = append(wantLines, "deploy", d.Addr)
	}
	for _, w := range wantLines {
		if !strings.Contains(human.stdout, w) {
			t.Errorf("plan output has no %q:\n%s", w, human.stdout)
		}
	}
	if !hasLineWith(human.stdout, "~", f.service, f.demos[0].Addr, `version "1.4.2" -> "1.5.0"`) {
		t.Errorf("plan output has no version change line for %s:\n%s", f.demos[0].Addr, human.stdout)
	}
	f.nonstop(t, "plan", "-detailed-exitcode").mustExit(t, 2)
	f.nonstop(t, "plan", "-detailed-exitcode", "-target", "service."+f.service).mustExit(t, 2)

	planFile := filepath.Join(t.TempDir(), "release.plan")
	js := f.nonstop(t, "plan", "-json", "-out", planFile).mustExit(t, 0)
	var p planner.Plan
	if err := json.Unmarshal([]byte(js.stdout), &p); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, js.stdout)
	}
	deploys := 0
	for _, s := range p.Steps {
		if s.Kind == planner.Deploy {
			deploys++
		}
	}
	if p.FormatVersion != "1.0" || p.Summary.Upgrades != 4 || deploys != 4 || p.Prior.ConfigHash == "" {
		t.Errorf("plan -json: format_version %q, %d upgrades, %d deploy steps, config hash %q; want 1.0, 4, 4, set",
			p.FormatVersion, p.Summary.Upgrades, deploys, p.Prior.ConfigHash)
	}

	shownJSON := run(t, nil, "", "show", "-json", planFile).mustExit(t, 0)
	if diff := cmp.Diff(js.stdout, shownJSON.stdout); diff != "" {
		t.Errorf("show -json differs from the plan -json that saved the file (-plan +show):\n%s", diff)
	}
	shown := run(t, nil, "", "show", planFile).mustExit(t, 0)
	if !strings.HasPrefix(shown.stdout, "Plan file "+planFile+", made by nonstop ") || !strings.HasSuffix(shown.stdout, "\n\n"+human.stdout) {
		t.Errorf("show does not print the header and then the plan as plan printed it:\n%s\n--- plan printed:\n%s", shown.stdout, human.stdout)
	}

	md := f.nonstop(t, "plan", "-format", "markdown").mustExit(t, 0)
	header := "<!-- nonstop:plan dir=" + f.dir + " workspace=default -->\n### nonstop plan · `" + f.dir + "` · workspace `default`\n"
	if !strings.HasPrefix(md.stdout, header+"**Plan:** 4 instances to upgrade") {
		t.Errorf("markdown does not start with the marker, the header and the summary line:\n%s", md.stdout)
	}
	if strings.Contains(md.stdout, markdownPartSeparator) {
		t.Errorf("a short plan was split into parts:\n%s", md.stdout)
	}

	same := f.nonstop(t, "plan", "-detailed-exitcode", "-var", "version=1.4.2").mustExit(t, 0)
	if same.stdout != views.NoChangesMessage+"\n" {
		t.Errorf("plan for the running version printed %q, want %q", same.stdout, views.NoChangesMessage+"\n")
	}
	if _, err := os.Stat(planFile); err != nil {
		t.Error(err)
	}
}

// hasLineWith reports whether one line of out contains every part.
func hasLineWith(out string, parts ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestPlanRefreshFalse: -refresh=false is refused, saying why, in every format
// (the markdown a pull request shows, the JSON document); -refresh alone, or
// true, is accepted, as Terraform's default.
func TestPlanRefreshFalse(t *testing.T) {
	dir := fakeFleet(t)
	human := run(t, quiet, "", "plan", "-refresh=false", dir)
	if human.code != 1 || !strings.Contains(human.stderr, "-refresh=false is not supported") ||
		!strings.Contains(human.stderr, "nonstop stores no copy of live state") || human.stdout != "" {
		t.Errorf("plan -refresh=false: %s", human)
	}
	md := run(t, quiet, "", "plan", "-format", "markdown", "-refresh=false", dir)
	if md.code != 1 || !strings.Contains(md.stdout, "<!-- nonstop:plan") || !strings.Contains(md.stdout, "-refresh=false is not supported") {
		t.Errorf("plan -format markdown -refresh=false: %s", md)
	}
	js := run(t, quiet, "", "plan", "-json", "-refresh=false", dir)
	if js.code != 1 || !strings.Contains(js.stdout, `"format_version": "1.0"`) || !strings.Contains(js.stdout, "-refresh=false is not supported") {
		t.Errorf("plan -json -refresh=false: %s", js)
	}
	for _, flag := range []string{"-refresh", "-refresh=true"} {
		if res := run(t, quiet, "", "plan", flag, dir); res.code != 0 {
			t.Errorf("plan %s: %s", flag, res)
		}
	}
}
