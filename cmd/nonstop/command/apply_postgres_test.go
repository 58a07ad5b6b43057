package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
)

// postgresBlock keeps killConfig's state in PostgreSQL, at the DSN of the
// environment, as a CI runner sharing its state with others would.
const postgresBlock = `
nonstop {
  state "postgres" {
    dsn = env("NONSTOP_PG_DSN")
  }
}
`

// TestBinaryApplyPostgresLock runs applies of the built binary against a real
// PostgreSQL state: while one apply holds the advisory lock (in a slow deploy), a
// second one waits for its -lock-timeout and fails naming the holder; the holder
// is killed with SIGKILL, which must release the lock with its session; a third
// apply then recovers the interrupted journal and converges, and state show and
// history read it all back from PostgreSQL.
func TestBinaryApplyPostgresLock(t *testing.T) {
	dsn := testfleet.StartPostgres(t)
	backends := testfleet.StartBackends(t, 2)
	nginx := testfleet.StartNginx(t, testfleet.NginxOptions{Pools: map[string][]string{"web": {backends[0].Addr, backends[1].Addr}}})
	dir := t.TempDir()
	cfg := postgresBlock + fmt.Sprintf(killConfig, nginx.UpstreamsFile, hclList(nginx.Command("-t")),
		hclList(nginx.Command("-s", "reload")), backends[0].Addr, backends[1].Addr)
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NONSTOP_LOG": "warn", "NONSTOP_PG_DSN": dsn}
	pg, err := state.NewPostgres(dsn, "default")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })

	// The first apply holds the lock through a deploy that sleeps for a minute.
	cmd := exec.Command(binary, "apply", "-auto-approve", "-var", "deploy_sleep=60", dir)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NONSTOP_LOG=warn", "NONSTOP_PG_DSN=" + dsn}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
		}
	})
	eventually(t, 30*time.Second, "the first apply journals a deploy in postgres", func() string {
		st, err := pg.Load(context.Background())
		if err != nil {
			return err.Error()
		}
		if st.Journal != nil {
			for _, e := range st.Journal.Entries {
				if e.Kind == "deploy" {
					return ""
				}
			}
		}
		return fmt.Sprintf("journal %+v\noutput:\n%s", st.Journal, out.String())
	})

	// The holder, as PostgreSQL itself reports it to anyone trying the lock.
	holder := lockHolder(t, pg)
	if holder.Operation != "apply" || holder.ID == "" {
		t.Fatalf("lock holder %+v, want an apply", holder)
	}

	start := time.Now()
	second := runBinary(t, dir, env, "apply", "-auto-approve", "-lock-timeout", "1s", dir)
	waited := time.Since(start)
	if second.code != 1 {
		t.Errorf("second apply: exit code %d, want 1\n%s", second.code, second)
	}
	for _, want := range []string{
		"Error acquiring the state lock",
		"ID:        " + holder.ID,
		"Operation: apply",
		"Who:       " + holder.Who,
		"Created:   " + holder.Created.UTC().Format("2006-01-02 15:04:05.999999999 -0700 MST"),
		`workspace "default"`,
	} {
		if !strings.Contains(second.stderr, want) {
			t.Errorf("second apply's error lacks %q:\n%s", want, second.stderr)
		}
	}
	if waited < time.Second {
		t.Errorf("second apply gave up after %v, before its -lock-timeout of 1s", waited)
	}

	// SIGKILL: no deferred unlock runs; the lock goes with the database session.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	killed = true

	third := runBinary(t, dir, env, "apply", "-auto-approve", "-lock-timeout", "10s", dir)
	if third.code != 0 {
		t.Fatalf("apply after the kill: exit code %d\n%s\nkilled apply's output:\n%s", third.code, third, out.String())
	}
	for _, want := range []string{"A previous apply (", "in flight: shop.", "deploy shop/a/" + backends[0].Addr, "Apply complete!"} {
		if !strings.Contains(third.stdout, want) {
			t.Errorf("apply after the kill: stdout lacks %q:\n%s", want, third)
		}
	}

	// state show and history read what the applies left in postgres.
	show := runBinary(t, dir, env, "state", "show", "-json", dir)
	if show.code != 0 {
		t.Fatalf("state show: exit code %d\n%s", show.code, show)
	}
	var st state.State
	if err := json.Unmarshal([]byte(show.stdout), &st); err != nil {
		t.Fatalf("state show -json: %v\n%s", err, show.stdout)
	}
	wantDeployed := map[string]string{backends[0].Addr: "2.0.0", backends[1].Addr: "2.0.0"}
	if diff := cmp.Diff(wantDeployed, st.Deployed["shop"]); diff != "" {
		t.Errorf("state show: deployed versions (-want +got):\n%s", diff)
	}
	if st.Journal != nil || st.ConfigHash == "" {
		t.Errorf("state show: journal %+v, config hash %q; want no journal and the applied hash", st.Journal, st.ConfigHash)
	}
	hist := runBinary(t, dir, env, "history", "-json", dir)
	if hist.code != 0 {
		t.Fatalf("history: exit code %d\n%s", hist.code, hist)
	}
	var history historyJSON
	if err := json.Unmarshal([]byte(hist.stdout), &history); err != nil {
		t.Fatalf("history -json: %v\n%s", err, hist.stdout)
	}
	var results []string
	for _, r := range history.Releases {
		results = append(results, r.Service+" "+r.Result)
	}
	// Newest first: the converging apply, then the killed one.
	if diff := cmp.Diff([]string{"shop success", "shop interrupted"}, results); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, ".nonstop", "state.json")); !os.IsNotExist(err) {
		t.Errorf("a local state.json exists beside the postgres state: %v", err)
	}
}

// lockHolder tries the lock once and returns the holder's info from the error.
func lockHolder(t *testing.T, b state.Backend) *state.LockInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	id, err := b.Lock(ctx, state.NewLockInfo("test", lang.Version))
	if err == nil {
		b.Unlock(id)
		t.Fatal("the test took the lock: the apply does not hold it")
	}
	var le *state.LockError
	if !errors.As(err, &le) || le.Info == nil {
		t.Fatalf("lock: %v, want a LockError with the holder's info", err)
	}
	return le.Info
}
