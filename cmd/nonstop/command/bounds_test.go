package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
)

// stateOnly is a configuration that only names its state backend.
const stateOnly = `
nonstop {
  state "postgres" {
    dsn = %q
  }
}
`

// TestBinaryUnresponsiveStateDatabase runs the commands that read the state
// against a "database" that accepts connections and never answers, and
// against one that lets clients in and then answers no query: each command
// fails within about its bound (1s here, from the DSN) with an error naming
// the database and the bound; -lock-timeout does not stretch it.
func TestBinaryUnresponsiveStateDatabase(t *testing.T) {
	silent := testfleet.SilentServer(t)
	stalled := testfleet.StalledPostgres(t)
	databases := map[string]struct {
		dsn, want string
	}{
		"accepts and never answers": {"postgres://postgres@" + silent + "/postgres?sslmode=disable&connect_timeout=1",
			"no answer within 1s (connect_timeout)"},
		"never answers a query": {stalled + "&statement_timeout=1s", "did not answer within 1s (statement_timeout)"},
	}
	commands := [][]string{
		{"history"},
		{"state", "show"},
		{"force-unlock", "-force", "some-id"},
		{"apply", "-auto-approve", "-lock-timeout", "60s"},
	}
	for name, db := range databases {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "state.ns.hcl"), []byte(fmt.Sprintf(stateOnly, db.dsn)), 0o644); err != nil {
			t.Fatal(err)
		}
		host, _, _ := strings.Cut(strings.TrimPrefix(db.dsn, "postgres://postgres@"), "/")
		for _, args := range commands {
			t.Run(name+"/"+strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				res := runBinary(t, dir, quiet, append(args, dir)...)
				took := time.Since(start)
				if res.code != 1 {
					t.Errorf("exit code %d, want 1\n%s", res.code, res)
				}
				if !strings.Contains(res.stderr, db.want) || !strings.Contains(res.stderr, "postgres://"+host+"/postgres") {
					t.Errorf("stderr lacks %q or the database %s:\n%s", db.want, host, res.stderr)
				}
				if took > 6*time.Second {
					t.Errorf("took %s with a bound of 1s", took)
				}
			})
		}
	}
}

// TestForceUnlockRefused runs force-unlock against a local lock held by a
// live process: a wrong ID is refused naming the lock, and the right one is
// refused too (a flock cannot be broken from outside); the lock stays held.
func TestForceUnlockRefused(t *testing.T) {
	dir := fakeFleet(t)
	b := state.NewLocal(filepath.Join(dir, ".nonstop"))
	id, err := b.Lock(context.Background(), state.NewLockInfo("apply", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Unlock(id)
	res := run(t, quiet, "", "force-unlock", "-force", "wrong-id", dir)
	if res.code != 1 || !strings.Contains(res.stderr, `lock ID "wrong-id" does not match the existing lock ID "`+id+`"`) {
		t.Errorf("force-unlock with a wrong ID:\n%s", res)
	}
	res = run(t, quiet, "", "force-unlock", "-force", id, dir)
	if res.code != 1 || !strings.Contains(res.stderr, "held by a running process") {
		t.Errorf("force-unlock of a live holder's lock:\n%s", res)
	}
	if err := b.CheckLock(context.Background()); err != nil {
		t.Errorf("the holder's lock after the refused force-unlocks: %v", err)
	}
}
