package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nacos-group/nacos-sdk-go/v2/model"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
	"github.com/nonstop-release/nonstop/providers/nacos"
)

// TestUpstreamsUpdate checks which instances a gateway routes to after a push or
// a selection: healthy, enabled, weighted ones, sorted and each once; a failed
// selection keeps the list it had, a successful empty one clears it.
func TestUpstreamsUpdate(t *testing.T) {
	inst := func(ip string, port uint64, healthy, enabled bool, weight float64) model.Instance {
		return model.Instance{Ip: ip, Port: port, Healthy: healthy, Enable: enabled, Weight: weight}
	}
	before := []model.Instance{inst("10.0.0.1", 80, true, true, 1), inst("10.0.0.2", 80, true, true, 1)}
	tests := map[string]struct {
		insts     []model.Instance
		err       error
		want      []string
		wantReady bool
	}{
		"all usable, sorted": {
			insts: []model.Instance{inst("10.0.0.3", 80, true, true, 1), inst("10.0.0.1", 8080, true, true, 100)},
			want:  []string{"10.0.0.1:8080", "10.0.0.3:80"}, wantReady: true,
		},
		"disabled left out": {
			insts: []model.Instance{inst("10.0.0.1", 80, true, false, 1), inst("10.0.0.2", 80, true, true, 1)},
			want:  []string{"10.0.0.2:80"}, wantReady: true,
		},
		"unhealthy left out": {
			insts: []model.Instance{inst("10.0.0.1", 80, false, true, 1), inst("10.0.0.2", 80, true, true, 1)},
			want:  []string{"10.0.0.2:80"}, wantReady: true,
		},
		"weight zero left out": {
			insts: []model.Instance{inst("10.0.0.1", 80, true, true, 0), inst("10.0.0.2", 80, true, true, 1)},
			want:  []string{"10.0.0.2:80"}, wantReady: true,
		},
		"duplicates once": {
			insts: []model.Instance{inst("10.0.0.2", 80, true, true, 1), inst("10.0.0.2", 80, true, true, 1)},
			want:  []string{"10.0.0.2:80"}, wantReady: true,
		},
		"every instance disabled: empty, not ready": {
			insts: []model.Instance{inst("10.0.0.1", 80, true, false, 1)},
			want:  nil,
		},
		"failed selection keeps the list": {
			err:  errors.New("instance list is empty!"),
			want: []string{"10.0.0.1:80", "10.0.0.2:80"}, wantReady: true,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			var u upstreams
			u.update(before, nil)
			u.update(tt.insts, tt.err)
			if d := cmp.Diff(tt.want, u.list()); d != "" {
				t.Errorf("list (-want +got):\n%s", d)
			}
			if got := u.ready(); got != tt.wantReady {
				t.Errorf("ready = %t, want %t", got, tt.wantReady)
			}
		})
	}
}

// TestUpstreamsPick goes round the list, one instance per request, and finds
// nothing in an empty or never-filled list.
func TestUpstreamsPick(t *testing.T) {
	var u upstreams
	if _, ok := u.pick(); ok || u.ready() {
		t.Fatal("a gateway that never resolved picked an instance or is ready")
	}
	u.update([]model.Instance{
		{Ip: "10.0.0.1", Port: 80, Healthy: true, Enable: true, Weight: 1},
		{Ip: "10.0.0.2", Port: 80, Healthy: true, Enable: true, Weight: 1},
		{Ip: "10.0.0.3", Port: 80, Healthy: true, Enable: true, Weight: 1},
	}, nil)
	seen := map[string]int{}
	for range 9 {
		a, ok := u.pick()
		if !ok {
			t.Fatal("no pick from three instances")
		}
		seen[a]++
	}
	if d := cmp.Diff(map[string]int{"10.0.0.1:80": 3, "10.0.0.2:80": 3, "10.0.0.3:80": 3}, seen); d != "" {
		t.Errorf("picks (-want +got):\n%s", d)
	}
}

