package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// testCheckLock: CheckLock fails with ErrNotLocked without the lock, passes
// while the lock is held, and fails again after Unlock.
func testCheckLock(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a := open()
	if err := a.CheckLock(ctx); !errors.Is(err, ErrNotLocked) {
		t.Errorf("CheckLock without the lock: got %v, want ErrNotLocked", err)
	}
	id, err := lockFor(a, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := a.CheckLock(ctx); err != nil {
			t.Fatalf("CheckLock while holding the lock: %v", err)
		}
	}
	if err := a.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckLock(ctx); !errors.Is(err, ErrNotLocked) {
		t.Errorf("CheckLock after Unlock: got %v, want ErrNotLocked", err)
	}
}

// testManyLockers starts n lockers at once: exactly one takes the lock, the
// others wait out their timeout and fail naming it. Then n lockers queue with
// a long timeout: each gets the lock in turn, alone, and what each wrote —
// a release, a journal of its own — is all there afterwards, never mixed
// with another's.
func testManyLockers(t *testing.T, kind backendKind) {
	for _, n := range []int{2, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			open := openerFor(t, kind)
			backends := make([]Backend, n)
			for i := range backends {
				backends[i] = open()
			}

			// Round 1: one wins, the others time out naming it.
			const timeout = 500 * time.Millisecond
			ids := make([]string, n)
			errs := make([]error, n)
			waited := make([]time.Duration, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, b := range backends {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					t0 := time.Now()
					ids[i], errs[i] = lockFor(b, timeout)
					waited[i] = time.Since(t0)
				}()
			}
			close(start)
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("lockers %d and %d both took the lock", winner, i)
					}
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("no locker took the lock: %v", errs)
			}
			for i, err := range errs {
				if i == winner {
					continue
				}
				var le *LockError
				if !errors.As(err, &le) || le.Info == nil || le.Info.ID != ids[winner] {
					t.Errorf("locker %d: got %v, want a LockError naming %s", i, err, ids[winner])
				} else if waited[i] < timeout {
					t.Errorf("locker %d gave up after %s, before its %s timeout", i, waited[i], timeout)
				}
			}
			if err := backends[winner].Unlock(ids[winner]); err != nil {
				t.Fatal(err)
			}

			// Round 2: all queue; each holds the lock alone and writes.
			var inside, most atomic.Int32
			errs = make([]error, n)
			for i, b := range backends {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = writeAlone(b, fmt.Sprintf("apply-%d", i), &inside, &most)
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("locker %d: %v", i, err)
				}
			}
			if m := most.Load(); m != 1 {
				t.Errorf("%d lockers held the lock at once", m)
			}
			s := mustLoad(t, open())
			seen := map[string]bool{}
			for _, r := range s.History {
				seen[r.ID] = true
			}
			if len(s.History) != n || len(seen) != n || s.Journal != nil || s.Serial != int64(2*n) {
				t.Errorf("final state: %d releases (%d distinct), journal %+v, serial %d; want %d releases, no journal, serial %d",
					len(s.History), len(seen), s.Journal, s.Serial, n, 2*n)
			}
		})
	}
}

// writeAlone takes b's lock, records a release and a journal of three entries
// under apply ID name, checks that the journal read back is exactly its own,
// drops it and unlocks. inside counts the holders at once; most keeps the
// highest count seen.
func writeAlone(b Backend, name string, inside, most *atomic.Int32) error {
	id, err := lockFor(b, 60*time.Second)
	if err != nil {
		return err
	}
	n := inside.Add(1)
	for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
	}
	defer inside.Add(-1)
	defer b.Unlock(id)
	s, err := b.Load(ctx)
	if err != nil {
		return err
	}
	s.History = append(s.History, Release{ID: name, Service: "svc", Result: ResultSuccess})
	s.Journal = &Journal{ApplyID: name, Started: at(0)}
	if err := b.Save(ctx, s); err != nil {
		return err
	}
	var want []string
	for i := 1; i <= 3; i++ {
		step := fmt.Sprintf("%s.%d", name, i)
		want = append(want, step)
		if err := b.CheckLock(ctx); err != nil {
			return err
		}
		if err := b.AppendJournal(ctx, JournalEntry{StepID: step, Event: EventStart}); err != nil {
			return err
		}
	}
	got, err := b.Load(ctx)
	if err != nil {
		return err
	}
	var steps []string
	for _, e := range got.Journal.Entries {
		steps = append(steps, e.StepID)
	}
	if got.Journal.ApplyID != name || strings.Join(steps, " ") != strings.Join(want, " ") {
		return fmt.Errorf("journal read back: %s %v, want %s %v", got.Journal.ApplyID, steps, name, want)
	}
	got.Journal = nil
	return b.Save(ctx, got)
}

