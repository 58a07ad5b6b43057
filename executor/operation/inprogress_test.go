package operation

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// runningApply takes the shop's lock as an apply does and writes its journal: one
// release recorded as interrupted (as apply records it until it ends) and step
// shop.2 in flight. release lets go of the lock.
func runningApply(t *testing.T, s *shop) (release func()) {
	t.Helper()
	ctx := context.Background()
	b := s.backend()
	id, err := b.Lock(ctx, state.NewLockInfo("apply", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(-time.Minute)
	st.Journal = &state.Journal{ApplyID: "A1", Started: started, PlanSummary: "2 instances to upgrade."}
	st.History = append(st.History, state.Release{ID: "A1/shop", Service: "shop", From: "1.0.0", To: "1.1.0",
		Started: started, Result: state.ResultInterrupted})
	if err := b.Save(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, e := range []state.JournalEntry{
		{StepID: "shop.1", Kind: "balancer.set_weight", Target: "nginx.edge/shop/127.0.0.1:18081", Event: state.EventStart, At: started},
		{StepID: "shop.1", Kind: "balancer.set_weight", Target: "nginx.edge/shop/127.0.0.1:18081", Event: state.EventEnd, At: started},
		{StepID: "shop.2", Kind: "deploy", Target: "shop/a/127.0.0.1:18081", Address: "127.0.0.1:18081", Event: state.EventStart, At: time.Now().Add(-5 * time.Second)},
	} {
		if err := b.AppendJournal(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	done := false
	return func() {
		if !done {
			done = true
			b.Unlock(id)
			b.Close()
		}
	}
}

// TestWhenIdleReportsRunningApply: with an apply holding the lock, plan neither
// plans nor waits by default: it returns the apply, which says which release,
// since when and which step.
func TestWhenIdleReportsRunningApply(t *testing.T) {
	s := newShop(t)
	release := runningApply(t, s)
	defer release()
	var calls atomic.Int32
	var told []*ApplyInProgress
	_, _, running := WhenIdle(context.Background(), s.options(), Wait{Progress: func(a *ApplyInProgress) { told = append(told, a) }},
		func() (int, diags.Diagnostics) { calls.Add(1); return 1, nil })
	if running == nil {
		t.Fatal("no apply reported while one holds the lock")
	}
	if calls.Load() != 0 {
		t.Errorf("fn ran %d times while an apply runs", calls.Load())
	}
	if len(told) != 1 {
		t.Errorf("progress told %d times, want 1", len(told))
	}
	text := strings.Join(running.Lines(time.Now()), "\n")
	for _, want := range []string{"apply A1 by ", "(1m0s ago)", "releasing shop 1.0.0 → 1.1.0",
		"step shop.2 deploy shop/a/127.0.0.1:18081 running for 5s", "1 step(s) done", "plan: 2 instances to upgrade."} {
		if !strings.Contains(text, want) {
			t.Errorf("the description lacks %q:\n%s", want, text)
		}
	}
	if running.Lock.Operation != "apply" || running.Lock.Who == "" {
		t.Errorf("lock info = %+v", running.Lock)
	}

	// history shows the release as running while the apply holds the lock...
	st := s.loadState()
	b := s.backend()
	if a := MarkRunning(context.Background(), b, st); a == nil || st.History[0].Result != ResultRunning {
		t.Errorf("MarkRunning = %v, history %+v; want the release running", a, st.History)
	}
	b.Close()
	// ... and as interrupted once it is gone.
	release()
	st = s.loadState()
	b = s.backend()
	defer b.Close()
	if a := MarkRunning(context.Background(), b, st); a != nil || st.History[0].Result != state.ResultInterrupted {
		t.Errorf("after the apply died: MarkRunning = %v, history %+v; want interrupted", a, st.History)
	}
}

// TestWhenIdleWaitsForApply: with a timeout, plan waits for the apply to end and
// then plans; an apply that ends after the timeout is reported.
func TestWhenIdleWaitsForApply(t *testing.T) {
	s := newShop(t)
	// The goroutine gets its own release: the flock it lets go of tells WhenIdle
	// nothing the race detector sees, so the variable must not be reused below.
	first := runningApply(t, s)
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(700 * time.Millisecond)
		first()
	}()
	start := time.Now()
	got, _, running := WhenIdle(context.Background(), s.options(), Wait{Timeout: 10 * time.Second, Poll: 100 * time.Millisecond},
		func() (string, diags.Diagnostics) { return "planned", nil })
	if running != nil || got != "planned" {
		t.Fatalf("WhenIdle = %q, %v; want planned after the apply ended", got, running)
	}
	if waited := time.Since(start); waited < 600*time.Millisecond {
		t.Errorf("planned after %v, before the apply ended", waited)
	}
	<-released

	release := runningApply(t, s)
	defer release()
	start = time.Now()
	_, _, running = WhenIdle(context.Background(), s.options(), Wait{Timeout: 400 * time.Millisecond, Poll: 100 * time.Millisecond},
		func() (string, diags.Diagnostics) { return "planned", nil })
	if running == nil {
		t.Fatal("no apply reported after the timeout")
	}
	if waited := time.Since(start); waited < 400*time.Millisecond || waited > 3*time.Second {
		t.Errorf("gave up after %v, want about the 400ms timeout", waited)
	}
}

// TestWhenIdleRereadsAfterAnApplyStarted: an apply that takes the lock while live
// state is read makes that read worthless: it is made again once the apply is gone.
func TestWhenIdleRereadsAfterAnApplyStarted(t *testing.T) {
	s := newShop(t)
	var release func()
	var calls int
	got, _, running := WhenIdle(context.Background(), s.options(), Wait{Timeout: 10 * time.Second, Poll: 50 * time.Millisecond},
		func() (int, diags.Diagnostics) {
			calls++
			if calls == 1 {
				release = runningApply(t, s)
				go func() { time.Sleep(300 * time.Millisecond); release() }()
			}
			return calls, nil
		})
	if running != nil || got != 2 {
		t.Errorf("WhenIdle = %d, %v; want the second read", got, running)
	}
}

// TestWhenIdleNoState: without a state directory there is no lock to look at, and
// none is created; -lock=false warns about a journal without looking at the lock.
func TestWhenIdleNoState(t *testing.T) {
	s := newShop(t)
	got, ds, running := WhenIdle(context.Background(), s.options(), Wait{}, func() (int, diags.Diagnostics) { return 7, nil })
	if got != 7 || running != nil || len(ds) != 0 {
		t.Errorf("WhenIdle = %d, %v, %v", got, running, ds)
	}
	if _, err := os.Stat(filepath.Join(s.dir, ".nonstop")); !os.IsNotExist(err) {
		t.Errorf("looking at the lock created the state directory (%v)", err)
	}
	release := runningApply(t, s)
	defer release()
	got, ds, running = WhenIdle(context.Background(), s.options(), Wait{NoLock: true}, func() (int, diags.Diagnostics) { return 8, nil })
	if got != 8 || running != nil || len(ds) != 1 || !strings.Contains(ds[0].Detail, "journal of apply A1") {
		t.Errorf("WhenIdle -lock=false = %d, %v, %v; want a warning about the journal", got, running, ds)
	}
}
