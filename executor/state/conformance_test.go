package state

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestConformance runs the same suite against every backend kind.
func TestConformance(t *testing.T) {
	suite := map[string]func(t *testing.T, kind backendKind){
		"LockContention":     testLockContention,
		"LockMisuse":         testLockMisuse,
		"ForceUnlockLive":    testForceUnlockLive,
		"KilledHolder":       testKilledHolder,
		"ForceUnlockDead":    testForceUnlockDead,
		"SaveLoadRoundTrip":  testSaveLoadRoundTrip,
		"SerialAndStaleness": testSerialAndStaleness,
		"Journal":            testJournal,
		"History":            testHistory,
		"CheckLock":          testCheckLock,
		"ManyLockers":        testManyLockers,
	}
	for _, kind := range backendKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			for name, test := range suite {
				t.Run(name, func(t *testing.T) { test(t, kind) })
			}
		})
	}
}

// testLockContention: a second locker waits out its lock timeout and fails
// with the holder's info, fails at once without a deadline, and gets the lock
// when the holder unlocks while it waits.
func testLockContention(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a, b := open(), open()
	info := NewLockInfo("apply", "1.2.3")
	info.Info = "holder A"
	idA, err := a.Lock(context.Background(), info)
	if err != nil {
		t.Fatalf("lock A: %v", err)
	}
	if idA != info.ID {
		t.Errorf("Lock returned ID %q, want the info's ID %q", idA, info.ID)
	}

	const timeout = 300 * time.Millisecond
	start := time.Now()
	_, err = lockFor(b, timeout)
	if waited := time.Since(start); waited < timeout {
		t.Errorf("second Lock gave up after %s, before its %s timeout", waited, timeout)
	}
	var lockErr *LockError
	if !errors.As(err, &lockErr) {
		t.Fatalf("second Lock: got %v, want a *LockError", err)
	}
	want := *info
	want.Path = lockErr.Info.Path
	if diff := cmp.Diff(&want, lockErr.Info); diff != "" {
		t.Errorf("holder info (-want +got):\n%s", diff)
	}
	if lockErr.Info.Path == "" {
		t.Errorf("holder info has no Path")
	}
	if msg := err.Error(); !strings.Contains(msg, "Error acquiring the state lock") || !strings.Contains(msg, idA) {
		t.Errorf("lock error message lacks the title or the holder's ID:\n%s", msg)
	}

	// Without a deadline: exactly one try.
	if _, err := b.Lock(context.Background(), NewLockInfo("apply", "test")); !errors.As(err, &lockErr) {
		t.Fatalf("Lock without deadline while held: got %v, want a *LockError", err)
	}

	// A waiting locker gets the lock once the holder lets go.
	got := make(chan error, 1)
	go func() {
		id, err := lockFor(b, 20*time.Second)
		if err == nil {
			err = b.Unlock(id)
		}
		got <- err
	}()
	time.Sleep(3 * lockPollInterval)
	if err := a.Unlock(idA); err != nil {
		t.Fatalf("unlock A: %v", err)
	}
	if err := <-got; err != nil {
		t.Fatalf("waiting Lock after unlock: %v", err)
	}
}

// testLockMisuse: wrong IDs, double locks and unlocks without a lock fail.
func testLockMisuse(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a := open()
	if err := a.Unlock("nope"); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Unlock without lock: got %v, want ErrNotLocked", err)
	}
	id, err := lockFor(a, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockFor(a, time.Second); err == nil {
		t.Errorf("second Lock on the same backend succeeded")
	}
	if err := a.Unlock("nope"); err == nil {
		t.Errorf("Unlock with a wrong ID succeeded")
	}
	if err := a.Unlock(id); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if err := a.Unlock(id); !errors.Is(err, ErrNotLocked) {
		t.Errorf("second Unlock: got %v, want ErrNotLocked", err)
	}
	// Close releases a held lock.
	if _, err := lockFor(a, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	b := open()
	if _, err := b.Lock(context.Background(), NewLockInfo("apply", "test")); err != nil {
		t.Errorf("Lock after the holder closed: %v", err)
	}
}

// testForceUnlockLive: ForceUnlock checks the ID, then breaks a running
// holder's lock where the backend can (postgres) and refuses where it cannot
// (local).
func testForceUnlockLive(t *testing.T, kind backendKind) {
	open := openerFor(t, kind)
	a, b := open(), open()
	idA, err := lockFor(a, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlock("not-the-id"); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("ForceUnlock with a wrong ID: got %v, want an ID mismatch", err)
	}
	err = b.ForceUnlock(idA)
	if !kind.breaksLiveLock {
		if err == nil {
			t.Fatalf("ForceUnlock of a live holder's lock succeeded")
		}
		if _, err := b.Lock(context.Background(), NewLockInfo("apply", "test")); err == nil {
			t.Errorf("Lock succeeded after a refused ForceUnlock")
		}
		return
	}
	if err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	if _, err := b.Lock(context.Background(), NewLockInfo("apply", "test")); err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	// The broken holder can no longer write.
	s := NewState()
	if err := a.Save(context.Background(), s); !errors.Is(err, ErrLockLost) {
		t.Errorf("Save by the holder whose lock was broken: got %v, want ErrLockLost", err)
	}
	if err := a.AppendJournal(context.Background(), JournalEntry{StepID: "s", Event: EventStart}); !errors.Is(err, ErrLockLost) {
		t.Errorf("AppendJournal by the holder whose lock was broken: got %v, want ErrLockLost", err)
	}
}

// testKilledHolder: a holder killed with SIGKILL leaves no lock behind.
func testKilledHolder(t *testing.T, kind backendKind) {
	name, attrs := kind.store(t)
	h := startHolder(t, name, attrs)
	b, err := Open(name, attrs, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	_, err = lockFor(b, 200*time.Millisecond)
	var lockErr *LockError
	if !errors.As(err, &lockErr) {
		t.Fatalf("Lock while the child holds it: got %v, want a *LockError", err)
	}
	if lockErr.Info.ID != h.id || lockErr.Info.Info != "helper process" || lockErr.Info.Version != "helper" {
		t.Errorf("holder info = %+v, want the child's lock %s", lockErr.Info, h.id)
	}
	h.kill()
	if _, err := lockFor(b, 10*time.Second); err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
}

// testForceUnlockDead: ForceUnlock clears the lock info a killed holder left.
func testForceUnlockDead(t *testing.T, kind backendKind) {
	name, attrs := kind.store(t)
	h := startHolder(t, name, attrs)
	h.kill()
	b, err := Open(name, attrs, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.ForceUnlock("not-the-id"); err == nil {
		t.Errorf("ForceUnlock with a wrong ID succeeded")
	}
	if err := b.ForceUnlock(h.id); err != nil {
		t.Fatalf("ForceUnlock of the dead holder's lock: %v", err)
	}
	if err := b.ForceUnlock(h.id); err == nil {
		t.Errorf("second ForceUnlock succeeded: the lock info was not removed")
	}
	if _, err := lockFor(b, 10*time.Second); err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
}
