package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// The crash matrix kills `nonstop apply` (the real binary, as users run it) after
// the Nth step_start or step_complete event of its plan, under steady load on the
// three paths, then runs apply again and requires convergence: `nonstop drift`
// exits 0, no request failed on any path, and no path ever routed to fewer than
// min_available members, the crash and the recovery included.
//
// NONSTOP_CRASH_MATRIX=sample (what `make test` and CI run) runs a seeded random
// sample: NONSTOP_CRASH_SAMPLES points per strategy (default 1) and a SIGTERM;
// the seed (NONSTOP_CRASH_SEED, printed with every scenario) defaults to the day
// of the year, so the sample moves on daily. NONSTOP_CRASH_MATRIX=full runs every
// N of every strategy (long: about 20 s per scenario).

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// nonstopBinary builds cmd/nonstop once for the package's tests.
func nonstopBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "nonstop-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "nonstop")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/nonstop")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/nonstop: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// crashPoint says when to kill the apply: after the Nth event of a type.
type crashPoint struct {
	event string // "step_start" or "step_complete"
	n     int
	sig   syscall.Signal
	// rollback counts only the events of rollback steps.
	rollback bool
}

func (c crashPoint) String() string {
	if c.rollback {
		return fmt.Sprintf("%s after rollback %s #%d", strings.ToUpper(signalName(c.sig)), c.event, c.n)
	}
	return fmt.Sprintf("%s after %s #%d", strings.ToUpper(signalName(c.sig)), c.event, c.n)
}

func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "kill"
	case syscall.SIGTERM:
		return "term"
	case syscall.SIGINT:
		return "int"
	}
	return s.String()
}

// crashStrategies are the strategies the matrix releases, with their blocks.
var crashStrategies = []struct{ name, block string }{
	{"rolling", `strategy "rolling" { batch = "group" }`},
	{"blue_green", `strategy "blue_green" { keep_standby = true }`},
	{"canary", `strategy "canary" {
    step {
      weight = 50
      pause  = "1s"
    }
    step { weight = 100 }
  }`},
}

// quickStart makes crash scenarios shorter while instances still start like
// applications: the deploy returns before the port opens, then a warm-up of 503s.
func quickStart(d *testfleet.DemoFleet) { d.StartDelay, d.Warmup = time.Second, 500*time.Millisecond }

func TestCrashMatrix(t *testing.T) {
	t.Parallel()
	mode := os.Getenv("NONSTOP_CRASH_MATRIX")
	if mode != "sample" && mode != "full" {
		t.Skip("set NONSTOP_CRASH_MATRIX=sample (or full) to run the crash matrix")
	}
	seed := uint64(time.Now().UTC().YearDay())
	if s := os.Getenv("NONSTOP_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NONSTOP_CRASH_SEED=%q: %v", s, err)
		}
		seed = v
	}
	full := mode == "full"
	samples := 1
	if s := os.Getenv("NONSTOP_CRASH_SAMPLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("NONSTOP_CRASH_SAMPLES=%q: want a positive number", s)
		}
		samples = n
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e6f6e73746f70))
	t.Logf("crash matrix seed %d (NONSTOP_CRASH_MATRIX=sample NONSTOP_CRASH_SEED=%d go test ./internal/e2e -run TestCrashMatrix reproduces it)", seed, seed)
	nonstopBinary(t)

	for i, st := range crashStrategies {
		steps := planSteps(t, st.block, i)
		var points []crashPoint
		if full {
			for n := 1; n <= steps; n++ {
				points = append(points, crashPoint{"step_start", n, syscall.SIGKILL, false}, crashPoint{"step_complete", n, syscall.SIGKILL, false})
			}
		} else {
			for range samples {
				event := []string{"step_start", "step_complete"}[rng.IntN(2)]
				points = append(points, crashPoint{event, 1 + rng.IntN(steps), syscall.SIGKILL, false})
			}
		}
		for _, cp := range points {
			t.Run(fmt.Sprintf("%s/%s_%d", st.name, cp.event, cp.n), func(t *testing.T) {
				if t.Name() != "" && strings.Count(t.Name(), "#") > 0 {
					t.Skip("the same crash point was drawn twice")
				}
				runCrash(t, st.name, st.block, cp)
			})
		}
	}
	report.env = fmt.Sprintf("NONSTOP_CRASH_MATRIX=%s NONSTOP_CRASH_SEED=%d", mode, seed)
	if samples > 1 {
		report.env += fmt.Sprintf(" NONSTOP_CRASH_SAMPLES=%d", samples)
	}
	t.Cleanup(func() {
		if path := os.Getenv("NONSTOP_RELIABILITY_REPORT"); path != "" {
			if err := report.write(path, seed, full); err != nil {
				t.Error(err)
			}
		}
	})
	// A polite stop: SIGTERM (a service manager) or SIGINT (Ctrl-C) in the middle
	// of a rolling release finishes or stops the steps in flight, journals them,
	// releases the lock and exits non-zero. Both go through the same path: the
	// sample takes one of them by the seed, the full matrix both.
	polite := []crashPoint{{"step_complete", 10, syscall.SIGTERM, false}, {"step_start", 6, syscall.SIGINT, false}}
	if !full {
		polite = polite[seed%2 : seed%2+1]
	}
	for _, cp := range polite {
		t.Run("rolling/"+signalName(cp.sig), func(t *testing.T) {
			runCrash(t, "rolling", crashStrategies[0].block, cp)
		})
	}
	// A crash during a rollback: the next apply (the person reverted the
	// release) must converge without a failed request.
	points := []crashPoint{{"step_start", 1 + rng.IntN(rollbackSteps), syscall.SIGKILL, true}}
	if full {
		points = nil
		for n := 1; n <= rollbackSteps; n++ {
			points = append(points, crashPoint{"step_start", n, syscall.SIGKILL, true}, crashPoint{"step_complete", n, syscall.SIGKILL, true})
		}
	}
	for _, cp := range points {
		t.Run(fmt.Sprintf("rollback/%s_%d", cp.event, cp.n), func(t *testing.T) { runRollbackCrash(t, cp) })
	}
}

