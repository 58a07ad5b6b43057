package e2e

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor"
)

// minOK is the fewest successful requests each path must see in a release: the
// load runs for the whole apply (at least 7 s here) and 2 s after, at loadRate.
const minOK = 7 * loadRate

func TestRollingZeroDowntime(t *testing.T) {
	f := newFleet(t, "rolling-svc", "1.0.0")
	r := f.releaser("1.1.0")
	load := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second) // keep calling the new instances for a while
	f.stopLoad(load, minOK)
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
	f := newFleet(t, "bluegreen-svc", "1.0.0")
	f.cfg.Strategy = `strategy "blue_green" { keep_standby = true }`
	r := f.releaser("1.1.0")
	load := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(load, minOK)
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
	load = f.startLoad(2)
	_, elapsed, err = f.release(r2)
	time.Sleep(2 * time.Second)
	f.stopLoad(load, minOK)
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

// assertOnlyVersion sends a burst through every path once the load has stopped and
// asserts that only version answers: the standby group takes no traffic.
func assertOnlyVersion(t *testing.T, f *fleet, version string) {
	t.Helper()
	load := f.startLoad(2)
	time.Sleep(3 * time.Second)
	for _, c := range load.Stop() {
		if c.Failed > 0 || len(c.Versions) != 1 || c.Versions[version] == 0 {
			t.Errorf("after the switch, path %s answered %v with %d failures, want only %s", c.Name, c.Versions, c.Failed, version)
		}
	}
}

func TestCanaryZeroDowntime(t *testing.T) {
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
	load := f.startLoad(4)
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(load, minOK)
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
	f := newFleet(t, "rollback-svc", "1.0.0")
	f.cfg.BadVersions = "1.6.0"
	f.cfg.HealthTimeout = "5s"
	r := f.releaser("1.6.0")
	load := f.startLoad(4)
	res, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(load, minOK)
	t.Logf("failed apply with rollback wall time: %s", elapsed.Round(time.Millisecond))
	if err == nil {
		t.Fatal("apply of a version that fails its health check succeeded")
	}
	if sr := res.Services[f.service]; sr == nil || sr.Outcome != executor.OutcomeRolledBack {
		t.Fatalf("outcome %+v, want %s", sr, executor.OutcomeRolledBack)
	}
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.0.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the rollback (-want +got):\n%s", diff)
	}
}
