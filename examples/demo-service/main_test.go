package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
	"github.com/nonstop-release/nonstop/providers/nacos"
)

// TestDemoService runs the built demo-service against a real Polaris: it serves
// /health, /version and /work, registers with metadata version, and on SIGTERM
// deregisters, finishes an in-flight request and exits 0.
func TestDemoService(t *testing.T) {
	pol := testfleet.StartPolaris(t)
	d := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: pol.NacosAddr, Service: "demo-test", Version: "9.8.7"})

	for path, want := range map[string]string{"/health": "ok\n", "/version": "9.8.7", "/work?ms=10": "done 9.8.7\n"} {
		if got := get(t, d.Addr, path); got != want {
			t.Errorf("GET %s = %q, want %q", path, got, want)
		}
	}

	reg := nacos.NewWithConfig("demo", nacos.Config{Addresses: []string{pol.NacosAddr}, Namespace: "public",
		Flavor: nacos.FlavorPolaris, PolarisAddress: pol.NativeAddr, Timeout: 5 * time.Second}, nil)
	defer reg.Close()
	key := providers.ServiceKey{Service: "demo-test"}
	waitInstances(t, reg, key, func(insts []providers.Instance) bool {
		return len(insts) == 1 && insts[0].Address == d.Addr && insts[0].Version == "9.8.7"
	})

	// A request in flight when SIGTERM arrives still completes.
	result := make(chan string, 1)
	go func() { result <- get(t, d.Addr, "/work?ms=1500") }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := d.Stop(); err != nil {
		t.Fatalf("exit: %v\n%s", err, d.Output())
	}
	if got := <-result; got != "done 9.8.7\n" {
		t.Errorf("in-flight request got %q", got)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("exited after %s, before the in-flight request finished", took)
	}
	waitInstances(t, reg, key, func(insts []providers.Instance) bool { return len(insts) == 0 })
}