// rollbackSteps is how many rollback steps the rollback scenario has at least:
// two instances of group a, each drained if needed, redeployed, checked,
// verified, confirmed by HAProxy's checks and put back on three paths.
const rollbackSteps = 12

// runRollbackCrash releases 1.0.0 → 1.6.0, whose health check never passes; the
// apply rolls back and is killed at cp, counted in rollback steps. Then the
// release is reverted (1.0.0) and applied again: drift must be clear, every
// instance must serve 1.0.0, and no request may have failed on any path.
func runRollbackCrash(t *testing.T, cp crashPoint) {
	bin := nonstopBinary(t)
	name := strings.ReplaceAll(fmt.Sprintf("crash-rollback-%s-%s-%d", signalName(cp.sig), cp.event, cp.n), "_", "-")
	f := newFleet(t, name, "1.0.0", quickStart)
	f.cfg.BadVersions = "1.6.0"
	f.cfg.HealthTimeout = "4s"
	f.releaser("1.6.0")
	t.Logf("scenario: rollback %s", cp)
	tr := f.startLoad(4)

	killed, err := applyUntil(t, bin, f.dir, cp)
	if err != nil {
		t.Fatal(err)
	}
	if !killed {
		t.Logf("the rollback finished before %s", cp)
	}
	r := f.releaser("1.0.0") // the person reverts the release
	applyAndDrift(t, bin, f.dir, "apply of the reverted release")
	counts := f.stopLoad(tr, minAvailable)
	report.add(t, "rollback", cp, counts, tr.paths)
	assertNeverServed(t, counts, "1.6.0")

	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.0.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after recovery (-want +got):\n%s", diff)
	}
}

// planSteps counts the steps of a strategy's release on a fleet like the ones the
// scenarios use, through the same operation `nonstop plan` runs.
func planSteps(t *testing.T, block string, i int) int {
	t.Helper()
	f := newFleet(t, fmt.Sprintf("crashplan%d-svc", i), "1.0.0", quickStart)
	f.cfg.Strategy = block
	r := f.releaser("1.1.0")
	f.waitServing(4)
	p, ds := operation.Plan(context.Background(), f.options(r))
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	return len(p.Steps)
}

// runCrash releases 1.0.0 → 1.1.0 with the binary, kills it at cp, applies again
// and checks convergence and traffic.
func runCrash(t *testing.T, strategy, block string, cp crashPoint) {
	bin := nonstopBinary(t)
	// A service of its own per scenario: no registration of an earlier fleet
	// lingers in its consumers' lists.
	name := strings.ReplaceAll(fmt.Sprintf("crash-%s-%s-%s-%d", strategy, signalName(cp.sig), cp.event, cp.n), "_", "-")
	f := newFleet(t, name, "1.0.0", quickStart)
	f.cfg.Strategy = block
	r := f.releaser("1.1.0")
	t.Logf("scenario: %s %s", strategy, cp)
	tr := f.startLoad(4)

	killed, err := applyUntil(t, bin, f.dir, cp)
	if err != nil {
		t.Fatal(err)
	}
	if !killed {
		t.Logf("the apply finished before %s", cp)
	}
	applyAndDrift(t, bin, f.dir, "second apply")
	counts := f.stopLoad(tr, minAvailable)
	report.add(t, strategy, cp, counts, tr.paths)

	got := f.view(r)
	wantView := map[string]instanceView{}
	if strategy == "blue_green" {
		active, standby := f.groupA, f.groupB
		if got[f.groupB[0]].Version == "1.1.0" {
			active, standby = f.groupB, f.groupA
		}
		want(wantView, active, "1.1.0", true)
		want(wantView, standby, "1.0.0", false)
	} else {
		want(wantView, f.addrs(), "1.1.0", true)
	}
	if diff := cmp.Diff(wantView, got); diff != "" {
		t.Errorf("instances after recovery (-want +got):\n%s", diff)
	}
}