// TestLocalLockLost breaks a local lock under its holder in the ways a flock
// cannot prevent: CheckLock, Save and AppendJournal then fail with
// ErrLockLost, and Unlock leaves the new holder's lock info alone.
func TestLocalLockLost(t *testing.T) {
	cases := map[string]func(t *testing.T, dir string) *Local{
		"lock info names another lock": func(t *testing.T, dir string) *Local {
			li := NewLockInfo("apply", "other")
			data, _ := json.Marshal(li)
			if err := os.WriteFile(filepath.Join(dir, localLockInfo), data, 0o644); err != nil {
				t.Fatal(err)
			}
			return nil
		},
		"lock info removed": func(t *testing.T, dir string) *Local {
			if err := os.Remove(filepath.Join(dir, localLockInfo)); err != nil {
				t.Fatal(err)
			}
			return nil
		},
		"lock file replaced and locked by another": func(t *testing.T, dir string) *Local {
			if err := os.Remove(filepath.Join(dir, localLockFile)); err != nil {
				t.Fatal(err)
			}
			other := NewLocal(dir)
			if _, err := lockFor(other, time.Second); err != nil {
				t.Fatalf("another backend cannot lock the new lock file: %v", err)
			}
			t.Cleanup(func() { other.Close() })
			return other
		},
	}
	for name, breakLock := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a := NewLocal(dir)
			defer a.Close()
			s := lockAndLoad(t, a)
			s.Journal = &Journal{ApplyID: "a", Started: at(0)}
			if err := a.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			other := breakLock(t, dir)
			if err := a.CheckLock(ctx); !errors.Is(err, ErrLockLost) {
				t.Errorf("CheckLock: got %v, want ErrLockLost", err)
			}
			if err := a.AppendJournal(ctx, JournalEntry{StepID: "a.1", Event: EventStart}); !errors.Is(err, ErrLockLost) {
				t.Errorf("AppendJournal: got %v, want ErrLockLost", err)
			}
			if err := a.Save(ctx, s); !errors.Is(err, ErrLockLost) {
				t.Errorf("Save: got %v, want ErrLockLost", err)
			}
			if other != nil {
				if err := a.Close(); !errors.Is(err, ErrLockLost) {
					t.Errorf("Close: got %v, want ErrLockLost", err)
				}
				if err := other.CheckLock(ctx); err != nil {
					t.Errorf("the new holder's lock after the old holder closed: %v", err)
				}
			}
		})
	}
}

// TestPostgresLockLost breaks a postgres lock under its holder: CheckLock
// notices at once, the lock is free for another, and the old holder can
// write nothing more.
func TestPostgresLockLost(t *testing.T) {
	admin, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	pidOf := func(t *testing.T, id string) int32 {
		var pid int32
		if err := admin.QueryRow(ctx, `SELECT pid FROM nonstop_locks WHERE id = $1`, id).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		return pid
	}
	cases := map[string]struct {
		breakLock func(t *testing.T, b Backend, id string)
		free      bool // another backend can take the lock afterwards
	}{
		"force-unlock": {func(t *testing.T, b Backend, id string) {
			if err := b.ForceUnlock(id); err != nil {
				t.Fatal(err)
			}
		}, true},
		"session terminated": {func(t *testing.T, b Backend, id string) {
			if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pidOf(t, id)); err != nil {
				t.Fatal(err)
			}
		}, true},
		"lock info rewritten": {func(t *testing.T, b Backend, id string) {
			if _, err := admin.Exec(ctx, `UPDATE nonstop_locks SET id = 'someone-else' WHERE id = $1`, id); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			open := openerFor(t, backendKinds[1])
			a, b := open(), open()
			s := lockAndLoad(t, a)
			s.Journal = &Journal{ApplyID: "a", Started: at(0)}
			if err := a.Save(ctx, s); err != nil {
				t.Fatal(err)
			}
			id := a.(*Postgres).lockID
			tc.breakLock(t, b, id)
			start := time.Now()
			err := a.CheckLock(ctx)
			if !errors.Is(err, ErrLockLost) {
				t.Fatalf("CheckLock: got %v, want ErrLockLost", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("CheckLock took %s to notice", took)
			}
			if !tc.free {
				return
			}
			if _, err := lockFor(b, 5*time.Second); err != nil {
				t.Fatalf("Lock after the holder lost it: %v", err)
			}
			if err := a.AppendJournal(ctx, JournalEntry{StepID: "a.1", Event: EventStart}); !errors.Is(err, ErrLockLost) {
				t.Errorf("AppendJournal: got %v, want ErrLockLost", err)
			}
			if err := a.Save(ctx, s); !errors.Is(err, ErrLockLost) {
				t.Errorf("Save: got %v, want ErrLockLost", err)
			}
		})
	}
}

