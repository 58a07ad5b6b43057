package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
)

// commitAll commits every file of the work tree of repo and returns the commit.
func commitAll(t *testing.T, repo *git.Repository, msg string) plumbing.Hash {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestPlanBaseRealFleet: in pull-request mode the report shows the configuration
// change from the base (the version, with its file:line), the plan, and the weight
// someone set by hand apart, as drift repair; markdown, JSON and text agree.
func TestPlanBaseRealFleet(t *testing.T) {
	f := startFleet(t, "1.4.2", []string{"1.4.2", "1.4.2"})
	repo, err := git.PlainInit(f.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	base := commitAll(t, repo, "base")
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/remotes/origin/main", base)); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(f.dir, "fleet.ns.hcl")
	src, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte(strings.Replace(string(src), `default = "1.4.2"`, `default = "1.5.0"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	head := commitAll(t, repo, "bump")
	b := f.demos[1].Addr
	must(t, "haproxy weight", f.lb.SetMemberWeight(context.Background(), "web", b, 7))

	md := f.nonstop(t, "plan", "-base", "origin/main", "-format", "markdown").mustExit(t, 0)
	versionLine := `! service ` + f.service + ` version "1.4.2" → "1.5.0" (` + cfgFile + `:5)`
	repairLine := `! ` + f.service + ` haproxy.lb/web/` + b + ` weight 7 -> 1`
	for _, want := range []string{
		"<!-- nonstop:plan dir=" + f.dir + " workspace=default -->\n### nonstop plan · `" + f.dir + "` · workspace `default` · commit `" +
			head.String()[:12] + "` · base `origin/main` (`" + base.String()[:12] + "`)\n**Plan:** 2 instances to upgrade",
		"**Configuration:** 1 change from `origin/main`.",
		"**Drift repair:** 1 object changed outside nonstop",
		"<details><summary>Configuration change, origin/main → head (1)</summary>",
		versionLine,
		"<details><summary>Drift repair: objects changed outside nonstop (1)</summary>",
		repairLine,
	} {
		if !strings.Contains(md.stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.stdout)
		}
	}
	live, _, _ := strings.Cut(md.stdout[strings.Index(md.stdout, "Changes to live systems"):], "</details>")
	if strings.Contains(live, b+" weight") {
		t.Errorf("the hand-set weight is listed with the release's changes:\n%s", live)
	}

	js := f.nonstop(t, "plan", "-base", "origin/main", "-json").mustExit(t, 0)
	var rep planReportJSON
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatalf("plan -base -json: %v\n%s", err, js.stdout)
	}
	if rep.FormatVersion != "1.0" || len(rep.Configuration) != 1 || rep.Configuration[0].What != "version" ||
		len(rep.DriftRepair.Changes) != 1 || rep.Base["commit"] != base.String() || rep.Plan.Summary.Upgrades != 2 {
		t.Errorf("plan -base -json = %+v", rep)
	}

	human := f.nonstop(t, "plan", "-base", "origin/main").mustExit(t, 0)
	for _, want := range []string{"Configuration change from origin/main (" + base.String()[:12] + "):",
		strings.Replace(versionLine, "! ", "~ ", 1), "Drift repair: objects changed outside nonstop", "Plan: 2 instances to upgrade"} {
		if !strings.Contains(human.stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, human.stdout)
		}
	}

	r := f.nonstop(t, "plan", "-base", "no-such-branch")
	if r.code != 1 || !strings.Contains(r.stderr, "Cannot read the base configuration") {
		t.Errorf("plan -base of an unknown revision: want exit 1 and the reason\n%s", r)
	}
}

