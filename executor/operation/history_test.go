package operation

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/planner"
)

// TestApplyRecordsWhoAndWhichPlan: a release names who applied (the CI's user),
// the CI run and the plan: for a plan file, the sha256 recorded in it.
func TestApplyRecordsWhoAndWhichPlan(t *testing.T) {
	t.Setenv("NONSTOP_ACTOR", "")
	t.Setenv("GITHUB_ACTOR", "octocat")
	t.Setenv("GITHUB_SERVER_URL", "https://github.example")
	t.Setenv("GITHUB_REPOSITORY", "shop/deploy")
	t.Setenv("GITHUB_RUN_ID", "4242")
	s := newShop(t)
	ctx := context.Background()
	p, ds := Plan(ctx, s.options())
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	planFile := filepath.Join(t.TempDir(), "shop.plan")
	if err := planner.WritePlanFile(planFile, p, s.cfg); err != nil {
		t.Fatal(err)
	}
	pf, err := planner.OpenPlanFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	o := s.options()
	o.PlanFile = planFile
	if r := Apply(ctx, o); r.Err != nil || !r.Ran {
		t.Fatalf("apply: %+v", r)
	}
	h := s.loadState().History
	if len(h) != 1 {
		t.Fatalf("history %+v", h)
	}
	r := h[0]
	if r.By != "octocat" || r.RunURL != "https://github.example/shop/deploy/actions/runs/4242" {
		t.Errorf("by %q, run %q", r.By, r.RunURL)
	}
	if r.PlanHash == "" || r.PlanHash != pf.SHA256 {
		t.Errorf("plan hash %q, want the plan file's sha256 %q", r.PlanHash, pf.SHA256)
	}
	if r.FailedStep != "" || r.Error != "" || r.RollbackSucceeded != nil {
		t.Errorf("a successful release records a failure: %+v", r)
	}
	if got := PlanHash(p); got != pf.SHA256 {
		t.Errorf("PlanHash of the plan written = %q, the file records %q", got, pf.SHA256)
	}
}

// TestRecordResultFailures: the failed step, its error with sensitive values
// redacted and cut to one line, the policy and whether the rollback succeeded.
func TestRecordResultFailures(t *testing.T) {
	s := newShopConfig(t, shopConfig+`
variable "token" {
  type      = string
  sensitive = true
  default   = "s3cr3t-t0ken"
}
`)
	rolledBack := true
	for _, tc := range []struct {
		name string
		sr   *executor.ServiceResult
		want state.Release
	}{
		{"rolled back", &executor.ServiceResult{Service: "shop", Outcome: executor.OutcomeRolledBack, FailedStep: "shop.4",
			Error: "deploy: token s3cr3t-t0ken refused\nsecond line", Policy: executor.PolicyRollback},
			state.Release{Result: state.ResultRolledBack, FailedStep: "shop.4", Error: "deploy: token (sensitive value) refused",
				OnFailure: "rollback", RollbackSucceeded: &rolledBack}},
		{"rollback failed", &executor.ServiceResult{Service: "shop", Outcome: executor.OutcomeRollbackFailed, FailedStep: "shop.2",
			Error: "health", Policy: executor.PolicyRollback, RollbackError: "nginx -t failed"},
			state.Release{Result: state.ResultFailed, FailedStep: "shop.2", Error: "health",
				OnFailure: "rollback", RollbackSucceeded: new(bool), RollbackError: "nginx -t failed"}},
		{"paused", &executor.ServiceResult{Service: "shop", Outcome: executor.OutcomePaused, FailedStep: "shop.3",
			Error: "analysis", Policy: executor.PolicyPause},
			state.Release{Result: state.ResultFailed, FailedStep: "shop.3", Error: "analysis", OnFailure: "pause"}},
		{"skipped", &executor.ServiceResult{Service: "shop", Outcome: executor.OutcomeSkipped, NotRun: []string{"shop.1"},
			SkippedBecause: "it depends on users, which failed"},
			state.Release{Result: state.ResultFailed, Error: "skipped: it depends on users, which failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rel := state.Release{ID: "A1/shop", Service: "shop", Result: state.ResultInterrupted}
			st := &state.State{History: []state.Release{rel}}
			res := &executor.Result{Services: map[string]*executor.ServiceResult{"shop": tc.sr}, Order: []string{"shop"}}
			recordResult(st, s.cfg, res, nil, false, []state.Release{rel}, "")
			got := st.History[0]
			got.ID, got.Service, got.Finished = "", "", tc.want.Finished
			if strings.Contains(got.Error, "s3cr3t") {
				t.Errorf("the history keeps a secret: %q", got.Error)
			}
			if g, w := describeRelease(got), describeRelease(tc.want); g != w {
				t.Errorf("release\n got %s\nwant %s", g, w)
			}
		})
	}

	// A runner error with no service result is recorded on the release.
	rel := state.Release{ID: "A1/shop", Service: "shop", Result: state.ResultInterrupted}
	st := &state.State{History: []state.Release{rel}}
	recordResult(st, s.cfg, nil, errors.New("state lock lost: s3cr3t-t0ken"), false, []state.Release{rel}, "")
	if r := st.History[0]; r.Result != state.ResultFailed || r.Error != "state lock lost: (sensitive value)" {
		t.Errorf("release after a runner error: %+v", r)
	}
}

func describeRelease(r state.Release) string {
	ok := "-"
	if r.RollbackSucceeded != nil {
		ok = map[bool]string{true: "true", false: "false"}[*r.RollbackSucceeded]
	}
	return strings.Join([]string{r.Result, r.FailedStep, r.Error, r.OnFailure, ok, r.RollbackError}, " | ")
}