// TestFailHealth answers /health with 503 when asked to.
func TestFailHealth(t *testing.T) {
	d := testfleet.StartDemo(t, testfleet.DemoOptions{FailHealth: true})
	resp, err := http.Get("http://" + d.Addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

func get(t *testing.T, addr, path string) string {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitInstances(t *testing.T, reg *nacos.Nacos, key providers.ServiceKey, ok func([]providers.Instance) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		insts, err := reg.Instances(context.Background(), key)
		if err == nil && ok(insts) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry state not reached: %+v %v", insts, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestStartDelayAndWarmup runs the binary with the start-up delay and warm-up
// taken from the environment (as deploy.sh passes them): the port stays closed
// for the delay, then every path answers 503 during the warm-up, then 200; a
// SIGTERM then stops it with exit 0.
func TestStartDelayAndWarmup(t *testing.T) {
	bin, err := testfleet.DemoBinary()
	if err != nil {
		t.Fatal(err)
	}
	port, err := testfleet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-addr", addr, "-nacos", "", "-version", "2.0.0")
	cmd.Env = append(os.Environ(), EnvStartDelay+"=1", EnvWarmup+"=1s")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	// The port opens after about 1 s.
	if err := testfleet.WaitTCP(addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	opened := time.Since(start)
	if opened < 900*time.Millisecond {
		t.Errorf("port opened after %s, before the 1s start-up delay", opened)
	}
	// Warming up: every path answers 503 and names the instance.
	for _, path := range []string{"/health", "/version", "/work?ms=1", "/slow?d=1ms"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("X-Served-By") != addr {
			t.Errorf("warming up: GET %s = %d (X-Served-By %q), want 503 from %s", path, resp.StatusCode, resp.Header.Get("X-Served-By"), addr)
		}
	}
	// Warm after about 1 s more.
	deadline := time.Now().Add(5 * time.Second)
	for get(t, addr, "/health") != "ok\n" {
		if time.Now().After(deadline) {
			t.Fatalf("not warm:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if warm := time.Since(start) - opened; warm < 900*time.Millisecond {
		t.Errorf("warm %s after the port opened, before the 1s warm-up", warm)
	}
	if got := get(t, addr, "/version"); got != "2.0.0" {
		t.Errorf("/version = %q", got)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	for _, want := range []string{"port opens in 1s", "listening on", "warm: serving", " ready\n", "stopped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, out.String())
		}
	}
}

// TestSigtermWhileStarting stops cleanly during the start-up delay and during the
// warm-up.
func TestSigtermWhileStarting(t *testing.T) {
	bin, err := testfleet.DemoBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, phase := range []string{"delay", "warm-up"} {
		port, _ := testfleet.FreePort()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		args := []string{"-addr", addr, "-nacos", "", "-start-delay", "1m"}
		if phase == "warm-up" {
			args = []string{"-addr", addr, "-nacos", "", "-warmup", "1m"}
		}
		cmd := exec.Command(bin, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if phase == "warm-up" {
			if err := testfleet.WaitTCP(addr, 5*time.Second); err != nil {
				t.Fatal(err)
			}
		} else {
			time.Sleep(200 * time.Millisecond)
		}
		start := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: exit %v", phase, err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: took %s to stop", phase, took)
		}
	}
}

// TestSlow holds /slow?d= for the duration; a bad duration is a 400.
func TestSlow(t *testing.T) {
	d := testfleet.StartDemo(t, testfleet.DemoOptions{})
	start := time.Now()
	if got := get(t, d.Addr, "/slow?d=300ms"); got != "done 1.4.2\n" {
		t.Errorf("/slow = %q", got)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("/slow?d=300ms answered after %s", took)
	}
	resp, err := http.Get("http://" + d.Addr + "/slow?d=forever")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("/slow?d=forever: %d, want 400", resp.StatusCode)
	}
}

// TestRegisterEnabledEnv reads NONSTOP_REGISTER_ENABLED, else the Spring form.
func TestRegisterEnabledEnv(t *testing.T) {
	for _, c := range []struct {
		nonstop, spring string
		want            bool
	}{
		{"", "", true},
		{"false", "", false},
		{"", "false", false},
		{"true", "false", true},
		{"false", "true", false},
	} {
		t.Setenv(EnvRegisterEnabled, c.nonstop)
		t.Setenv(EnvSpringEnabled, c.spring)
		o, err := parseFlags(nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.registerEnabled != c.want {
			t.Errorf("NONSTOP=%q SPRING=%q: enabled %t, want %t", c.nonstop, c.spring, o.registerEnabled, c.want)
		}
	}
	t.Setenv(EnvRegisterEnabled, "")
	if o, _ := parseFlags([]string{"-register-enabled=false"}); o.registerEnabled {
		t.Error("-register-enabled=false ignored")
	}
	t.Setenv(EnvRegisterEnabled, "nope")
	if _, err := parseFlags(nil); err == nil {
		t.Error("a bad NONSTOP_REGISTER_ENABLED was accepted")
	}
	t.Setenv(EnvRegisterEnabled, "")
	t.Setenv(EnvStartDelay, "1.5")
	if o, _ := parseFlags(nil); o.startDelay != 1500*time.Millisecond {
		t.Errorf("start delay %s from \"1.5\"", o.startDelay)
	}
}

// TestHealthWaitsForRegistration: while the registration is not done (here the
// registry does not answer), every path serves but /health answers 503, so that
// nobody enables the instance before its registration is final.
func TestHealthWaitsForRegistration(t *testing.T) {
	bin, err := testfleet.DemoBinary()
	if err != nil {
		t.Fatal(err)
	}
	port, _ := testfleet.FreePort()
	deadPort, _ := testfleet.FreePort()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-addr", addr, "-nacos", fmt.Sprintf("127.0.0.1:%d", deadPort), "-sdk-dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := testfleet.WaitTCP(addr, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for get(t, addr, "/version") != "1.4.2" {
		if time.Now().After(deadline) {
			t.Fatal("/version never served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/health before the registration: %d, want 503", resp.StatusCode)
	}
}
