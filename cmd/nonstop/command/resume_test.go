package command

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonstop-release/nonstop/executor/state"
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
		})
	}
}