// TestPostgresRestartLosesLock restarts the database under a lock holder: the
// holder's CheckLock reports the lost lock, and another backend takes it.
func TestPostgresRestartLosesLock(t *testing.T) {
	pg, err := testfleet.LaunchPostgres()
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	a, err := NewPostgres(pg.DSN, "default")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	lockAndLoad(t, a)
	if err := a.CheckLock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := a.CheckLock(ctx); !errors.Is(err, ErrLockLost) {
		t.Errorf("CheckLock after a restart: got %v, want ErrLockLost", err)
	}
	b, err := NewPostgres(pg.DSN, "default")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := lockFor(b, 5*time.Second); err != nil {
		t.Fatalf("Lock after the restart: %v", err)
	}
}

// TestPostgresBounds points backends at a "database" that accepts connections
// and never answers, and at one that lets clients in and then answers no
// query: every call ends within its bound, with an error naming the database
// and the bound.
func TestPostgresBounds(t *testing.T) {
	silent := "postgres://postgres@" + testfleet.SilentServer(t) + "/postgres?sslmode=disable&connect_timeout=1"
	stalled := testfleet.StalledPostgres(t) + "&statement_timeout=1s"
	cases := map[string]struct {
		dsn   string
		bound string
	}{
		"accepts and never answers": {silent, "no answer within 1s (connect_timeout)"},
		"never answers a query":     {stalled, "within 1s (statement_timeout)"},
	}
	calls := map[string]func(b *Postgres) error{
		"load": func(b *Postgres) error { _, err := b.Load(context.Background()); return err },
		"lock": func(b *Postgres) error {
			_, err := b.Lock(context.Background(), NewLockInfo("apply", "test"))
			return err
		},
		"lock with timeout": func(b *Postgres) error { _, err := lockFor(b, 30*time.Second); return err },
		"force-unlock":      func(b *Postgres) error { return b.ForceUnlock("x") },
	}
	for name, tc := range cases {
		for call, fn := range calls {
			t.Run(name+"/"+call, func(t *testing.T) {
				t.Parallel()
				b, err := NewPostgres(tc.dsn, "default")
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				start := time.Now()
				err = fn(b)
				took := time.Since(start)
				t.Logf("after %s: %v", took.Round(time.Millisecond), err)
				if err == nil || !strings.Contains(err.Error(), tc.bound) || !strings.Contains(err.Error(), "127.0.0.1") {
					t.Errorf("error %v\nwant one naming the database and %q", err, tc.bound)
				}
				if took > 5*time.Second {
					t.Errorf("took %s", took)
				}
			})
		}
	}
}

func TestPgDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"1500": 1500 * time.Millisecond, "2s": 2 * time.Second, "250ms": 250 * time.Millisecond,
		"1min": time.Minute, "1 h": time.Hour, "0": 0,
	} {
		if got, ok := pgDuration(in); !ok || got != want {
			t.Errorf("pgDuration(%q) = %s, %t; want %s", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "soon", "5 fortnights", "-1"} {
		if _, ok := pgDuration(in); ok {
			t.Errorf("pgDuration(%q) accepted", in)
		}
	}
	if _, err := NewPostgres("postgres://h/db?statement_timeout=soon", "w"); err == nil {
		t.Error("NewPostgres accepted statement_timeout=soon")
	}
	b, err := NewPostgres("postgres://h/db", "w")
	if err != nil {
		t.Fatal(err)
	}
	if c, s := b.Bounds(); c != defaultConnectTimeout || s != defaultStatementTimeout {
		t.Errorf("default bounds %s, %s", c, s)
	}
}
