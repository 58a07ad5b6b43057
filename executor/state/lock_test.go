package state

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestLockErrorMessage pins the Terraform-style lock error block.
func TestLockErrorMessage(t *testing.T) {
	err := &LockError{
		Info: &LockInfo{
			ID:        "9a1c6f2e-3d4b-4f5a-8b6c-7d8e9f0a1b2c",
			Who:       "deploy@ci-runner-7",
			Operation: "apply",
			Created:   time.Date(2025, 3, 1, 9, 30, 15, 123456000, time.UTC),
			Version:   "0.4.0",
			Path:      ".nonstop/lock",
		},
		Err: fmt.Errorf("the state is locked by another process: %w", context.DeadlineExceeded),
	}
	golden(t, "lock_error.golden", err.Error()+"\n")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Unwrap lost the reason")
	}
}

// TestNewLockInfo checks the defaults a new lock info gets.
func TestNewLockInfo(t *testing.T) {
	a, b := NewLockInfo("apply", "0.4.0"), NewLockInfo("apply", "0.4.0")
	if a.ID == b.ID || len(a.ID) != 36 {
		t.Errorf("IDs %q and %q: want two different UUIDs", a.ID, b.ID)
	}
	if !strings.Contains(a.Who, "@") {
		t.Errorf("Who = %q, want user@host", a.Who)
	}
	if a.Operation != "apply" || a.Version != "0.4.0" || time.Since(a.Created) > time.Minute {
		t.Errorf("NewLockInfo = %+v", a)
	}
}

// TestLockInfoDefaults checks that Lock fills in what a caller leaves out.
func TestLockInfoDefaults(t *testing.T) {
	b := NewLocal(t.TempDir())
	c := NewLocal(b.Dir())
	id, err := b.Lock(context.Background(), &LockInfo{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unlock(id)
	_, err = c.Lock(context.Background(), nil)
	var lockErr *LockError
	if !errors.As(err, &lockErr) {
		t.Fatalf("got %v, want a *LockError", err)
	}
	got := lockErr.Info
	if got.ID != id || got.Who == "" || got.Created.IsZero() || got.Path != filepath.Join(b.Dir(), "lock") {
		t.Errorf("recorded lock info %+v: want ID %s, Who, Created and Path filled in", got, id)
	}
}
