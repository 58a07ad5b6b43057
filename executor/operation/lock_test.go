package operation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
)

// stateKinds are the state backends the lock tests run against: local, and
// postgres on a server of the test's own.
type stateKind struct {
	name string
	// block returns the nonstop block of a configuration keeping its state in
	// a fresh store of this kind ("" for the default local state).
	block func(t *testing.T) string
}

func stateKinds(t *testing.T) []stateKind {
	dsn := testfleet.StartPostgres(t)
	return []stateKind{
		{"local", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string {
			return fmt.Sprintf("nonstop {\n  state \"postgres\" {\n    dsn       = %q\n    workspace = %q\n  }\n}\n", dsn, t.Name())
		}},
	}
}

// openState opens the shop's configured state backend, closed when the test ends.
func (s *shop) openState() state.Backend {
	s.t.Helper()
	b, err := OpenBackend(s.cfg, s.dir)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { b.Close() })
	return b
}

// holderOf returns the lock info of whoever holds the shop's state lock.
func (s *shop) holderOf() *state.LockInfo {
	s.t.Helper()
	_, err := s.openState().Lock(context.Background(), state.NewLockInfo("probe", lang.Version))
	var le *state.LockError
	if !errors.As(err, &le) || le.Info == nil {
		s.t.Fatalf("probing the lock: %v, want the holder", err)
	}
	return le.Info
}

// TestConcurrentApplies starts 2 and 8 applies of one configuration at once,
// on local and on postgres state. While one runs, the others wait out their
// -lock-timeout and fail naming it; with a long timeout they queue, each
// runs alone, and the state holds every release and no journal afterwards.
func TestConcurrentApplies(t *testing.T) {
	for _, kind := range stateKinds(t) {
		for _, n := range []int{2, 8} {
			t.Run(fmt.Sprintf("%s/%d", kind.name, n), func(t *testing.T) {
				s := newShopConfig(t, kind.block(t)+shopConfig)
				applyAll := func(timeout time.Duration) (results []*Result, waited []time.Duration) {
					type done struct {
						r    *Result
						took time.Duration
					}
					out := make(chan done, n)
					start := make(chan struct{})
					for range n {
						go func() {
							o := s.options()
							o.View = &recordingView{approve: true}
							o.LockTimeout = timeout
							<-start
							t0 := time.Now()
							r := Apply(context.Background(), o)
							out <- done{r, time.Since(t0)}
						}()
					}
					close(start)
					for range n {
						d := <-out
						results = append(results, d.r)
						waited = append(waited, d.took)
					}
					return results, waited
				}

				// Round 1: the first write of the winner is held until the others gave up.
				s.fleet.block, s.fleet.writing = make(chan struct{}), make(chan struct{})
				go func() {
					<-s.fleet.writing
					time.Sleep(1500 * time.Millisecond) // longer than the others' lock timeout
					close(s.fleet.block)
				}()
				results, waited := applyAll(time.Second)
				var ran []*Result
				for _, r := range results {
					if r.Ran {
						ran = append(ran, r)
					}
				}
				if len(ran) != 1 || ran[0].Err != nil {
					t.Fatalf("%d applies ran, want exactly 1 (that succeeded): %v", len(ran), errorsOf(results))
				}
				holder := ran[0].LockID
				for i, r := range results {
					if r == ran[0] {
						continue
					}
					var le *state.LockError
					if !errors.As(r.Err, &le) || le.Info == nil || le.Info.ID != holder || le.Info.Operation != "apply" {
						t.Errorf("a waiting apply: %v, want a lock error naming %s", r.Err, holder)
					} else if waited[i] < time.Second {
						t.Errorf("a waiting apply gave up after %s, before its lock timeout", waited[i])
					}
					if r.LockID != "" || r.Plan != nil {
						t.Errorf("a waiting apply planned or took a lock: %+v", r)
					}
				}
				if diff := cmp.Diff(repaired, s.fleet.weights()); diff != "" {
					t.Errorf("live weights (-want +got):\n%s", diff)
				}

				// Round 2: drift again; all queue with a long timeout. One repairs, the
				// others find nothing to do once it is done.
				s.fleet.block = nil
				s.fleet.setWeight("127.0.0.1:18081", 5)
				results, _ = applyAll(60 * time.Second)
				ran = nil
				for _, r := range results {
					if r.Err != nil {
						t.Errorf("a queued apply failed: %v", r.Err)
					}
					if r.Ran {
						ran = append(ran, r)
					} else if !r.NoChanges {
						t.Errorf("a queued apply neither ran nor found no changes: %+v", r)
					}
				}
				if len(ran) != 1 {
					t.Errorf("%d queued applies ran, want 1", len(ran))
				}
				st, err := s.openState().Load(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, rel := range st.History {
					got = append(got, rel.Result)
				}
				if diff := cmp.Diff([]string{state.ResultSuccess, state.ResultSuccess}, got); diff != "" || st.Journal != nil {
					t.Errorf("history (-want +got):\n%s\njournal %+v", diff, st.Journal)
				}
			})
		}
	}
}

func errorsOf(rs []*Result) []string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprint(r.Err))
	}
	return out
}

