package main

import (
	"context"
	"io"
	"net/http"
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