// applyAndDrift runs `nonstop apply` after a crash, then requires `nonstop
// drift` to find nothing, and keeps the load running 2 s more.
func applyAndDrift(t *testing.T, bin, dir, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "apply", "-auto-approve", "-no-color", dir).CombinedOutput()
	t.Logf("%s:\n%s", what, out)
	if err != nil {
		t.Errorf("the apply after the crash failed: %v", err)
	}
	out, err = exec.CommandContext(ctx, bin, "drift", "-no-color", dir).CombinedOutput()
	if err != nil {
		t.Errorf("drift after recovery: %v\n%s", err, out)
	}
	time.Sleep(2 * time.Second)
}

// applyUntil runs `nonstop apply -auto-approve -json` and sends cp.sig once the
// cp.n-th event of type cp.event is printed. It reports whether it sent it.
func applyUntil(t *testing.T, bin, dir string, cp crashPoint) (bool, error) {
	t.Helper()
	cmd := exec.Command(bin, "apply", "-auto-approve", "-json", dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return false, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return false, err
	}
	seen, sent := 0, false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Type    string `json:"type"`
			Message string `json:"@message"`
			Hook    struct {
				Step *struct {
					ID string `json:"id"`
				} `json:"step"`
			} `json:"hook"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if cp.rollback && (ev.Hook.Step == nil || !strings.Contains(ev.Hook.Step.ID, ".rollback.")) {
			continue
		}
		if ev.Type == cp.event && !sent {
			if seen++; seen == cp.n {
				t.Logf("sending %s after: %s", signalName(cp.sig), ev.Message)
				_ = cmd.Process.Signal(cp.sig)
				sent = true
			}
		}
	}
	err = cmd.Wait()
	if sent && err == nil && cp.sig != syscall.SIGKILL {
		return sent, fmt.Errorf("apply stopped by %s exited 0, want non-zero", signalName(cp.sig))
	}
	if !sent && err != nil {
		return sent, fmt.Errorf("the first apply failed before the crash point: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("first apply's stderr:\n%s", stderr.String())
	}
	return sent, nil
}

// scenarioResult is one crash scenario's line in the reliability report.
type scenarioResult struct {
	strategy, fault string
	passed          bool
	sent, failed    int64
	lowest          map[string]int // path -> fewest members it routed to
}

// reliabilityReport collects the scenarios of a matrix run.
type reliabilityReport struct {
	mu      sync.Mutex
	env     string // the environment that reproduces the run
	results []scenarioResult
}

var report reliabilityReport

func (r *reliabilityReport) add(t *testing.T, strategy string, cp crashPoint, counts []demo.Counts, paths []demo.PathServing) {
	res := scenarioResult{strategy: strategy, fault: cp.String(), passed: !t.Failed(), lowest: map[string]int{}}
	for _, c := range counts {
		res.sent += c.OK + c.Failed
		res.failed += c.Failed
	}
	for _, p := range paths {
		if p.Name != checksUpPath {
			res.lowest[p.Name] = p.Min
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

// write renders the report as Markdown.
func (r *reliabilityReport) write(path string, seed uint64, full bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	mode := fmt.Sprintf("a seeded sample (NONSTOP_CRASH_SEED=%d)", seed)
	if full {
		mode = "the full matrix (NONSTOP_CRASH_MATRIX=full)"
	}
	fmt.Fprintf(&b, "# Reliability: the crash matrix\n\nGenerated by `internal/e2e` TestCrashMatrix on %s, %s.\n"+
		"Each scenario releases 1.0.0 → 1.1.0 on 4 slow-starting instances (groups a/b, min_available = %d) behind nginx, HAProxy (active checks)"+
		" and a registry consumer, %d req/s per path; kills `nonstop apply` at the fault; runs `nonstop apply` again; requires `nonstop drift` to exit 0.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), mode, minAvailable, loadRate)
	b.WriteString("| strategy | fault | result | requests | failed | fewest serving (nginx / haproxy / registry) | reproduce |\n|---|---|---|---:|---:|---|---|\n")
	for _, s := range r.results {
		result := "pass"
		if !s.passed {
			result = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d / %d / %d | `%s go test ./internal/e2e -run TestCrashMatrix` |\n",
			s.strategy, s.fault, result, s.sent, s.failed, s.lowest["nginx"], s.lowest["haproxy"], s.lowest["registry"], r.env)
	}
	b.WriteString("\nThe rollback rows release 1.6.0, whose health check never passes, kill the apply during its rollback, " +
		"then apply the reverted release (1.0.0).\n")
	// What a person wrote below the table (what else was tried) is kept.
	if old, err := os.ReadFile(path); err == nil {
		if i := strings.Index(string(old), reportNotes); i >= 0 {
			b.WriteString("\n" + string(old[i:]))
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// reportNotes starts the hand-written part of the reliability report.
const reportNotes = "## What else was tried"
