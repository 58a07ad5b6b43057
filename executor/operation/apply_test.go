package operation

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

var (
	repaired   = map[string]int{"127.0.0.1:18081": 1, "127.0.0.1:18082": 1}
	unrepaired = map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 1}
)

func TestApplyRunsRecordsAndUnlocks(t *testing.T) {
	s := newShop(t)
	r := Apply(context.Background(), s.options())
	if r.Err != nil || !r.Ran || r.NoChanges || r.Apply == nil || r.LockID == "" || r.UnlockErr != nil {
		t.Fatalf("result %+v", r)
	}
	if got := s.view.sequence(); got != "plan approve result" {
		t.Errorf("view calls %q, want plan, approve, result", got)
	}
	if s.view.result != r || s.view.plan != r.Plan {
		t.Error("the view was not shown the plan and result Apply returned")
	}
	if diff := cmp.Diff(repaired, s.fleet.weights()); diff != "" {
		t.Errorf("live weights (-want +got):\n%s", diff)
	}
	st := s.loadState()
	if st.ConfigHash != s.cfg.Hash || st.AppliedAt.IsZero() || st.Journal != nil || len(st.History) != 1 {
		t.Fatalf("state: hash %q (want %q), applied at %v, journal %+v, history %+v", st.ConfigHash, s.cfg.Hash, st.AppliedAt, st.Journal, st.History)
	}
	h := st.History[0]
	if got := []string{h.Service, h.From, h.To, h.Result}; !cmp.Equal(got, []string{"shop", "1.0.0", "1.0.0", state.ResultSuccess}) {
		t.Errorf("release %v", got)
	}
	// The lock was released: another holder can take it.
	b := s.backend()
	defer b.Close()
	id, err := b.Lock(context.Background(), state.NewLockInfo("test", lang.Version))
	if err != nil {
		t.Fatalf("the lock is still held after the apply: %v", err)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}

	again := Apply(context.Background(), s.options())
	if again.Err != nil || !again.NoChanges || again.Ran {
		t.Errorf("second apply: want no changes, got %+v", again)
	}
}

func TestApplyHeldLock(t *testing.T) {
	s := newShop(t)
	b := s.backend()
	defer b.Close()
	id, err := b.Lock(context.Background(), state.NewLockInfo("apply", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	o := s.options()
	o.LockTimeout = 300 * time.Millisecond
	start := time.Now()
	r := Apply(context.Background(), o)
	var lockErr *state.LockError
	if !errors.As(r.Err, &lockErr) || lockErr.Info == nil || lockErr.Info.ID != id {
		t.Fatalf("want a lock error naming holder %s, got %v", id, r.Err)
	}
	if waited := time.Since(start); waited < o.LockTimeout {
		t.Errorf("gave up after %v, before the lock timeout", waited)
	}
	if got := s.view.sequence(); got != "result" {
		t.Errorf("view calls %q, want only the result", got)
	}
	if r.LockID != "" || r.Ran {
		t.Errorf("result %+v", r)
	}
	if diff := cmp.Diff(unrepaired, s.fleet.weights()); diff != "" {
		t.Errorf("live weights changed without the lock (-want +got):\n%s", diff)
	}
}

func TestApplyNotApprovedChangesNothing(t *testing.T) {
	s := newShop(t)
	s.view.approve = false
	r := Apply(context.Background(), s.options())
	if !errors.Is(r.Err, ErrNotApproved) || r.Plan == nil || r.Ran {
		t.Fatalf("result %+v", r)
	}
	if diff := cmp.Diff(unrepaired, s.fleet.weights()); diff != "" {
		t.Errorf("an unapproved apply changed live state (-want +got):\n%s", diff)
	}
	if st := s.loadState(); st.Serial != 0 {
		t.Errorf("an unapproved apply wrote state: %+v", st)
	}

	// Auto-approve does not ask.
	s.view.calls = nil
	o := s.options()
	o.AutoApprove = true
	if r := Apply(context.Background(), o); r.Err != nil {
		t.Fatalf("auto-approved apply: %v", r.Err)
	}
	if got := s.view.sequence(); got != "plan result" {
		t.Errorf("view calls %q, want plan, result", got)
	}
}

func TestApplyDiagnosticsStop(t *testing.T) {
	s := newShop(t)
	o := s.options()
	o.Targets = []string{"nope"}
	r := Apply(context.Background(), o)
	if !errors.Is(r.Err, ErrDiagnostics) || len(s.view.ds) != 1 || s.view.ds[0].Summary != "Invalid target" {
		t.Fatalf("result %+v, diagnostics %v", r, s.view.ds)
	}
}

// TestApplyInterruptedByContext cancels an apply while its write is under way: the
// steps stop, the release is recorded as interrupted, the journal is dropped and
// the lock released.
func TestApplyInterruptedByContext(t *testing.T) {
	s := newShop(t)
	s.fleet.block, s.fleet.writing = make(chan struct{}), make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Result, 1)
	go func() { done <- Apply(ctx, s.options()) }()
	select {
	case <-s.fleet.writing:
	case <-time.After(10 * time.Second):
		t.Fatal("the apply did not start its write")
	}
	cancel()
	var r *Result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the apply did not stop")
	}
	if !r.Ran || !r.Interrupted || r.Err == nil {
		t.Fatalf("result %+v", r)
	}
	st := s.loadState()
	if st.Journal != nil || len(st.History) != 1 || st.History[0].Result != state.ResultInterrupted || st.ConfigHash != "" {
		t.Errorf("state: journal %+v, history %+v, config hash %q", st.Journal, st.History, st.ConfigHash)
	}
	if diff := cmp.Diff(unrepaired, s.fleet.weights()); diff != "" {
		t.Errorf("the interrupted write happened anyway (-want +got):\n%s", diff)
	}
}

