package testfleet

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestNginxProxiesToPool starts two backends behind nginx and checks that round
// robin reaches each once per two requests, and that a reload is observed.
func TestNginxProxiesToPool(t *testing.T) {
	bs := StartBackends(t, 2)
	n := StartNginx(t, NginxOptions{Pools: map[string][]string{"web": {bs[0].Addr, bs[1].Addr}}})
	got := CountByBackend(t, n.URL("web"), 4, nil)
	want := map[string]int{bs[0].Addr: 2, bs[1].Addr: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	before := n.Reloads()
	if out, err := n.Run("-s", "reload"); err != nil {
		t.Fatalf("reload: %v\n%s", err, out)
	}
	n.WaitReloaded(t, before+1)
	if got := CountByBackend(t, n.URL("web"), 2, nil); len(got) != 2 {
		t.Errorf("after reload counts = %v, want both backends", got)
	}
}

// TestHAProxyProxiesToBackend checks a frontend, the default backend, and that a
// rule line with {dir} reaches the config.
func TestHAProxyProxiesToBackend(t *testing.T) {
	bs := StartBackends(t, 2)
	h := StartHAProxy(t, HAProxyConfig{
		Backends: []HAProxyBackend{{Name: "web", Servers: []string{bs[0].Addr, bs[1].Addr}}},
		Frontends: []HAProxyFrontend{{
			Name: "fe", DefaultBackend: "web",
			Rules: []string{"http-request deny if { req.hdr(X-Block),map_str({dir}/routes.map) -m found }"},
		}},
	})
	got := CountByBackend(t, h.URL("fe"), 4, http.Header{"X-Block": {"1"}})
	want := map[string]int{bs[0].Addr: 2, bs[1].Addr: 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

// TestHAProxyChecksAndMemberHeaders checks the default active checks (a server
// whose port is closed goes DOWN, live ones are confirmed UP), that HAProxy names
// the member in X-Served-By and nginx in X-Upstream, and that both starters stop
// cleanly.
func TestHAProxyChecksAndMemberHeaders(t *testing.T) {
	bs := StartBackends(t, 2)
	deadPort, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dead := "127.0.0.1:" + strconv.Itoa(deadPort)
	h := StartHAProxy(t, HAProxyConfig{
		Backends:  []HAProxyBackend{{Name: "web", Servers: []string{bs[0].Addr, bs[1].Addr, dead}}},
		Frontends: []HAProxyFrontend{{Name: "fe", DefaultBackend: "web"}},
		Checks:    HAProxyChecks{Inter: 200 * time.Millisecond},
	})
	conf, _ := os.ReadFile(h.ConfFile)
	for _, want := range []string{"option httpchk GET /health", "check inter 200ms fall 2 rise 2", "retries 0"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		srvs, err := h.Servers("web")
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]bool{}
		for _, s := range srvs {
			states[s.Addr] = s.Confirmed()
		}
		if states[bs[0].Addr] && states[bs[1].Addr] && !states[dead] && srvs[2].Status == "DOWN" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers: %+v", srvs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(h.URL("fe"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Served-By"); !strings.HasPrefix(got, "web/node") || !strings.Contains(got, "@127.0.0.1:") {
		t.Errorf("X-Served-By = %q, want web/nodeN@address", got)
	}

	n := StartEdgeNginx(t, "web", []string{bs[0].Addr})
	resp, err = http.Get("http://" + n.Addr() + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Upstream"); got != bs[0].Addr {
		t.Errorf("nginx X-Upstream = %q, want %s", got, bs[0].Addr)
	}
	n.Shutdown()
	n.Shutdown() // idempotent
	h.Shutdown()
	if err := WaitTCP(h.APIAddr(), 300*time.Millisecond); err == nil {
		t.Errorf("haproxy still listens after Shutdown")
	}
}