// TestLostLockStopsApply breaks the state lock of an apply whose first write
// is under way: the apply stops within a lock check's interval, that write
// never lands, nothing more is written (the state neither), and the error
// says the lock was lost. The next apply recovers the journal and converges.
func TestLostLockStopsApply(t *testing.T) {
	kinds := stateKinds(t)
	cases := []struct {
		kind string
		name string
		// breakLock takes the lock from the apply; it returns a backend that
		// holds the lock now, or nil.
		breakLock func(t *testing.T, s *shop, holder *state.LockInfo) state.Backend
	}{
		{"local", "lock file replaced", func(t *testing.T, s *shop, holder *state.LockInfo) state.Backend {
			if err := os.Remove(filepath.Join(s.dir, ".nonstop", "lock")); err != nil {
				t.Fatal(err)
			}
			b := s.openState()
			if _, err := b.Lock(context.Background(), state.NewLockInfo("apply", lang.Version)); err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"postgres", "force-unlock", func(t *testing.T, s *shop, holder *state.LockInfo) state.Backend {
			if err := s.openState().ForceUnlock("not-" + holder.ID); err == nil || !strings.Contains(err.Error(), "does not match") {
				t.Errorf("force-unlock with a wrong ID: %v, want it refused", err)
			}
			if err := s.openState().ForceUnlock(holder.ID); err != nil {
				t.Fatal(err)
			}
			b := s.openState()
			if _, err := b.Lock(context.Background(), state.NewLockInfo("apply", lang.Version)); err != nil {
				t.Fatal(err)
			}
			return b
		}},
		{"postgres", "session terminated", func(t *testing.T, s *shop, holder *state.LockInfo) state.Backend {
			dsn := s.cfg.Nonstop.State.Attrs["dsn"].AsString()
			conn, err := pgx.Connect(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			_, err = conn.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM nonstop_locks WHERE id = $1`, holder.ID)
			if err != nil {
				t.Fatal(err)
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			var block string
			for _, k := range kinds {
				if k.name == tc.kind {
					block = k.block(t)
				}
			}
			s := newShopConfig(t, block+shopConfig)
			s.fleet.block, s.fleet.writing = make(chan struct{}), make(chan struct{})
			done := make(chan *Result, 1)
			go func() { done <- Apply(context.Background(), s.options()) }()
			select {
			case <-s.fleet.writing:
			case <-time.After(20 * time.Second):
				t.Fatal("the apply did not start its write")
			}
			holder := s.holderOf()
			taker := tc.breakLock(t, s, holder)
			broken := time.Now()
			var r *Result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				close(s.fleet.block)
				t.Fatal("the apply did not stop after losing its lock")
			}
			if took := time.Since(broken); took > 3*time.Second {
				t.Errorf("the apply stopped %s after its lock was broken", took)
			}
			if !errors.Is(r.Err, ErrLockLost) || !errors.Is(r.Err, ErrStateNotSaved) || r.Ran {
				t.Fatalf("result: ran %t, error %v; want the lost lock", r.Ran, r.Err)
			}
			t.Logf("apply error: %v", r.Err)
			if diff := cmp.Diff(unrepaired, s.fleet.weights()); diff != "" {
				t.Errorf("a write landed after the lock was lost (-want +got):\n%s", diff)
			}
			s.fleet.block = nil
			if taker != nil {
				if err := taker.CheckLock(context.Background()); err != nil {
					t.Errorf("the lock's new holder: %v", err)
				}
				taker.Close()
			}

			s.view = &recordingView{approve: true}
			next := Apply(context.Background(), s.options())
			if next.Err != nil || !next.Ran {
				t.Fatalf("the next apply: %+v", next)
			}
			if s.view.jrnl == nil || s.view.jrnl.ApplyID == "" {
				t.Errorf("the next apply did not report the stopped apply's journal")
			}
			if diff := cmp.Diff(repaired, s.fleet.weights()); diff != "" {
				t.Errorf("live weights after the next apply (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFenceCheck checks the fence itself: a held lock passes, a lost one fails
// every later check and cancels the run, an interrupted run is not a lost lock.
func TestFenceCheck(t *testing.T) {
	dir := t.TempDir()
	b := state.NewLocal(dir)
	defer b.Close()
	if _, err := b.Lock(context.Background(), state.NewLockInfo("apply", lang.Version)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runCtx, f := startFence(ctx, b)
	if err := f.check(runCtx); err != nil {
		t.Fatalf("check with the lock held: %v", err)
	}
	cancel()
	if err := f.check(runCtx); err != nil {
		t.Errorf("check of an interrupted run: %v", err)
	}
	f.close()

	runCtx, f = startFence(context.Background(), b)
	defer f.close()
	if err := os.WriteFile(filepath.Join(dir, "lock.json"), []byte(`{"id":"another"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-runCtx.Done():
	case <-time.After(10 * lockCheckInterval):
		t.Fatal("the heartbeat did not notice the lost lock")
	}
	if cause := context.Cause(runCtx); !errors.Is(cause, ErrLockLost) || !errors.Is(cause, state.ErrLockLost) {
		t.Errorf("cause %v", cause)
	}
	for range 2 {
		if err := f.check(context.Background()); !errors.Is(err, state.ErrLockLost) || !strings.Contains(err.Error(), "another") {
			t.Errorf("check after the loss: %v", err)
		}
	}
}
