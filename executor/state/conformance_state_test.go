package state

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var ctx = context.Background()

// at returns a fixed UTC time, minutes after a base, for comparable states.
func at(minutes int) time.Time {
	return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

// lockAndLoad locks b for the rest of the test and loads its state.
func lockAndLoad(t *testing.T, b Backend) *State {
	t.Helper()
	id, err := lockFor(b, 5*time.Second)
	if err != nil {
		t.Fatalf("lock: %v", err)
	}
	t.Cleanup(func() { b.Unlock(id) })
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return s
}

// testSaveLoadRoundTrip: what is saved is what another backend loads.
func testSaveLoadRoundTrip(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a, b := open(), open()
	empty, err := b.Load(ctx)
	if err != nil {
		t.Fatalf("load before any save: %v", err)
	}
	if diff := cmp.Diff(NewState(), empty); diff != "" {
		t.Errorf("state before any save (-want +got):\n%s", diff)
	}
	if err := b.Save(ctx, empty); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Save without the lock: got %v, want ErrNotLocked", err)
	}

	s := lockAndLoad(t, a)
	s.ConfigHash = "c0ffee"
	s.Commit = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
	s.AppliedAt = at(5)
	s.SetDeployed("order", "10.0.0.1:8080", "1.4.2")
	s.SetDeployed("order", "10.0.0.2:8080", "1.4.2")
	s.SetDeployed("billing", "10.0.1.1:9000", "2.0.0")
	s.History = []Release{{ID: "r1", Service: "order", From: "1.4.1", To: "1.4.2",
		Started: at(1), Finished: at(4), Result: ResultSuccess, Commit: s.Commit}}
	if err := a.Save(ctx, s); err != nil {
		t.Fatalf("save: %v", err)
	}
	if s.Serial != 1 || s.Lineage == "" || s.Version != FormatVersion {
		t.Errorf("after first save: serial %d, lineage %q, version %d; want 1, a lineage, %d",
			s.Serial, s.Lineage, s.Version, FormatVersion)
	}
	got, err := b.Load(ctx)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("loaded state (-saved +loaded):\n%s", diff)
	}
}

// testSerialAndStaleness: each Save adds one to the serial; saving a state that
// is not the stored one's successor fails with ErrStale.
func testSerialAndStaleness(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a, b := open(), open()
	s := lockAndLoad(t, a)
	for want := int64(1); want <= 3; want++ {
		if err := a.Save(ctx, s); err != nil {
			t.Fatalf("save %d: %v", want, err)
		}
		if s.Serial != want {
			t.Errorf("serial after save %d = %d", want, s.Serial)
		}
	}
	stale, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Save(ctx, s); err != nil { // serial 4; stale is still at 3
		t.Fatal(err)
	}
	otherLineage := *s
	otherLineage.Lineage = "another-lineage"
	cases := map[string]*State{
		"stale serial":    stale,
		"other lineage":   &otherLineage,
		"fresh state":     NewState(),
		"serial from far": {Lineage: s.Lineage, Serial: 99},
	}
	for name, bad := range cases {
		if err := a.Save(ctx, bad); !errors.Is(err, ErrStale) {
			t.Errorf("%s: Save got %v, want ErrStale", name, err)
		}
	}
	got, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial != 4 {
		t.Errorf("stored serial = %d after refused saves, want 4", got.Serial)
	}
}

