package haproxy

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// numberRules is the frontend snippet of numbers.go for pool web, comparing query
// parameter id, header X-Tenant-Id and cookie uid, read from the map file NUMBERS.
var numberRules = []string{
	"http-request set-var(txn.ns_q_id) urlp(id)",
	"http-request set-var(txn.ns_num_id) str(web/query/id=),concat(,txn.ns_q_id,)",
	"use_backend %[var(txn.ns_num_id),map_reg(NUMBERS),field(1,|)] if { var(txn.ns_num_id),map_reg(NUMBERS) -m found }",
	"http-request set-var(txn.ns_h_tenant) req.fhdr(X-Tenant-Id)",
	"http-request set-var(txn.ns_num_tenant) str(web/header/X-Tenant-Id=),concat(,txn.ns_h_tenant,)",
	"use_backend %[var(txn.ns_num_tenant),map_reg(NUMBERS),field(1,|)] if { var(txn.ns_num_tenant),map_reg(NUMBERS) -m found }",
	"http-request set-var(txn.ns_c_uid) req.cook(uid)",
	"http-request set-var(txn.ns_num_uid) str(web/cookie/uid=),concat(,txn.ns_c_uid,)",
	"use_backend %[var(txn.ns_num_uid),map_reg(NUMBERS),field(1,|)] if { var(txn.ns_num_uid),map_reg(NUMBERS) -m found }",
}

// TestHAProxyNumberRoutes puts numeric routes through the runtime API and sends
// requests through a real HAProxy on both sides of every bound, with leading zeros,
// non-numbers, missing and very long values; then it moves a threshold, adds a
// second range on the same parameter, refuses an overlap and deletes a route.
func TestHAProxyNumberRoutes(t *testing.T) {
	b := testfleet.StartBackends(t, 3)
	all := []string{b[0].Addr, b[1].Addr, b[2].Addr}
	numbers := filepath.Join(t.TempDir(), "numbers.map")
	if err := os.WriteFile(numbers, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, r := range numberRules {
		rules = append(rules, strings.ReplaceAll(r, "NUMBERS", numbers))
	}
	h := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends: []testfleet.HAProxyBackend{
			{Name: "web", Servers: []string{b[0].Addr}},
			{Name: "web__new-ids", Servers: all},
			{Name: "web__old-ids", Servers: all},
			{Name: "web__tenants", Servers: all},
			{Name: "web__uids", Servers: all},
		},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "web", Rules: rules}},
	})
	p := newProvider(t, h.TCPURL(), map[string]cty.Value{"routes_number_map": cty.StringVal(numbers)})
	ctx := context.Background()
	number := func(source, name string, gte, lt int64) providers.RouteMatch {
		return providers.RouteMatch{Numbers: []providers.NumberMatch{{Source: source, Name: name, GTE: gte, LT: lt}}}
	}
	newIDs := providers.Route{Pool: "web", Name: "new-ids", Version: "2.0.0",
		Match: number("query", "id", 5_000_000, 0), Members: []string{b[2].Addr}}
	tenants := providers.Route{Pool: "web", Name: "tenants", Version: "2.0.0-rc1",
		Match: number("header", "X-Tenant-Id", 100, 200), Members: []string{b[1].Addr}}
	uids := providers.Route{Pool: "web", Name: "uids", Version: "1.9.1",
		Match: number("cookie", "uid", 0, 1000), Members: []string{b[1].Addr, b[2].Addr}}
	for _, r := range []providers.Route{newIDs, tenants, uids} {
		if err := p.PutRoute(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	readBack := func(step string, want ...providers.Route) {
		t.Helper()
		got, err := p.Routes(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Routes (-want +got):\n%s", step, diff)
		}
	}
	readBack("put", newIDs, tenants, uids)

	base := h.URL("fe")
	pool := b[0].Addr
	check := func(step, query string, header http.Header, want map[string]int) {
		t.Helper()
		if diff := cmp.Diff(want, testfleet.CountByBackend(t, base+query, 4, header)); diff != "" {
			t.Errorf("%s: GET %s %v: requests by backend (-want +got):\n%s", step, query, header, diff)
		}
	}
	only := func(addr string) map[string]int { return map[string]int{addr: 4} }
	for _, tt := range []struct{ query, want string }{
		{"?id=4999999", pool}, {"?id=5000000", b[2].Addr}, {"?id=5000001", b[2].Addr},
		{"?id=05000000", b[2].Addr}, {"?id=0004999999", pool}, {"?id=000000000000000000000000000005000000", b[2].Addr},
		{"?id=123456789012345678901234567890", b[2].Addr}, {"?id=99999999999999999999", b[2].Addr},
		{"", pool}, {"?id=", pool}, {"?other=5000000", pool}, {"?id=abc", pool}, {"?id=5000000abc", pool},
		{"?id=-5000000", pool}, {"?id=%2B5000000", pool}, {"?id=5000000.5", pool}, {"?id=5e6", pool},
		{"?id=%35000000", pool}, {"?x=1&id=5000000", b[2].Addr}, {"?id=1&id=5000000", pool},
		{"?ID=5000000", pool}, // urlp matches names case-sensitively (nginx does not)
	} {
		check("query", tt.query, nil, only(tt.want))
	}
	for v, want := range map[string]string{"99": pool, "100": b[1].Addr, "0100": b[1].Addr, "199": b[1].Addr, "200": pool, "1e2": pool, "100,150": pool} {
		check("header", "", http.Header{"X-Tenant-Id": {v}}, only(want))
	}
	two := map[string]int{b[1].Addr: 2, b[2].Addr: 2}
	check("cookie", "", http.Header{"Cookie": {"uid=0"}}, two)
	check("cookie", "", http.Header{"Cookie": {"a=1; uid=999"}}, two)
	check("cookie", "", http.Header{"Cookie": {"uid=1000"}}, only(pool))
	check("cookie", "", http.Header{"Cookie": {"uid=x"}}, only(pool))

	// A new threshold replaces the entry; a second range on the same parameter
	// joins it; an overlapping one is refused before anything changes.
	newIDs.Match = number("query", "id", 6_000_000, 0)
	oldIDs := providers.Route{Pool: "web", Name: "old-ids", Version: "1.9.0",
		Match: number("query", "id", 0, 1000), Members: []string{b[1].Addr}}
	for _, r := range []providers.Route{newIDs, oldIDs} {
		if err := p.PutRoute(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	check("moved", "?id=5999999", nil, only(pool))
	check("moved", "?id=6000000", nil, only(b[2].Addr))
	check("second range", "?id=999", nil, only(b[1].Addr))
	check("second range", "?id=1000", nil, only(pool))
	overlap := providers.Route{Pool: "web", Name: "tenants", Version: "2.0.0-rc1",
		Match: number("query", "id", 900, 2000), Members: []string{b[1].Addr}}
	if err := p.PutRoute(ctx, overlap); err == nil || !strings.Contains(err.Error(), "overlaps id<1000, which routes to web__old-ids") {
		t.Errorf("overlapping range: error = %v", err)
	}
	readBack("changed", newIDs, oldIDs, tenants, uids)

	// A key edited by hand is an error on reading, not a different match.
	if out, err := h.Command("add map " + numbers + " ^web/query/id=0*(7)$ web__new-ids|2.0.0|query|id|6000000|"); err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("add map: %q %v", out, err)
	}
	if _, err := p.Routes(ctx, "web"); err == nil || !strings.Contains(err.Error(), "not the pattern its value implies") {
		t.Errorf("Routes with a hand-edited key: error = %v", err)
	}
	if err := p.DeleteRoute(ctx, "web", "new-ids"); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteRoute(ctx, "web", "uids"); err != nil {
		t.Fatal(err)
	}
	check("deleted", "?id=7000000", nil, only(pool))
	check("deleted", "", http.Header{"Cookie": {"uid=1"}}, only(pool))
	readBack("deleted", oldIDs, tenants)

	refusals := map[string]struct {
		p     *HAProxy
		route providers.Route
		want  string
	}{
		"with a header": {p, providers.Route{Pool: "web", Name: "uids", Version: "1",
			Match: providers.RouteMatch{Header: map[string]string{"X-A": "1"}, Numbers: uids.Match.Numbers}, Members: []string{b[1].Addr}},
			"has 2 conditions"},
		"two comparisons": {p, providers.Route{Pool: "web", Name: "uids", Version: "1",
			Match: providers.RouteMatch{Numbers: append(number("query", "id", 1, 2).Numbers, uids.Match.Numbers...)}, Members: []string{b[1].Addr}},
			"one condition per route"},
		"no map": {newProvider(t, h.TCPURL(), nil), uids, "routes_number_map is not set"},
		"shared map": {newProvider(t, h.TCPURL(), map[string]cty.Value{"routes_map": cty.StringVal(numbers), "routes_number_map": cty.StringVal(numbers)}),
			uids, "must be a file of its own"},
		"empty range": {p, providers.Route{Pool: "web", Name: "uids", Version: "1", Match: number("query", "id", 5, 5)}, "no whole number"},
	}
	for name, tt := range refusals {
		if err := tt.p.PutRoute(ctx, tt.route); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tt.want)
		}
	}
}

