package haproxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// routeRules is the frontend snippet from doc.go for pool web and header X-Canary.
var routeRules = []string{
	"http-request set-var(txn.ns_x_canary) req.hdr(X-Canary)",
	"http-request set-var(txn.ns_key) str(web/X-Canary=),concat(,txn.ns_x_canary,)",
	"use_backend %[var(txn.ns_key),map_str({dir}/routes.map),field(1,|)] if { var(txn.ns_key),map_str({dir}/routes.map) -m found }",
	"use_backend %[src,map_ip({dir}/routes-ip.map),field(1,|)] if { src,map_ip({dir}/routes-ip.map),field(1,|) -m beg web__ }",
}

// TestHAProxyRouteRoundTrip puts a header route and a client-IP route, reads them
// back, sends requests through HAProxy, changes a route and deletes one.
func TestHAProxyRouteRoundTrip(t *testing.T) {
	b := testfleet.StartBackends(t, 3)
	all := []string{b[0].Addr, b[1].Addr, b[2].Addr}
	h := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends: []testfleet.HAProxyBackend{
			{Name: "web", Servers: []string{b[0].Addr, b[1].Addr}},
			{Name: "web__canary", Servers: all},
			{Name: "web__local", Servers: all},
		},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "web", Rules: routeRules}},
	})
	p := newProvider(t, h.TCPURL(), map[string]cty.Value{
		"routes_map":    cty.StringVal(h.RoutesMap),
		"routes_ip_map": cty.StringVal(h.RoutesIPMap),
	})
	ctx := context.Background()
	canary := providers.Route{Pool: "web", Name: "canary", Version: "2.0.0",
		Match: providers.RouteMatch{Header: map[string]string{"X-Canary": "1"}}, Members: []string{b[2].Addr}}
	local := providers.Route{Pool: "web", Name: "local", Version: "1.9.0",
		Match: providers.RouteMatch{ClientIP: []string{"127.0.0.1/32", "10.0.0.0/8"}}, Members: []string{b[1].Addr}}
	for _, r := range []providers.Route{canary, local} {
		if err := p.PutRoute(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := p.Routes(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]providers.Route{canary, local}, got); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	url := h.URL("fe")
	check := func(step string, header http.Header, want map[string]int) {
		t.Helper()
		if diff := cmp.Diff(want, testfleet.CountByBackend(t, url, 6, header)); diff != "" {
			t.Errorf("%s: requests by backend (-want +got):\n%s", step, diff)
		}
	}
	check("header route", http.Header{"X-Canary": {"1"}}, map[string]int{b[2].Addr: 6})
	check("client-IP route", nil, map[string]int{b[1].Addr: 6})
	check("other header value", http.Header{"X-Canary": {"2"}}, map[string]int{b[1].Addr: 6})

	// A new version on other members replaces the route in place.
	canary.Version, canary.Members = "2.0.1", []string{b[0].Addr, b[2].Addr}
	if err := p.PutRoute(ctx, canary); err != nil {
		t.Fatal(err)
	}
	check("changed header route", http.Header{"X-Canary": {"1"}}, map[string]int{b[0].Addr: 3, b[2].Addr: 3})
	if err := p.DeleteRoute(ctx, "web", "local"); err != nil {
		t.Fatal(err)
	}
	check("after delete", nil, map[string]int{b[0].Addr: 3, b[1].Addr: 3})
	got, err = p.Routes(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]providers.Route{canary}, got); diff != "" {
		t.Errorf("Routes after change (-want +got):\n%s", diff)
	}

	refusals := map[string]struct {
		route providers.Route
		want  string
	}{
		"ip and header": {providers.Route{Pool: "web", Name: "local", Version: "1",
			Match: providers.RouteMatch{ClientIP: []string{"10.0.0.0/8"}, Header: map[string]string{"X-A": "1"}}}, "one condition per route"},
		"taken key": {providers.Route{Pool: "web", Name: "local", Version: "1",
			Match: providers.RouteMatch{Header: map[string]string{"x-canary": "1"}}, Members: []string{b[1].Addr}}, "already routes to web__canary|2.0.1"},
		"no backend": {providers.Route{Pool: "web", Name: "ghost", Version: "1",
			Match: providers.RouteMatch{Header: map[string]string{"X-Ghost": "1"}}}, "declare backend web__ghost"},
		"foreign member": {providers.Route{Pool: "web", Name: "local", Version: "1",
			Match: providers.RouteMatch{Header: map[string]string{"X-L": "1"}}, Members: []string{"127.0.0.1:1"}}, "no server with address 127.0.0.1:1"},
	}
	for name, tt := range refusals {
		err := p.PutRoute(ctx, tt.route)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tt.want)
		}
	}
	if err := p.DeleteRoute(ctx, "web", "local"); err == nil {
		t.Error("deleting a deleted route succeeded")
	}
}
