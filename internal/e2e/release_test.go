package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/internal/demo"
)

// Every test here releases instances that start like real applications: the
// deploy returns before the port opens (startDelay), then every request answers
// 503 while the instance warms up, and only then does it register. HAProxy runs
// its usual active checks (`check inter 1s fall 2 rise 2`), nginx has
// `proxy_next_upstream off`, and the registry consumer re-selects every second.
// Each release must lose no request on any path and never leave a path routing to
// fewer than min_available members, as that path itself sees them.

func TestRollingZeroDowntime(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "rolling-svc", "1.0.0")
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second) // keep calling the new instances for a while
	f.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Logf("rolling apply wall time: %s", elapsed.Round(time.Millisecond))

	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.1.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the release (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r)
}

func TestBlueGreenZeroDowntime(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "bluegreen-svc", "1.0.0")
	f.cfg.Strategy = `strategy "blue_green" { keep_standby = true }`
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	t.Logf("blue-green apply 1.0.0 → 1.1.0 wall time: %s", elapsed.Round(time.Millisecond))

	// One group now serves 1.1.0; the other stays warm at 1.0.0, out of traffic.
	got := f.view(r)
	active, standby := f.groupA, f.groupB
	if got[f.groupB[0]].Version == "1.1.0" {
		active, standby = f.groupB, f.groupA
	}
	wantView := map[string]instanceView{}
	want(wantView, active, "1.1.0", true)
	want(wantView, standby, "1.0.0", false)
	if diff := cmp.Diff(wantView, got); diff != "" {
		t.Fatalf("instances after the first release (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r)
	assertOnlyVersion(t, f, "1.1.0")

	// The second release ping-pongs into the standby group; Polaris hides the
	// standby's version, which the state of the first apply knows.
	r2 := f.releaser("1.2.0")
	tr = f.startLoad(2)
	_, elapsed, err = f.release(r2)
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	t.Logf("blue-green apply 1.1.0 → 1.2.0 wall time: %s", elapsed.Round(time.Millisecond))
	wantView = map[string]instanceView{}
	want(wantView, standby, "1.2.0", true)
	want(wantView, active, "1.1.0", false)
	if diff := cmp.Diff(wantView, f.view(r2)); diff != "" {
		t.Errorf("instances after the second release (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r2)
}

func TestBlueGreenWithoutStandbyZeroDowntime(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "bgnostandby-svc", "1.0.0")
	f.cfg.Strategy = `strategy "blue_green" { keep_standby = false }`
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Logf("blue-green (no standby) apply wall time: %s", elapsed.Round(time.Millisecond))
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.1.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the release (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r)
}

// assertOnlyVersion sends a burst through every path once the load has stopped and
// asserts that only version answers: the standby group takes no traffic.
func assertOnlyVersion(t *testing.T, f *fleet, version string) {
	t.Helper()
	tr := f.startLoad(2)
	time.Sleep(3 * time.Second)
	tr.sampler.Stop()
	for _, c := range tr.load.Stop() {
		if c.Failed > 0 || len(c.Versions) != 1 || c.Versions[version] == 0 {
			t.Errorf("after the switch, path %s answered %v with %d failures, want only %s", c.Name, c.Versions, c.Failed, version)
		}
	}
}

func TestCanaryZeroDowntime(t *testing.T) {
	t.Parallel()
	var queries atomic.Int64
	analysis := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("0.002"))
	}))
	defer analysis.Close()

	f := newFleet(t, "canary-svc", "1.0.0")
	f.cfg.Strategy = `strategy "canary" {
    step {
      weight = 25
      pause  = "2s"
    }
    step {
      weight   = 50
      pause    = "2s"
      analysis = ["error-rate"]
    }
    step { weight = 100 }
  }`
	f.cfg.Extra = `
  analysis "error-rate" {
    http      = "` + analysis.URL + `/api/v1/query"
    max_value = 0.01
    no_data   = "fail"
  }
`
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Logf("canary apply wall time: %s", elapsed.Round(time.Millisecond))
	if queries.Load() == 0 {
		t.Error("the analysis endpoint was never queried")
	}
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.1.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the release (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r)
}