// TestNumberEntries pins the map entries of a comparison and reads them back.
func TestNumberEntries(t *testing.T) {
	h := &HAProxy{name: "lb", maps: routeMaps{header: "/h.map", number: "/n.map"}}
	r := providers.Route{Pool: "web.v2", Name: "tenants", Version: "2.0.0",
		Match: providers.RouteMatch{Numbers: []providers.NumberMatch{{Source: "header", Name: "x-tenant-id", GTE: 100, LT: 200}}}}
	file, keys, value, err := h.routeEntries(r)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/n.map", `^web[.]v2/header/X-Tenant-Id=0*(1[0-9]{2})$`, "web.v2__tenants|2.0.0|header|x-tenant-id|100|200"}
	if diff := cmp.Diff(want, append([]string{file}, append(keys, value)...)); diff != "" {
		t.Errorf("entry (-want +got):\n%s", diff)
	}
	n, err := parseNumberEntry("web.v2", mapEntry{key: keys[0], value: value})
	if err != nil || n != r.Match.Numbers[0] {
		t.Errorf("read back %+v, %v", n, err)
	}
	for _, v := range []string{"web.v2__tenants|2.0.0|header|x-tenant-id|100", "web.v2__tenants|2.0.0|header|x-tenant-id|200|100",
		"web.v2__tenants|2.0.0|body|x|1|", "web.v2__tenants|2.0.0|header|x-tenant-id|100|"} {
		if _, err := parseNumberEntry("web.v2", mapEntry{key: keys[0], value: v}); err == nil {
			t.Errorf("value %q read back without an error", v)
		}
	}
}
