package testfleet

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStartPolaris starts a real Polaris, checks that its Nacos HTTP, Nacos gRPC and
// native APIs answer on the ports it reports, and that Stop frees them.
func TestStartPolaris(t *testing.T) {
	p := StartPolaris(t)
	t.Logf("polaris ready in %s (nacos %s, grpc %d, native %s)", p.Startup, p.NacosAddr, p.GRPCPort, p.NativeAddr)

	if !strings.HasPrefix(p.NacosAddr, "127.0.0.1:") || !strings.HasPrefix(p.NativeAddr, "127.0.0.1:") {
		t.Fatalf("addresses are not loopback: %s %s", p.NacosAddr, p.NativeAddr)
	}
	if want := portOf(t, p.NacosAddr) + 1000; p.GRPCPort != want {
		t.Fatalf("GRPCPort = %d, want %d", p.GRPCPort, want)
	}

	// The native API answers without a token (consoleOpen: false).
	resp, err := http.Get("http://" + p.NativeAddr + "/naming/v1/namespaces")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Code       int `json:"code"`
		Namespaces []struct {
			Name string `json:"name"`
		} `json:"namespaces"`
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("namespaces: status %s, decode error %v", resp.Status, err)
	}
	found := false
	for _, ns := range body.Namespaces {
		found = found || ns.Name == "default"
	}
	if !found {
		t.Fatalf("namespace default missing from %+v", body)
	}

	// The Nacos v1 API answers.
	resp, err = http.Get("http://" + p.NacosAddr + "/nacos/v1/ns/instance/list?serviceName=nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("nacos instance list: %s", resp.Status)
	}

	p.Stop()
	p.Stop() // idempotent
	if err := WaitTCP(p.NacosAddr, 300*time.Millisecond); err == nil {
		t.Fatalf("%s still accepts connections after Stop", p.NacosAddr)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, portStr, err := net.SplitHostPort(addr)
	port, err2 := strconv.Atoi(portStr)
	if err != nil || err2 != nil {
		t.Fatalf("bad address %q", addr)
	}
	return port
}