// testJournal: appended entries (also from parallel steps) are folded into
// State.Journal by Load; a new apply starts a new journal; ending the apply
// drops it.
func testJournal(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a, b := open(), open()
	if err := a.AppendJournal(ctx, JournalEntry{StepID: "s1", Event: EventStart}); !errors.Is(err, ErrNotLocked) {
		t.Errorf("AppendJournal without lock: got %v, want ErrNotLocked", err)
	}
	s := lockAndLoad(t, a)
	if err := a.AppendJournal(ctx, JournalEntry{StepID: "s1", Event: EventStart}); !errors.Is(err, ErrNoJournal) {
		t.Errorf("AppendJournal before a journal was saved: got %v, want ErrNoJournal", err)
	}
	if err := a.AppendJournal(ctx, JournalEntry{StepID: "s1", Event: "begin"}); err == nil {
		t.Errorf("AppendJournal with event \"begin\" succeeded")
	}

	s.Journal = &Journal{ApplyID: "apply-1", Started: at(0), PlanSummary: "Plan: 2 instances to upgrade."}
	if err := a.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	want := []JournalEntry{
		{StepID: "001", Kind: "balancer.set_weight", Target: "nginx.edge/order/10.0.0.1:8080", Event: EventStart, At: at(1)},
		{StepID: "001", Kind: "balancer.set_weight", Target: "nginx.edge/order/10.0.0.1:8080", Event: EventEnd, At: at(2)},
		{StepID: "002", Kind: "deploy", Target: "order/10.0.0.1:8080", Event: EventError, Error: "exit status 1", At: at(3)},
	}
	for _, e := range want {
		if err := a.AppendJournal(ctx, e); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	// Parallel steps append at once; every entry must arrive.
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				e := JournalEntry{StepID: fmt.Sprintf("p%d-%d", g, i), Kind: "wait", Event: EventStart, At: at(10)}
				if err := a.AppendJournal(ctx, e); err != nil {
					t.Errorf("parallel append: %v", err)
				}
			}
		}()
	}
	wg.Wait()

	got, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Journal == nil || len(got.Journal.Entries) != len(want)+20 {
		t.Fatalf("loaded journal = %+v, want %d entries", got.Journal, len(want)+20)
	}
	if diff := cmp.Diff(want, got.Journal.Entries[:len(want)]); diff != "" {
		t.Errorf("journal entries (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, e := range got.Journal.Entries[len(want):] {
		seen[e.StepID] = true
	}
	if len(seen) != 20 {
		t.Errorf("parallel appends: %d distinct entries, want 20", len(seen))
	}
	wantHeader := &Journal{ApplyID: "apply-1", Started: at(0), PlanSummary: "Plan: 2 instances to upgrade."}
	got.Journal.Entries = nil
	if diff := cmp.Diff(wantHeader, got.Journal); diff != "" {
		t.Errorf("journal header (-want +got):\n%s", diff)
	}

	// Saving again within the same apply keeps the entries.
	if err := a.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, b); got.Journal == nil || len(got.Journal.Entries) != len(want)+20 {
		t.Errorf("same apply re-saved: journal %+v, want %d entries kept", got.Journal, len(want)+20)
	}
	// A new apply starts from its own entries only.
	s.Journal = &Journal{ApplyID: "apply-2", Started: at(20), Entries: want[:1]}
	if err := a.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := a.AppendJournal(ctx, want[1]); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:2], mustLoad(t, b).Journal.Entries); diff != "" {
		t.Errorf("new apply's journal (-want +got):\n%s", diff)
	}
	// Ending the apply drops the journal.
	s.Journal = nil
	if err := a.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, b); got.Journal != nil {
		t.Errorf("journal after the apply ended = %+v, want nil", got.Journal)
	}
	if err := a.AppendJournal(ctx, want[0]); !errors.Is(err, ErrNoJournal) {
		t.Errorf("AppendJournal after the journal was dropped: got %v, want ErrNoJournal", err)
	}
}

// testHistory: releases appended over several applies load in order.
func testHistory(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a, b := open(), open()
	s := lockAndLoad(t, a)
	var want []Release
	for i, result := range []string{ResultSuccess, ResultRolledBack, ResultFailed, ResultInterrupted} {
		r := Release{ID: fmt.Sprintf("r%d", i), Service: "order", From: fmt.Sprintf("1.%d", i),
			To: fmt.Sprintf("1.%d", i+1), Started: at(10 * i), Finished: at(10*i + 5), Result: result}
		want = append(want, r)
		s.History = append(s.History, r)
		if err := a.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, mustLoad(t, b).History); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func mustLoad(t *testing.T, b Backend) *State {
	t.Helper()
	s, err := b.Load(ctx)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return s
}