// TestGatewayWithoutRegistry refuses -gateway-to without a registry to resolve it.
func TestGatewayWithoutRegistry(t *testing.T) {
	if _, err := parseFlags([]string{"-gateway-to", "app", "-nacos", ""}); !errors.Is(err, errGatewayWithoutRegistry) {
		t.Errorf("err = %v, want %v", err, errGatewayWithoutRegistry)
	}
	t.Setenv(EnvGatewayTo, "patent-search")
	t.Setenv(EnvGatewayGroup, "PATENT")
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.gatewayTo != "patent-search" || o.gatewayGroup != "PATENT" {
		t.Errorf("from the environment: -gateway-to %q -gateway-group %q", o.gatewayTo, o.gatewayGroup)
	}
}

// TestGatewayOnPolaris runs a gateway node in front of two application instances
// registered in a real Polaris: it proxies to both, registers itself with its
// version, drops an instance disabled in the registry within a few seconds, and on
// SIGTERM finishes a proxied request in flight before it exits 0.
func TestGatewayOnPolaris(t *testing.T) {
	pol := testfleet.StartPolaris(t)
	apps := []*testfleet.Demo{
		testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: pol.NacosAddr, Service: "gw-app", Version: "2.0.0"}),
		testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: pol.NacosAddr, Service: "gw-app", Version: "2.0.0"}),
	}
	bin, err := testfleet.DemoBinary()
	if err != nil {
		t.Fatal(err)
	}
	port, err := testfleet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin, "-addr", addr, "-version", "7.0.0", "-service", "gw-edge", "-nacos", pol.NacosAddr,
		"-sdk-dir", t.TempDir(), "-gateway-to", "gw-app")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 30*time.Second, "the gateway's /health", func() bool { return tryGet(addr, "/health") == "ok\n" })

	// Polaris lists a registration about a second after it answered it.
	waitFor(t, 10*time.Second, "the gateway to list both instances", func() bool { return len(gatewayList(t, addr)) == 2 })
	if got := get(t, addr, "/version"); got != "7.0.0" {
		t.Errorf("gateway /version = %q, want its own 7.0.0", got)
	}
	served := map[string]bool{}
	for range 10 {
		resp, err := http.Get("http://" + addr + "/work?ms=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Gateway") != addr+" 7.0.0" {
			t.Fatalf("through the gateway: %s, X-Gateway %q", resp.Status, resp.Header.Get("X-Gateway"))
		}
		served[resp.Header.Get("X-Served-By")] = true
	}
	if !served[apps[0].Addr] || !served[apps[1].Addr] || len(served) != 2 {
		t.Errorf("the gateway routed to %v, want both %s and %s", served, apps[0].Addr, apps[1].Addr)
	}

	reg := nacos.NewWithConfig("gw", nacos.Config{Addresses: []string{pol.NacosAddr}, Namespace: "public",
		Flavor: nacos.FlavorPolaris, PolarisAddress: pol.NativeAddr, Timeout: 5 * time.Second}, nil)
	defer reg.Close()
	waitInstances(t, reg, providers.ServiceKey{Service: "gw-edge"}, func(insts []providers.Instance) bool {
		return len(insts) == 1 && insts[0].Address == addr && insts[0].Version == "7.0.0"
	})

	// Disabling an instance in the registry takes it off the gateway's list.
	key := providers.InstanceKey{ServiceKey: providers.ServiceKey{Service: "gw-app"}, Address: apps[0].Addr}
	if err := reg.SetInstanceEnabled(context.Background(), key, false); err != nil {
		t.Fatal(err)
	}
	disabled := time.Now()
	waitFor(t, 10*time.Second, "the gateway to drop the disabled instance", func() bool {
		return slices.Equal(gatewayList(t, addr), []string{apps[1].Addr})
	})
	t.Logf("the gateway dropped the disabled instance after %s", time.Since(disabled).Round(10*time.Millisecond))

	// A proxied request in flight at SIGTERM still completes.
	result := make(chan string, 1)
	go func() { result <- get(t, addr, "/work?ms=1500") }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	if got := <-result; got != "done 2.0.0\n" {
		t.Errorf("in-flight request through the gateway got %q", got)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("exited after %s, before the in-flight request finished", took)
	}
}

// tryGet answers a GET's body, "" when it fails.
func tryGet(addr, path string) string {
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// gatewayList reads a gateway's /gateway/instances.
func gatewayList(t *testing.T, addr string) []string {
	resp, err := http.Get("http://" + addr + "/gateway/instances")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var list []string
	_ = json.NewDecoder(resp.Body).Decode(&list)
	return list
}

func waitFor(t *testing.T, timeout time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