// TestApplyRecoversInterruptedJournal starts from the state a killed apply left:
// a journal with a deploy in flight. The next apply reports it, records its
// releases as interrupted, forgets the version of the instance it was deploying,
// and then applies.
func TestApplyRecoversInterruptedJournal(t *testing.T) {
	s := newShop(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := s.loadState()
	st.SetDeployed("shop", "127.0.0.1:18081", "0.9.0")
	st.SetDeployed("shop", "127.0.0.1:18082", "0.9.0")
	st.History = []state.Release{{ID: "old/shop", Service: "shop", From: "0.9.0", To: "1.0.0", Started: t0, Result: state.ResultInterrupted}}
	st.Journal = &state.Journal{ApplyID: "old", Started: t0, PlanSummary: "2 instances to upgrade", Entries: []state.JournalEntry{
		{StepID: "shop.1", Kind: "balancer.set_weight", Target: "nginx.edge/shop/127.0.0.1:18081", Event: state.EventStart, At: t0.Add(time.Second)},
		{StepID: "shop.1", Kind: "balancer.set_weight", Target: "nginx.edge/shop/127.0.0.1:18081", Event: state.EventEnd, At: t0.Add(2 * time.Second)},
		{StepID: "shop.2", Kind: "deploy", Target: "shop/a/127.0.0.1:18081", Event: state.EventStart, At: t0.Add(3 * time.Second)},
		{StepID: "cart.1", Kind: "pause", Target: "cart", Event: state.EventStart, At: t0.Add(4 * time.Second)},
	}}
	s.saveState(st)

	r := Apply(context.Background(), s.options())
	if r.Err != nil || !r.Ran {
		t.Fatalf("result %+v", r)
	}
	if got := s.view.sequence(); got != "interrupted plan approve result" {
		t.Errorf("view calls %q", got)
	}
	if s.view.jrnl == nil || s.view.jrnl.ApplyID != "old" || len(s.view.jrnl.Entries) != 4 {
		t.Errorf("the view was shown journal %+v", s.view.jrnl)
	}
	st = s.loadState()
	if st.Journal != nil || len(st.History) != 3 {
		t.Fatalf("state: journal %+v, history %+v", st.Journal, st.History)
	}
	last := t0.Add(4 * time.Second)
	old, cart, now := st.History[0], st.History[1], st.History[2]
	if old.Result != state.ResultInterrupted || !old.Finished.Equal(last) {
		t.Errorf("the interrupted release: %+v, want interrupted, finished at %v", old, last)
	}
	if cart.ID != "old/cart" || cart.Result != state.ResultInterrupted || !cart.Started.Equal(last) || !cart.Finished.Equal(last) {
		t.Errorf("the release of a service the journal alone names: %+v", cart)
	}
	if now.Service != "shop" || now.Result != state.ResultSuccess {
		t.Errorf("this apply's release: %+v", now)
	}
	want := map[string]map[string]string{"shop": {"127.0.0.1:18082": "0.9.0"}}
	if diff := cmp.Diff(want, st.Deployed); diff != "" {
		t.Errorf("deployed versions (-want +got): the version of the instance whose deploy was in flight must be forgotten\n%s", diff)
	}
}

func TestJournalProgress(t *testing.T) {
	j := &state.Journal{Entries: []state.JournalEntry{
		{StepID: "a.1", Event: state.EventStart}, {StepID: "a.1", Event: state.EventEnd},
		{StepID: "a.2", Event: state.EventStart}, {StepID: "a.2", Event: state.EventError, Error: "boom"},
		{StepID: "a.3", Event: state.EventStart}, {StepID: "b.1", Event: state.EventStart},
	}}
	inFlight, failed, done := JournalProgress(j)
	var ids []string
	for _, e := range inFlight {
		ids = append(ids, e.StepID)
	}
	if !cmp.Equal(ids, []string{"a.3", "b.1"}) || len(failed) != 1 || failed[0].Error != "boom" || done != 1 {
		t.Errorf("in flight %v, failed %+v, done %d", ids, failed, done)
	}
}

func TestApplyRefusesStalePlanFile(t *testing.T) {
	s := newShop(t)
	ctx := context.Background()
	p, ds := Plan(ctx, s.options())
	if ds.HasErrors() || !p.HasChanges() {
		t.Fatalf("plan: %v, %+v", ds, p)
	}
	planFile := filepath.Join(t.TempDir(), "shop.plan")
	if err := planner.WritePlanFile(planFile, p, s.cfg); err != nil {
		t.Fatal(err)
	}
	s.fleet.setWeight("127.0.0.1:18082", 3) // by hand, after the plan

	o := s.options()
	o.PlanFile = planFile
	r := Apply(ctx, o)
	var stale *StaleError
	if !errors.As(r.Err, &stale) {
		t.Fatalf("want a stale plan error, got %+v", r)
	}
	wantObj := []planner.StaleObject{{Key: "shop/member/http/127.0.0.1:18082", Change: "changed", Field: "weight", Before: "1", After: "3"}}
	if diff := cmp.Diff(wantObj, stale.Objects); diff != "" {
		t.Errorf("stale objects (-want +got):\n%s", diff)
	}
	want := "plan is stale: shop 127.0.0.1:18082 weight on balancer http changed from 1 to 3 since the plan was made"
	if r.Err.Error() != want {
		t.Errorf("error %q, want %q", r.Err, want)
	}
	if s.view.asked != 0 {
		t.Error("a plan file asked for approval")
	}
	if diff := cmp.Diff(map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 3}, s.fleet.weights()); diff != "" {
		t.Errorf("a refused plan changed live state (-want +got):\n%s", diff)
	}

	// A fresh plan file applies without approval.
	s.view.approve = false
	p, _ = Plan(ctx, s.options())
	if err := planner.WritePlanFile(planFile, p, s.cfg); err != nil {
		t.Fatal(err)
	}
	if r := Apply(ctx, o); r.Err != nil || !r.Ran {
		t.Fatalf("fresh plan: %+v", r)
	}
	if diff := cmp.Diff(repaired, s.fleet.weights()); diff != "" {
		t.Errorf("live weights after the fresh plan (-want +got):\n%s", diff)
	}
}

