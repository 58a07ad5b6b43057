package command

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// fakeConfig is a service of two instances behind a fake balancer, registered in
// a fake registry; var.delay slows every provider write.
const fakeConfig = `
variable "delay" {
  type    = string
  default = "0s"
}

provider "fake_registry" "reg" {
  file = "live.json"
}

provider "fake_lb" "edge" {
  file  = "live.json"
  delay = var.delay
}

service "shop" {
  version = "1.0.0"

  registry {
    provider = fake_registry.reg
  }

  group "a" { instances = ["127.0.0.1:18081"] }
  group "b" { instances = ["127.0.0.1:18082"] }

  balancer "http" {
    provider = fake_lb.edge
    pool     = "shop"
    weight   = 1
  }

  strategy "rolling" {
    batch = "group"
  }

  deploy {
    command = ["true"]
  }

  health {
    http = "http://${instance.address}/health"
  }
}
`

// fakeFleet writes the configuration and a live state in which 127.0.0.1:18081
// has weight 5 on the balancer (the configuration says 1) into a new directory.
func fakeFleet(t *testing.T) string {
	t.Helper()
	useFakeKinds(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(fakeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	live := &fakeLive{Instances: map[string][]providers.Instance{}, Pools: map[string][]providers.Member{}}
	for i, addr := range []string{"127.0.0.1:18081", "127.0.0.1:18082"} {
		live.Instances["shop"] = append(live.Instances["shop"], providers.Instance{Service: "shop", Group: "DEFAULT_GROUP",
			Cluster: "DEFAULT", Address: addr, Enabled: true, Healthy: true, Weight: 1,
			Metadata: map[string]string{"version": "1.0.0"}, Version: "1.0.0", VersionKnown: true})
		live.Pools["shop"] = append(live.Pools["shop"], providers.Member{Pool: "shop", Address: addr,
			Weight: []int{5, 1}[i], State: providers.StateReady})
	}
	if err := writeFakeLive(filepath.Join(dir, "live.json"), live); err != nil {
		t.Fatal(err)
	}
	return dir
}

// memberWeights reads the fake balancer's weights by address.
func memberWeights(t *testing.T, dir string) map[string]int {
	t.Helper()
	l, err := readFakeLive(filepath.Join(dir, "live.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range l.Pools["shop"] {
		out[m.Address] = m.Weight
	}
	return out
}

// loadLocalState reads the state an apply in dir left in .nonstop.
func loadLocalState(t *testing.T, dir string) *state.State {
	t.Helper()
	st, err := state.NewLocal(filepath.Join(dir, ".nonstop")).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var quiet = map[string]string{"NONSTOP_LOG": "error"}

func TestApplyWithoutTerminalNeedsAutoApprove(t *testing.T) {
	dir := fakeFleet(t)
	res := run(t, quiet, "yes\n", "apply", dir)
	if res.code != 1 {
		t.Fatalf("exit code %d, want 1\n%s", res.code, res)
	}
	for _, want := range []string{"weight 5 -> 1", "stdin is not a terminal", "-auto-approve"} {
		if !strings.Contains(res.stdout+res.stderr, want) {
			t.Errorf("output lacks %q:\n%s", want, res)
		}
	}
	if diff := cmp.Diff(map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 1}, memberWeights(t, dir)); diff != "" {
		t.Errorf("an unapproved apply changed live state (-want +got):\n%s", diff)
	}
	if st := loadLocalState(t, dir); st.Serial != 0 || len(st.History) != 0 {
		t.Errorf("an unapproved apply wrote state: %+v", st)
	}
}

func TestApplyAutoApproveRepairsWeightAndRecordsState(t *testing.T) {
	dir := fakeFleet(t)
	res := run(t, quiet, "", "apply", "-auto-approve", dir)
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res)
	}
	if !strings.Contains(res.stdout, "Apply complete! 0 instances to upgrade, 1 weight change") {
		t.Errorf("no completion summary:\n%s", res)
	}
	if diff := cmp.Diff(map[string]int{"127.0.0.1:18081": 1, "127.0.0.1:18082": 1}, memberWeights(t, dir)); diff != "" {
		t.Errorf("live weights after apply (-want +got):\n%s", diff)
	}
	cfg, ds := lang.LoadDir(dir, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	st := loadLocalState(t, dir)
	if st.ConfigHash != cfg.Hash || st.AppliedAt.IsZero() || st.Journal != nil {
		t.Errorf("state: config hash %q (want %q), applied at %v, journal %+v", st.ConfigHash, cfg.Hash, st.AppliedAt, st.Journal)
	}
	if len(st.History) != 1 {
		t.Fatalf("history has %d releases, want 1: %+v", len(st.History), st.History)
	}
	r := st.History[0]
	got := []string{r.Service, r.From, r.To, r.Result}
	if diff := cmp.Diff([]string{"shop", "1.0.0", "1.0.0", state.ResultSuccess}, got); diff != "" {
		t.Errorf("release (-want +got):\n%s", diff)
	}
	if r.Finished.Before(r.Started) || r.Started.IsZero() {
		t.Errorf("release times: started %v finished %v", r.Started, r.Finished)
	}

	again := run(t, quiet, "", "apply", "-auto-approve", dir)
	if again.code != 0 || !strings.Contains(again.stdout, "No changes.") {
		t.Errorf("second apply: want exit 0 and no changes\n%s", again)
	}
}

func TestApplyWaitsForLockThenShowsHolder(t *testing.T) {
	dir := fakeFleet(t)
	first := make(chan result, 1)
	go func() { first <- run(t, quiet, "", "apply", "-auto-approve", "-var", "delay=3s", dir) }()

	lockFile := filepath.Join(dir, ".nonstop", "lock.json")
	var holder state.LockInfo
	eventually(t, 10*time.Second, "the first apply takes the lock", func() string {
		b, err := os.ReadFile(lockFile)
		if err != nil || json.Unmarshal(b, &holder) != nil || holder.ID == "" {
			return "no lock.json yet"
		}
		return ""
	})
	start := time.Now()
	second := run(t, quiet, "", "apply", "-auto-approve", "-lock-timeout", "700ms", dir)
	waited := time.Since(start)
	if second.code != 1 {
		t.Errorf("second apply: exit code %d, want 1\n%s", second.code, second)
	}
	for _, want := range []string{"Error acquiring the state lock", "ID:        " + holder.ID, "Operation: apply"} {
		if !strings.Contains(second.stderr, want) {
			t.Errorf("second apply's error lacks %q:\n%s", want, second.stderr)
		}
	}
	if waited < 700*time.Millisecond {
		t.Errorf("second apply gave up after %v, before its -lock-timeout of 700ms", waited)
	}
	if r := <-first; r.code != 0 {
		t.Errorf("first apply: exit code %d\n%s", r.code, r)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("lock.json left after the apply: %v", err)
	}
}

func TestForceUnlock(t *testing.T) {
	dir := fakeFleet(t)
	b := state.NewLocal(filepath.Join(dir, ".nonstop"))
	id, err := b.Lock(context.Background(), state.NewLockInfo("apply", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	if r := run(t, quiet, "", "force-unlock", id, dir); r.code != 1 || !strings.Contains(r.stderr, "add -force") {
		t.Errorf("force-unlock without -force on a non-terminal: want exit 1 asking for -force\n%s", r)
	}
	// A live holder's flock cannot be broken from outside.
	if r := run(t, quiet, "", "force-unlock", "-force", id, dir); r.code != 1 || !strings.Contains(r.stderr, "failed to unlock") {
		t.Errorf("force-unlock of a live holder: want exit 1\n%s", r)
	}
	// A holder that died leaves lock.json without a flock: force-unlock tidies it.
	lockFile := filepath.Join(dir, ".nonstop", "lock.json")
	info, err := os.ReadFile(lockFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(id); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockFile, info, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, quiet, "", "force-unlock", "-force", "not-"+id, dir); r.code != 1 {
		t.Errorf("force-unlock with a wrong id: want exit 1\n%s", r)
	}
	r := run(t, quiet, "", "force-unlock", "-force", id, dir)
	if r.code != 0 || !strings.Contains(r.stdout, "nonstop state has been successfully unlocked!") {
		t.Errorf("force-unlock of a stale lock: want exit 0 and the success text\n%s", r)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("lock.json still there after force-unlock: %v", err)
	}
}

func TestApplyRefusesStalePlan(t *testing.T) {
	dir := fakeFleet(t)
	planFile := filepath.Join(t.TempDir(), "shop.plan")
	if r := run(t, quiet, "", "plan", "-out", planFile, dir); r.code != 0 {
		t.Fatalf("plan -out: exit code %d\n%s", r.code, r)
	}
	// Someone changes a weight by hand after the plan was made.
	l, err := readFakeLive(filepath.Join(dir, "live.json"))
	if err != nil {
		t.Fatal(err)
	}
	l.Pools["shop"][1].Weight = 3
	if err := writeFakeLive(filepath.Join(dir, "live.json"), l); err != nil {
		t.Fatal(err)
	}
	r := run(t, quiet, "", "apply", planFile, dir)
	if r.code != 1 {
		t.Fatalf("stale plan: exit code %d, want 1\n%s", r.code, r)
	}
	want := "plan is stale: shop 127.0.0.1:18082 weight on balancer http changed from 1 to 3 since the plan was made"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if diff := cmp.Diff(map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 3}, memberWeights(t, dir)); diff != "" {
		t.Errorf("a refused plan changed live state (-want +got):\n%s", diff)
	}

	// A fresh plan file applies without approval.
	if r := run(t, quiet, "", "plan", "-out", planFile, dir); r.code != 0 {
		t.Fatalf("plan -out: exit code %d\n%s", r.code, r)
	}
	if r := run(t, quiet, "", "apply", planFile, dir); r.code != 0 {
		t.Fatalf("fresh plan: exit code %d\n%s", r.code, r)
	}
	if diff := cmp.Diff(map[string]int{"127.0.0.1:18081": 1, "127.0.0.1:18082": 1}, memberWeights(t, dir)); diff != "" {
		t.Errorf("live weights after applying the fresh plan (-want +got):\n%s", diff)
	}
}

// TestApplyInterruptedBySIGINT interrupts an in-process apply while its provider
// write is under way: the apply stops promptly, records the release as
// interrupted, drops its journal and releases the lock.
func TestApplyInterruptedBySIGINT(t *testing.T) {
	dir := fakeFleet(t)
	done := make(chan result, 1)
	go func() { done <- run(t, quiet, "", "apply", "-auto-approve", "-var", "delay=20s", dir) }()
	// journal.jsonl exists once the apply saved its journal, after it took over
	// SIGINT: the signal cannot reach the test binary's default handler.
	eventually(t, 10*time.Second, "the apply starts its journal", func() string {
		if _, err := os.Stat(filepath.Join(dir, ".nonstop", "journal.jsonl")); err != nil {
			return err.Error()
		}
		return ""
	})
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the apply did not stop within 10s of SIGINT")
	}
	if r.code != 1 || !strings.Contains(r.stdout, "Apply interrupted") {
		t.Errorf("interrupted apply: want exit 1 and \"Apply interrupted\"\n%s", r)
	}
	st := loadLocalState(t, dir)
	if st.Journal != nil || len(st.History) != 1 || st.History[0].Result != state.ResultInterrupted || st.ConfigHash != "" {
		t.Errorf("state after SIGINT: journal %+v, history %+v, config hash %q", st.Journal, st.History, st.ConfigHash)
	}
	if _, err := os.Stat(filepath.Join(dir, ".nonstop", "lock.json")); !os.IsNotExist(err) {
		t.Errorf("lock.json left after an interrupted apply: %v", err)
	}
	if diff := cmp.Diff(map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 1}, memberWeights(t, dir)); diff != "" {
		t.Errorf("the interrupted write happened anyway (-want +got):\n%s", diff)
	}
}

// targetAddress returns the instance address of a deploy target, the last part
// of "order-service/a/127.0.0.1:18081" (the plan tests read deploy steps with it).
func targetAddress(target string) string {
	if i := strings.LastIndex(target, "/"); i >= 0 {
		return target[i+1:]
	}
	return target
}
