package testfleet

import (
	"net/http"
	"testing"

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
