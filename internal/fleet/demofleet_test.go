package fleet

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemoFleetDeployLikeSystemctlRestart checks that the deploy script behaves
// like `systemctl restart`: it stops the old process gracefully (a request in
// flight completes, the script waits for the exit), starts the new version and
// returns before the new process opens its port; the new one answers 503 while it
// warms up, then serves the new version.
func TestDemoFleetDeployLikeSystemctlRestart(t *testing.T) {
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + itoa(port)
	f, err := NewDemoFleet(t.TempDir(), "", "fleet-test")
	if err != nil {
		t.Fatalf("demo fleet: %v", err)
	}
	f.StartDelay, f.Warmup = time.Second, 500*time.Millisecond
	t.Cleanup(f.Stop)
	if err := f.DeployAll([]string{addr}, "1.0.0"); err != nil {
		t.Fatal(err)
	}
	oldPid := f.Pid(addr)

	inflight := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow?d=700ms")
		if err != nil {
			inflight <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- string(b)
	}()
	time.Sleep(200 * time.Millisecond)

	start := time.Now()
	if err := f.Deploy(addr, "1.1.0"); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if got := <-inflight; got != "done 1.0.0\n" {
		t.Errorf("request in flight during the restart got %q", got)
	}
	if took < 300*time.Millisecond {
		t.Errorf("deploy returned after %s, before the old process finished its request", took)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("deploy took %s: it should not wait for the new process", took)
	}
	if isDemoService(oldPid) {
		t.Errorf("old pid %d still runs after deploy returned", oldPid)
	}
	if err := WaitTCP(addr, 100*time.Millisecond); err == nil {
		t.Errorf("the port is open right after deploy returned; the start-up delay is 1s")
	}
	if err := WaitTCP(addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get("http://" + addr + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("health while warming up: %d, want 503", resp.StatusCode)
		}
	}
	if err := f.WaitReady(addr, "1.1.0", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if ds := f.DeployStarts(addr); len(ds) != 2 || ds[1].Version != "1.1.0" || ds[1].At.Before(start) || ds[1].At.After(start.Add(took)) {
		t.Errorf("deploy starts %+v, want the second (1.1.0) within [%s, +%s]", ds, start, took)
	}
	if log := f.Log(addr); strings.Count(log, "--- ") != 2 {
		t.Errorf("log has %d start markers, want 2:\n%s", strings.Count(log, "--- "), log)
	}

	// Run by someone who sets only what the script requires (a configuration's
	// deploy block), it takes the fleet's delay and warm-up from fleet.env.
	cmd := exec.Command("bash", f.Script, "127.0.0.1", strconv.Itoa(port), "1.2.0")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NONSTOP_DEMO_DIR=" + f.Dir, "NONSTOP_DEMO_BIN=" + f.Bin}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy.sh: %v\n%s", err, out)
	}
	if err := f.WaitReady(addr, "1.2.0", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if run := f.currentRun(addr); !strings.Contains(run, "port opens in 1s") || !strings.Contains(run, "warm-up 500ms") {
		t.Errorf("the fleet's delay and warm-up were not applied:\n%s", run)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
