package haproxy

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// healthServer answers /health with 200 or 503 as told, and everything else 200.
type healthServer struct {
	addr string
	sick atomic.Bool
}

func startHealthServer(t *testing.T) *healthServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &healthServer{addr: l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health" && h.sick.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(h.addr))
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return h
}

// TestHAProxyHealthFollowsChecks reads HAProxy's own verdict while its checks fail
// and pass again, with the server drained (checks keep running there) and ready.
func TestHAProxyHealthFollowsChecks(t *testing.T) {
	srv := startHealthServer(t)
	checks := testfleet.HAProxyChecks{Inter: 100 * time.Millisecond, Fall: 2, Rise: 3}
	h := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: "web", Servers: []string{srv.addr}}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "web"}},
		Checks:    checks,
	})
	p := newProvider(t, h.SocketURL(), nil)
	ctx := context.Background()
	member := func() providers.Member {
		t.Helper()
		ms, err := p.Pool(ctx, "web")
		if err != nil || len(ms) != 1 {
			t.Fatalf("Pool: %v %v", ms, err)
		}
		return ms[0]
	}
	waitFor := func(what string, ok func(providers.Member) bool) providers.Member {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			m := member()
			if ok(m) {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never; last %+v", what, m)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	up := func(m providers.Member) bool { return m.Health == providers.HealthUp }
	// Down by HAProxy's own verdict, not only unconfirmed (a failed check of an UP
	// server already makes its health down for nonstop: "UP 1/2" is going down).
	down := func(m providers.Member) bool {
		return m.Health == providers.HealthDown && strings.HasPrefix(m.HealthDetail, "DOWN")
	}

	m := waitFor("up at start", up)
	if !m.Serving() || !strings.HasPrefix(m.HealthDetail, "UP") {
		t.Errorf("healthy ready member: Serving %t, detail %q", m.Serving(), m.HealthDetail)
	}
	if err := p.SetMemberState(ctx, "web", srv.addr, providers.StateDrain); err != nil {
		t.Fatal(err)
	}
	srv.sick.Store(true)
	m = waitFor("down while drained", down)
	if m.State != providers.StateDrain || m.Serving() || !strings.Contains(m.HealthDetail, "L7STS") {
		t.Errorf("sick drained member: %+v", m)
	}
	// Ready again while its checks still fail: nonstop's write does not make HAProxy
	// route to it.
	if err := p.SetMemberState(ctx, "web", srv.addr, providers.StateReady); err != nil {
		t.Fatal(err)
	}
	if m = member(); m.State != providers.StateReady || m.Health != providers.HealthDown || m.Serving() {
		t.Errorf("sick ready member: %+v, want ready, down, not serving", m)
	}
	// Checks pass again: it takes Rise checks before HAProxy says UP.
	srv.sick.Store(false)
	healed := time.Now()
	m = waitFor("up after rise", up)
	if took := time.Since(healed); took < time.Duration(checks.Rise-1)*checks.Inter {
		t.Errorf("UP after %s, before %d checks could pass", took, checks.Rise)
	}
	if !m.Serving() {
		t.Errorf("healed ready member is not serving: %+v", m)
	}
}

// TestPutRouteWaitsForRouteBackendChecks routes to a member whose checks in the
// route's own backend still fail (it just restarted): PutRoute changes the map
// only once HAProxy has it UP there, so matching requests never get 503 <NOSRV>.
func TestPutRouteWaitsForRouteBackendChecks(t *testing.T) {
	srv := startHealthServer(t)
	other := startHealthServer(t)
	srv.sick.Store(true)
	checks := testfleet.HAProxyChecks{Inter: 100 * time.Millisecond, Fall: 2, Rise: 3}
	h := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends: []testfleet.HAProxyBackend{
			{Name: "web", Servers: []string{other.addr, srv.addr}},
			{Name: "web__canary", Servers: []string{other.addr, srv.addr}},
		},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "web", Rules: routeRules}},
		Checks:    checks,
	})
	p := newProvider(t, h.TCPURL(), map[string]cty.Value{"routes_map": cty.StringVal(h.RoutesMap)})
	healed := time.Now().Add(700 * time.Millisecond)
	go func() {
		time.Sleep(time.Until(healed))
		srv.sick.Store(false)
	}()
	route := providers.Route{Pool: "web", Name: "canary", Version: "2.0.0",
		Match: providers.RouteMatch{Header: map[string]string{"X-Canary": "1"}}, Members: []string{srv.addr}}
	if err := p.PutRoute(context.Background(), route); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(healed) {
		t.Error("PutRoute changed the map before the member's checks passed in the route backend")
	}
	got := testfleet.CountByBackend(t, h.URL("fe"), 6, http.Header{"X-Canary": {"1"}})
	if diff := cmp.Diff(map[string]int{srv.addr: 6}, got); diff != "" {
		t.Errorf("requests right after PutRoute (-want +got):\n%s", diff)
	}
}