func TestFailedHealthRollsBack(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "rollback-svc", "1.0.0")
	f.cfg.BadVersions = "1.6.0"
	f.cfg.HealthTimeout = "8s"
	r := f.releaser("1.6.0")
	tr := f.startLoad(4)
	res, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	counts := f.stopLoad(tr, minAvailable)
	t.Logf("failed apply with rollback wall time: %s", elapsed.Round(time.Millisecond))
	if err == nil {
		t.Fatal("apply of a version that fails its health check succeeded")
	}
	if sr := res.Services[f.service]; sr == nil || sr.Outcome != executor.OutcomeRolledBack {
		t.Fatalf("outcome %+v, want %s", sr, executor.OutcomeRolledBack)
	}
	assertNeverServed(t, counts, "1.6.0")
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.0.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the rollback (-want +got):\n%s", diff)
	}
}

// TestFailedHealthPausesOutOfEveryPath releases a version that registers itself
// but never passes its health check, with on_failure = "pause": no path may ever
// answer with it (the registry included: the deploy registers it disabled), and
// the pause report says, read back from each path, that it is out of traffic.
func TestFailedHealthPausesOutOfEveryPath(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "pause-svc", "1.0.0")
	f.cfg.BadVersions = "1.6.0"
	f.cfg.HealthTimeout = "8s"
	f.cfg.OnFailure = "pause"
	r := f.releaser("1.6.0")
	tr := f.startLoad(4)
	res, _, err := f.release(r)
	time.Sleep(3 * time.Second) // the bad instances have long registered by now
	counts := f.stopLoad(tr, minAvailable)
	if err == nil {
		t.Fatal("apply of a version that fails its health check succeeded")
	}
	sr := res.Services[f.service]
	if sr == nil || sr.Outcome != executor.OutcomePaused {
		t.Fatalf("outcome %+v, want %s", sr, executor.OutcomePaused)
	}
	assertNeverServed(t, counts, "1.6.0")
	for _, a := range f.groupA {
		v := sr.Live[a]
		if v == nil || v.Serving {
			t.Errorf("pause report of %s: %+v, want read back out of traffic on every path", a, v)
			continue
		}
		if got := strings.Join(v.Paths, "; "); !strings.Contains(got, "registry nacos.registry: disabled") {
			t.Errorf("pause report of %s: %s, want the registry read back disabled", a, got)
		}
	}
	if !slicesEqualSorted(sr.OutOfTraffic, f.groupA) {
		t.Errorf("out of traffic %v, want %v", sr.OutOfTraffic, f.groupA)
	}
	wantView := map[string]instanceView{}
	want(wantView, f.groupB, "1.0.0", true)
	want(wantView, f.groupA, "1.6.0", false) // deployed, out of traffic everywhere
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the pause (-want +got):\n%s", diff)
	}
}

// TestRegistryGuardCatchesEnabledRegistration deploys an application that ignores
// NONSTOP_REGISTER_ENABLED and registers enabled, as a restarted legacy app does on
// Polaris: nonstop's registry guard disables it at once, says so, and enables it
// only after its gates; no request fails on any path.
func TestRegistryGuardCatchesEnabledRegistration(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "guard-svc", "1.0.0")
	f.cfg.DeployEnv = map[string]string{"NONSTOP_REGISTER_ENABLED": "true"}
	r := f.releaser("1.1.0")
	warnings := &warningSink{}
	r.events = warnings
	tr := f.startLoad(4)
	_, _, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	// Polaris keeps the disabled flag when an address registers again before its
	// old registration expired, so not every restart comes back enabled; those
	// that do must be caught, once each.
	caught := 0
	for _, a := range f.addrs() {
		switch n := warnings.count(a + " registered itself enabled before its health and verify gates passed"); {
		case n == 1:
			caught++
		case n > 1:
			t.Errorf("%s: warned %d times, want once", a, n)
		}
	}
	if caught == 0 {
		t.Errorf("the guard caught no instance registering enabled; warnings: %v", warnings.list())
	}
	t.Logf("the guard caught %d of %d restarted instances registering enabled", caught, len(f.addrs()))
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.1.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the release (-want +got):\n%s", diff)
	}
}

// assertNeverServed asserts that no path answered with version.
func assertNeverServed(t *testing.T, counts []demo.Counts, version string) {
	t.Helper()
	for _, c := range counts {
		if n := c.Versions[version]; n > 0 {
			t.Errorf("path %s answered %d requests with %s, a version that never passed its gates", c.Name, n, version)
		}
	}
}

func slicesEqualSorted(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		if seen[s]--; seen[s] < 0 {
			return false
		}
	}
	return true
}

// warningSink collects the messages of warning events.
type warningSink struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningSink) Emit(e executor.Event) {
	if e.Level != executor.LevelWarn {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, e.Message)
}

// count returns how many warnings contain text.
func (w *warningSink) count(text string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if strings.Contains(m, text) {
			n++
		}
	}
	return n
}

func (w *warningSink) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}
