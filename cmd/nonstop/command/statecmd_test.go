package command

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
)

// at returns a fixed time on 1 March 2025, UTC.
func at(hour, min, sec int) time.Time {
	return time.Date(2025, 3, 1, hour, min, sec, 0, time.UTC)
}

// seedState saves a state with three releases into dir's local backend and, with
// journal, the journal of an apply that stopped while deploying.
func seedState(t *testing.T, dir string, journal bool) {
	t.Helper()
	ctx := context.Background()
	b := state.NewLocal(filepath.Join(dir, ".nonstop"))
	id, err := b.Lock(ctx, state.NewLockInfo("test", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unlock(id)
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.ConfigHash, st.Commit, st.AppliedAt = "17ead1b39480d2e147e83960f44ec5525b6e9a44ebab267bee113b027fdcd4ad", "0123abc", at(10, 2, 31)
	st.SetDeployed("shop", "127.0.0.1:18081", "1.1.0")
	st.SetDeployed("shop", "127.0.0.1:18082", "1.1.0")
	st.SetDeployed("cart", "127.0.0.1:19001", "2.0.0")
	st.History = []state.Release{
		{ID: "a1/shop", Service: "shop", From: "0.9.0", To: "1.0.0", Started: at(8, 0, 0), Result: state.ResultInterrupted},
		{ID: "a2/cart", Service: "cart", From: "2.0.0", To: "2.1.0", Started: at(9, 0, 0), Finished: at(9, 4, 10), Result: state.ResultRolledBack},
		{ID: "a3/shop", Service: "shop", From: "1.0.0", To: "1.1.0", Started: at(10, 0, 0), Finished: at(10, 2, 31), Result: state.ResultSuccess, Commit: "0123abc"},
	}
	if journal {
		st.Journal = &state.Journal{ApplyID: "20250301T110000Z-0a1b2c3d", Started: at(11, 0, 0),
			PlanSummary: "2 instances to upgrade, 0 weight changes, 0 route changes, 0 other changes."}
	}
	if err := b.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	if !journal {
		return
	}
	for _, e := range []state.JournalEntry{
		{StepID: "shop.1", Kind: "balancer.set_weight", Target: "fake_lb.edge/shop/127.0.0.1:18081", Event: state.EventStart, At: at(11, 0, 1)},
		{StepID: "shop.1", Kind: "balancer.set_weight", Target: "fake_lb.edge/shop/127.0.0.1:18081", Event: state.EventEnd, At: at(11, 0, 2)},
		{StepID: "shop.2", Kind: "deploy", Target: "shop/a/127.0.0.1:18081", Event: state.EventStart, At: at(11, 0, 3)},
	} {
		if err := b.AppendJournal(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// seedAudit adds to the state seedState saved what applies and commands of
// this nonstop record: who applied, the CI run, the plan hash, a failure with
// its rollback, and a resume and a force-unlock in the audit log.
func seedAudit(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	b := state.NewLocal(filepath.Join(dir, ".nonstop"))
	id, err := b.Lock(ctx, state.NewLockInfo("test", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unlock(id)
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ok := true
	cart, shop := &st.History[1], &st.History[2]
	cart.By, cart.RunURL, cart.PlanHash = "ci-bot", "https://github.example/shop/deploy/actions/runs/4242", "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
	cart.FailedStep, cart.Error, cart.OnFailure, cart.RollbackSucceeded = "cart.4", "health check of 127.0.0.1:19001 failed: 503", "rollback", &ok
	shop.By, shop.PlanHash = "alice@laptop", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	if err := b.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, e := range []state.AuditEntry{
		{At: at(11, 5, 0), Action: state.AuditResume, Who: "alice@laptop", ApplyID: "20250301T110000Z-0a1b2c3d", Step: "shop.3"},
		{At: at(11, 30, 0), Action: state.AuditForceUnlock, Who: "bob", RunURL: "https://gitlab.example/shop/-/jobs/7",
			ApplyID: "20250301T110000Z-0a1b2c3d", LockID: "6f1c2d3e-0000-4000-8000-000000000001",
			Holder: &state.LockInfo{ID: "6f1c2d3e-0000-4000-8000-000000000001", Who: "ci@runner-3", Operation: "apply", Created: at(11, 0, 0)}},
	} {
		if err := state.AppendAudit(ctx, b, e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestStateAndHistoryGolden(t *testing.T) {
	tests := map[string]struct {
		journal bool
		args    []string
		audit   bool
	}{
		"history_audit":      {false, []string{"history"}, true},
		"history_audit_cart": {false, []string{"history", "cart"}, true},
		"state_show_audit":   {false, []string{"state", "show"}, true},
		"state_show":         {false, []string{"state", "show"}, false},
		"state_show_journal": {true, []string{"state", "show"}, false},
		"history":            {false, []string{"history"}, false},
		"history_shop_n1":    {false, []string{"history", "-n", "1", "shop"}, false},
		"history_unknown":    {false, []string{"history", "nosuch"}, false},
		"state_no_subcmd":    {false, []string{"state"}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := fakeFleet(t)
			seedState(t, dir, tc.journal)
			if tc.audit {
				seedAudit(t, dir)
			}
			res := run(t, quiet, "", append(tc.args, dir)...)
			checkGolden(t, filepath.Join("testdata", "apply", name+".txt"), res.String())
		})
	}
}

func TestStateShowEmpty(t *testing.T) {
	dir := fakeFleet(t)
	res := run(t, quiet, "", "state", "show", dir)
	if res.code != 0 || res.stdout != "The state is empty: nothing has been applied with this configuration's state backend yet.\n" {
		t.Errorf("state show of an empty state:\n%s", res)
	}
}

func TestHistoryJSON(t *testing.T) {
	dir := fakeFleet(t)
	seedState(t, dir, false)
	res := run(t, quiet, "", "history", "-json", dir)
	if res.code != 0 {
		t.Fatalf("exit code %d\n%s", res.code, res)
	}
	var got historyJSON
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("history -json is not a JSON document of releases: %v\n%s", err, res.stdout)
	}
	var ids []string
	for _, r := range got.Releases {
		ids = append(ids, r.ID)
	}
	if diff := cmp.Diff([]string{"a3/shop", "a2/cart", "a1/shop"}, ids); diff != "" {
		t.Errorf("releases newest first (-want +got):\n%s", diff)
	}
	if got.FormatVersion != "1.0" || got.Audit == nil || !strings.Contains(res.stdout, `"audit": []`) {
		t.Errorf("history -json: format_version %q, audit %v", got.FormatVersion, got.Audit)
	}

	show := run(t, quiet, "", "state", "show", "-json", dir)
	var st state.State
	if err := json.Unmarshal([]byte(show.stdout), &st); err != nil || show.code != 0 {
		t.Fatalf("state show -json: exit %d, %v\n%s", show.code, err, show)
	}
	if st.Commit != "0123abc" || st.Deployed["shop"]["127.0.0.1:18082"] != "1.1.0" || len(st.History) != 3 {
		t.Errorf("state show -json: %+v", st)
	}
	if !strings.HasPrefix(show.stdout, "{\n  \"format_version\": \"1.0\",\n  \"version\": 1,") {
		t.Errorf("state show -json does not start with format_version:\n%.200s", show.stdout)
	}

	// What applies and commands of this nonstop record comes out whole.
	seedAudit(t, dir)
	res = run(t, quiet, "", "history", "-json", "cart", dir)
	got = historyJSON{}
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil || len(got.Releases) != 1 {
		t.Fatalf("history -json cart: %v\n%s", err, res.stdout)
	}
	cart := got.Releases[0]
	if cart.By != "ci-bot" || cart.RunURL == "" || len(cart.PlanHash) != 64 || cart.FailedStep != "cart.4" ||
		cart.OnFailure != "rollback" || cart.RollbackSucceeded == nil || !*cart.RollbackSucceeded {
		t.Errorf("cart's release: %+v", cart)
	}
	var actions []string
	for _, e := range got.Audit {
		actions = append(actions, e.Action)
	}
	// Newest first; a resume of shop is not cart's.
	if diff := cmp.Diff([]string{state.AuditForceUnlock}, actions); diff != "" {
		t.Errorf("audit of cart (-want +got):\n%s", diff)
	}
	show = run(t, quiet, "", "state", "show", "-json", dir)
	st = state.State{}
	if err := json.Unmarshal([]byte(show.stdout), &st); err != nil || len(st.Audit) != 2 || st.Audit[0].Action != state.AuditResume {
		t.Errorf("state show -json: audit %+v, %v", st.Audit, err)
	}
}

func TestResumeAppendsToResumeFile(t *testing.T) {
	dir := fakeFleet(t)
	writeCanary(t, dir) // a service that pauses; shop.2 is a deploy in flight, shop.3 not reached
	seedState(t, dir, true)
	res := run(t, quiet, "", "resume", dir, "shop.3")
	if res.code != 0 {
		t.Fatalf("exit code %d\n%s", res.code, res)
	}
	if res := run(t, quiet, "", "resume", dir, "shop.7"); res.code != 0 {
		t.Fatalf("exit code %d\n%s", res.code, res)
	}
	path := filepath.Join(dir, ".nonstop", "resume")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ids := executor.WatchResumeFile(ctx, path, 50*time.Millisecond)
	var got []string
	for len(got) < 2 && ctx.Err() == nil {
		select {
		case id := <-ids:
			got = append(got, id)
		case <-ctx.Done():
		}
	}
	if diff := cmp.Diff([]string{"shop.3", "shop.7"}, got); diff != "" {
		t.Errorf("ids the apply's watcher sees (-want +got):\n%s", diff)
	}
	if r := run(t, quiet, "", "resume", dir); r.code != 1 {
		t.Errorf("resume without a step id: exit code %d, want 1\n%s", r.code, r)
	}
}
