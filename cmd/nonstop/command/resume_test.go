package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
)

// canaryConfig is fakeConfig with a canary whose first step waits for a resume.
var canaryConfig = strings.Replace(fakeConfig, `strategy "rolling" {
    batch = "group"
  }`, `strategy "canary" {
    step {
      weight = 50
      pause  = "manual"
    }
    step { weight = 100 }
  }`, 1)

// writeCanary replaces the configuration fakeFleet wrote in dir with canaryConfig.
func writeCanary(t *testing.T, dir string) {
	t.Helper()
	if canaryConfig == fakeConfig {
		t.Fatal("fakeConfig no longer has the rolling strategy canaryConfig replaces")
	}
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(canaryConfig), 0o644); err != nil {
		t.Fatal(err)
	}
}

// appendJournal adds entries to the journal seedState started in dir.
func appendJournal(t *testing.T, dir string, entries ...state.JournalEntry) {
	t.Helper()
	ctx := context.Background()
	b := state.NewLocal(filepath.Join(dir, ".nonstop"))
	id, err := b.Lock(ctx, state.NewLockInfo("test", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unlock(id)
	// A Save with the journal's own apply ID keeps its entries and lets this
	// backend append to them.
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		e.At = at(11, 1, 0)
		if err := b.AppendJournal(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestResumeRefusesWhatIsNotAPause checks every step id resume refuses, and the
// two it accepts: a pause in flight, and a step the apply has not reached (with
// a warning that the journal cannot tell). Only accepted ids reach the resume file.
func TestResumeRefusesWhatIsNotAPause(t *testing.T) {
	tests := map[string]struct {
		rolling bool // keep fakeFleet's rolling strategy
		journal bool
		step    string
		code    int
		want    string
	}{
		"not a step id":          {journal: true, step: "shop", code: 1, want: `"shop" is not a step id`},
		"step number zero":       {journal: true, step: "shop.0", code: 1, want: "is not a step id"},
		"rollback step":          {journal: true, step: "shop.rollback.2", code: 1, want: "is not a step id"},
		"undeclared service":     {journal: true, step: "cart.3", code: 1, want: `declares no service "cart" (its services: shop)`},
		"service without pauses": {rolling: true, journal: true, step: "shop.3", code: 1, want: `service "shop" has no canary step with pause = "manual"`},
		"no apply running":       {step: "shop.3", code: 1, want: "no apply is running its steps"},
		"step already run":       {journal: true, step: "shop.1", code: 1, want: "step shop.1 (balancer.set_weight) of the apply 20250301T110000Z-0a1b2c3d has already run"},
		"step in flight not a pause": {journal: true, step: "shop.2", code: 1,
			want: "step shop.2 of the apply 20250301T110000Z-0a1b2c3d is a deploy step, not a pause"},
		"failed step":     {journal: true, step: "shop.5", code: 1, want: "step shop.5 (wait.healthy) of the apply 20250301T110000Z-0a1b2c3d failed"},
		"pause in flight": {journal: true, step: "shop.4", code: 0, want: "is at step shop.4 (pause) and continues past it within a second"},
		"gate in flight":  {journal: true, step: "shop.6", code: 0, want: "is at step shop.6 (gate.analysis)"},
		"not reached yet": {journal: true, step: "shop.9", code: 0, want: "cannot check that shop.9 is a pause of its plan"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := fakeFleet(t)
			if !tc.rolling {
				writeCanary(t, dir)
			}
			seedState(t, dir, tc.journal)
			if tc.journal {
				appendJournal(t, dir,
					state.JournalEntry{StepID: "shop.4", Kind: "pause", Target: "shop", Event: state.EventStart},
					state.JournalEntry{StepID: "shop.5", Kind: "wait.healthy", Target: "shop/a/127.0.0.1:18081", Event: state.EventStart},
					state.JournalEntry{StepID: "shop.5", Kind: "wait.healthy", Target: "shop/a/127.0.0.1:18081", Event: state.EventError, Error: "503"},
					state.JournalEntry{StepID: "shop.6", Kind: "gate.analysis", Target: "shop", Event: state.EventStart},
				)
			}
			res := run(t, quiet, "", "resume", dir, tc.step)
			if res.code != tc.code || !strings.Contains(strings.Join(strings.Fields(res.stdout+res.stderr), " "), tc.want) {
				t.Errorf("exit code %d, want %d, and output saying %q:\n%s", res.code, tc.code, tc.want, res)
			}
			recorded, _ := os.ReadFile(filepath.Join(dir, ".nonstop", "resume"))
			if want := map[bool]string{true: tc.step + "\n", false: ""}[tc.code == 0]; string(recorded) != want {
				t.Errorf("resume file holds %q, want %q", recorded, want)
			}
			// An accepted resume is in the audit log, a refused one is not.
			st, err := state.NewLocal(filepath.Join(dir, ".nonstop")).Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tc.code == 0 && (len(st.Audit) != 1 || st.Audit[0].Action != state.AuditResume || st.Audit[0].Step != tc.step ||
				st.Audit[0].ApplyID != "20250301T110000Z-0a1b2c3d" || st.Audit[0].Who == "" || st.Audit[0].At.IsZero()) {
				t.Errorf("audit log after the resume: %+v", st.Audit)
			}
			if tc.code != 0 && len(st.Audit) != 0 {
				t.Errorf("a refused resume is in the audit log: %+v", st.Audit)
			}
		})
	}
}

// TestResumeFromAnotherMachine: with postgres state, a resume given from
// another copy of the configuration (another machine) reaches the running
// apply through the database, not a local file, and is audited with who gave
// it and in which CI run; a force-unlock given there is audited with the lock's
// holder; history lists both.
func TestResumeFromAnotherMachine(t *testing.T) {
	dsn := testfleet.StartPostgres(t)
	dirs := []string{fakeFleet(t), fakeFleet(t)} // the apply's machine, another
	for _, dir := range dirs {
		if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(postgresBlock+canaryConfig), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The apply: it holds the lock, its journal shows the pause in flight.
	apply, err := state.NewPostgres(dsn, "default")
	if err != nil {
		t.Fatal(err)
	}
	defer apply.Close()
	info := state.NewLockInfo("apply", lang.Version)
	info.Who = "ci@runner-3"
	lockID, err := apply.Lock(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	st, err := apply.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.Journal = &state.Journal{ApplyID: "A1", Started: time.Now()}
	if err := apply.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := apply.AppendJournal(ctx, state.JournalEntry{StepID: "shop.4", Kind: "pause", Target: "shop", Event: state.EventStart}); err != nil {
		t.Fatal(err)
	}
	resumes := operation.WatchResumes(ctx, apply, dirs[0], "A1", 50*time.Millisecond, nil)

	env := map[string]string{"NONSTOP_LOG": "error", "NONSTOP_PG_DSN": dsn, "NONSTOP_ACTOR": "carol",
		"CI_JOB_URL": "https://gitlab.example/shop/-/jobs/7"}
	res := run(t, env, "", "resume", dirs[1], "shop.4")
	if res.code != 0 || !strings.Contains(res.stdout, `postgres workspace "default"`) || !strings.Contains(res.stdout, "for apply A1") {
		t.Fatalf("resume from another machine: %s", res)
	}
	select {
	case id := <-resumes:
		if id != "shop.4" {
			t.Errorf("the apply got resume %q", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the apply did not get the resume within 5s")
	}
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, ".nonstop", "resume")); !os.IsNotExist(err) {
			t.Errorf("a resume file was written in %s (%v)", dir, err)
		}
	}

	// The lock broken from the other machine too.
	if res := run(t, env, "", "force-unlock", "-force", lockID, dirs[1]); res.code != 0 {
		t.Fatalf("force-unlock: %s", res)
	}
	hist := run(t, env, "", "history", "-json", dirs[1])
	var h historyJSON
	if err := json.Unmarshal([]byte(hist.stdout), &h); err != nil || len(h.Audit) != 2 {
		t.Fatalf("history -json: %v\n%s", err, hist)
	}
	unlock, resume := h.Audit[0], h.Audit[1] // newest first
	if resume.Action != state.AuditResume || resume.Step != "shop.4" || resume.ApplyID != "A1" || resume.Who != "carol" ||
		resume.RunURL != "https://gitlab.example/shop/-/jobs/7" {
		t.Errorf("audited resume: %+v", resume)
	}
	if unlock.Action != state.AuditForceUnlock || unlock.LockID != lockID || unlock.ApplyID != "A1" || unlock.Who != "carol" ||
		unlock.Holder == nil || unlock.Holder.Who != "ci@runner-3" || unlock.Holder.Operation != "apply" {
		t.Errorf("audited force-unlock: %+v", unlock)
	}
	human := run(t, env, "", "history", dirs[1])
	for _, want := range []string{"Other actions on the state:", "carol (https://gitlab.example/shop/-/jobs/7)",
		"resume of step shop.4 of apply A1", "force-unlock of lock " + lockID + " (held by ci@runner-3 for apply since"} {
		if !strings.Contains(human.stdout, want) {
			t.Errorf("history lacks %q:\n%s", want, human)
		}
	}
}