// TestPlanAndDriftDuringApply: while an apply holds the lock, plan and drift say
// which apply and exit 3 in every format (markdown for the pull request or the
// issue, JSON), wait with -lock-timeout, and with -lock=false go ahead with a
// warning. history shows the release as running.
func TestPlanAndDriftDuringApply(t *testing.T) {
	dir := fakeFleet(t)
	b := state.NewLocal(filepath.Join(dir, ".nonstop"))
	ctx := context.Background()
	id, err := b.Lock(ctx, state.NewLockInfo("apply", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = &state.Journal{ApplyID: "20250101T000000Z-aa", Started: time.Now().Add(-2 * time.Minute), PlanSummary: "0 instances to upgrade, 1 weight change."}
	st.History = append(st.History, state.Release{ID: "20250101T000000Z-aa/shop", Service: "shop", From: "1.0.0", To: "1.0.0",
		Started: st.Journal.Started, Result: state.ResultInterrupted})
	if err := b.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := b.AppendJournal(ctx, state.JournalEntry{StepID: "shop.1", Kind: "balancer.set_weight", Target: "fake_lb.edge/shop/127.0.0.1:18081", Event: state.EventStart, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			b.Unlock(id)
			b.Close()
		}
	}
	defer release()

	for _, cmd := range []string{"plan", "drift"} {
		r := run(t, quiet, "", cmd, dir)
		if r.code != 3 || !strings.Contains(r.stderr, "Error: an apply is in progress; "+cmd+" did not wait") ||
			!strings.Contains(r.stderr, "apply 20250101T000000Z-aa by ") || !strings.Contains(r.stderr, "step shop.1 balancer.set_weight") ||
			!strings.Contains(r.stderr, "releasing shop 1.0.0 → 1.0.0") {
			t.Errorf("%s during an apply: want exit 3 naming the apply and its step\n%s", cmd, r)
		}
		md := run(t, quiet, "", cmd, "-format", "markdown", dir)
		if md.code != 3 || !strings.HasPrefix(md.stdout, "<!-- nonstop:"+cmd+" dir="+dir+" workspace=default -->\n") ||
			!strings.Contains(md.stdout, "not made: an apply is in progress") {
			t.Errorf("%s -format markdown during an apply:\n%s", cmd, md)
		}
		js := run(t, quiet, "", cmd, "-json", dir)
		var doc struct {
			FormatVersion string `json:"format_version"`
			Running       struct {
				ApplyID string `json:"apply_id"`
			} `json:"apply_in_progress"`
		}
		if js.code != 3 || json.Unmarshal([]byte(js.stdout), &doc) != nil || doc.FormatVersion != "1.0" || doc.Running.ApplyID != "20250101T000000Z-aa" {
			t.Errorf("%s -json during an apply:\n%s", cmd, js)
		}
	}
	if r := run(t, quiet, "", "plan", "-lock=false", dir); r.code != 0 || !strings.Contains(r.stderr, "An apply is running or was interrupted") {
		t.Errorf("plan -lock=false during an apply: want the plan and a warning\n%s", r)
	}
	if r := run(t, quiet, "", "history", dir); r.code != 0 || !strings.Contains(r.stdout, "running") {
		t.Errorf("history during an apply does not show the release running:\n%s", r)
	}

	go func() {
		time.Sleep(time.Second)
		release()
	}()
	start := time.Now()
	r := run(t, quiet, "", "drift", "-lock-timeout", "30s", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "An apply is in progress; drift waits up to 30s") {
		t.Errorf("drift -lock-timeout 30s: want it to wait, then report the drift (exit 2)\n%s", r)
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Errorf("drift did not wait for the apply (%v)", time.Since(start))
	}
	if r := run(t, quiet, "", "history", dir); !strings.Contains(r.stdout, "interrupted") || strings.Contains(r.stdout, "running") {
		t.Errorf("history after the apply died: want interrupted\n%s", r)
	}
}

// TestPlanMarkdownShowsErrors: a plan that cannot be made prints its errors in
// markdown too, so the pull request shows them, and exits 1.
func TestPlanMarkdownShowsErrors(t *testing.T) {
	dir := fakeFleet(t)
	if err := os.WriteFile(filepath.Join(dir, "live.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, quiet, "", "plan", "-format", "markdown", "-detailed-exitcode", dir)
	if r.code != 1 || !strings.Contains(r.stdout, "**Plan:** failed with") || !strings.Contains(r.stdout, "Refresh failed") ||
		strings.Contains(r.stdout, "No changes") {
		t.Errorf("a plan whose refresh fails: want exit 1 and the errors in markdown\n%s", r)
	}
}

// TestPlanWrongRegistry: a registry address that answers nothing fails the plan
// (never "No changes" with exit 0), in markdown too; a registry that answers but
// lists none of the service's instances (a wrong namespace) is a warning that
// says what it means.
func TestPlanWrongRegistry(t *testing.T) {
	f := startFleet(t, "1.4.2", []string{"1.4.2", "1.4.2"})
	cfgFile := filepath.Join(f.dir, "fleet.ns.hcl")
	src, err := os.ReadFile(cfgFile)
	if err != nil {
		t.Fatal(err)
	}
	pol := sharedPolaris(t)
	unreachable := strings.NewReplacer(`["`+pol.NacosAddr+`"]`, `["127.0.0.1:1"]`, `polaris_address = "`+pol.NativeAddr+`"`, `polaris_address = "127.0.0.1:1"`).Replace(string(src))
	if err := os.WriteFile(cfgFile, []byte(unreachable), 0o644); err != nil {
		t.Fatal(err)
	}
	r := f.nonstop(t, "plan", "-detailed-exitcode")
	if r.code != 1 || !strings.Contains(r.stderr, "Refresh failed") || strings.Contains(r.stdout, "No changes") {
		t.Errorf("plan against an unreachable registry: want exit 1 and the refresh error\n%s", r)
	}
	md := f.nonstop(t, "plan", "-format", "markdown")
	if md.code != 1 || !strings.Contains(md.stdout, "**Plan:** failed with") || !strings.Contains(md.stdout, "127.0.0.1:1") {
		t.Errorf("plan -format markdown against an unreachable registry: want the errors in markdown\n%s", md)
	}
	if d := f.nonstop(t, "drift"); d.code != 1 {
		t.Errorf("drift against an unreachable registry: want exit 1\n%s", d)
	}

	otherNamespace := strings.Replace(string(src), `flavor          = "polaris"`, "flavor          = \"polaris\"\n  namespace       = \"nope\"", 1)
	if err := os.WriteFile(cfgFile, []byte(otherNamespace), 0o644); err != nil {
		t.Fatal(err)
	}
	r = f.nonstop(t, "plan")
	if !strings.Contains(r.stderr, "The registry lists no instance of the service") || !strings.Contains(r.stderr, "lists none of the 2 declared instances") {
		t.Errorf("plan with a namespace that lists nothing: want the warning\n%s", r)
	}
}