func TestApplyRefusesPlanOfOtherConfig(t *testing.T) {
	s := newShop(t)
	p, _ := Plan(context.Background(), s.options())
	planFile := filepath.Join(t.TempDir(), "shop.plan")
	other := *s.cfg
	other.Hash = "another"
	if err := planner.WritePlanFile(planFile, p, &other); err != nil {
		t.Fatal(err)
	}
	o := s.options()
	o.PlanFile = planFile
	if r := Apply(context.Background(), o); !errors.Is(r.Err, ErrPlanConfig) {
		t.Fatalf("want ErrPlanConfig, got %v", r.Err)
	}
}

// TestPlanKnowsVersionsFromState checks that Plan, without the lock, reads the
// versions nonstop last deployed where the registry hides them.
func TestPlanKnowsVersionsFromState(t *testing.T) {
	s := newShop(t)
	s.fleet.setWeight("127.0.0.1:18081", 1)
	for _, addr := range shopAddrs {
		in := s.fleet.instances[addr]
		in.Version, in.VersionKnown, in.Metadata = "", false, nil
		s.fleet.instances[addr] = in
	}
	p, ds := Plan(context.Background(), s.options())
	if ds.HasErrors() || p.Summary.Upgrades != 2 {
		t.Fatalf("with hidden versions and no state: %v, %d upgrades, want 2", ds, p.Summary.Upgrades)
	}
	st := s.loadState()
	for _, addr := range shopAddrs {
		st.SetDeployed("shop", addr, "1.0.0")
	}
	s.saveState(st)
	p, ds = Plan(context.Background(), s.options())
	if ds.HasErrors() || p.HasChanges() {
		t.Errorf("with the versions in the state: %v, %+v; want no changes", ds, p)
	}
}
