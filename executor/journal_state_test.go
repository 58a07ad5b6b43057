package executor

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/planner"
)

func TestBackendJournalWritesToLocalState(t *testing.T) {
	ctx := context.Background()
	b := state.NewLocal(t.TempDir())
	defer b.Close()
	id, err := b.Lock(ctx, &state.LockInfo{ID: "apply-1", Who: "test@host", Operation: "apply", Created: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unlock(id)
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Journal = &state.Journal{ApplyID: "apply-1", Started: time.Now()}
	if err := b.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	steps := []planner.Step{
		step("s.1", planner.Pause, "s", planner.StepArgs{Duration: ms(1)}),
		step("s.2", planner.GateAnalysis, "s", planner.StepArgs{Analysis: []string{"undeclared"}}, "s.1"),
	}
	if _, err := (&Runner{Config: bareConfig("s"), Journal: BackendJournal(b)}).Apply(ctx, &planner.Plan{Steps: steps}); err == nil {
		t.Fatal("the gate on an undeclared analysis passed")
	}
	loaded, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range loaded.Journal.Entries {
		got = append(got, e.StepID+" "+e.Kind+" "+e.Event+" "+e.Error)
	}
	want := []string{"s.1 pause start ", "s.1 pause end ", "s.2 gate.analysis start ",
		`s.2 gate.analysis error service s has no analysis "undeclared"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("journal entries (-want +got):\n%s", diff)
	}
}
