package nginx

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// numberRoutes are the numeric routes of the tests: ids from 5,000,000 on (new
// records), tenants 100 to 199 by header and a cookie range with a header value.
func numberRoutes(newMembers, tenantMembers, cookieMembers []string) []providers.Route {
	return []providers.Route{
		{Pool: "web", Name: "cookie-range", Version: "1.9.1",
			Match: providers.RouteMatch{Header: map[string]string{"X-Beta": "1"},
				Numbers: []providers.NumberMatch{{Source: "cookie", Name: "uid", GTE: 10, LT: 1000}}},
			Members: cookieMembers},
		{Pool: "web", Name: "new-ids", Version: "2.0.0",
			Match:   providers.RouteMatch{Numbers: []providers.NumberMatch{{Source: "query", Name: "id", GTE: 5_000_000}}},
			Members: newMembers},
		{Pool: "web", Name: "tenants", Version: "2.0.0-rc1",
			Match:   providers.RouteMatch{Numbers: []providers.NumberMatch{{Source: "header", Name: "X-Tenant-Id", GTE: 100, LT: 200}}},
			Members: tenantMembers},
	}
}

// TestNumbersRenderParse renders numeric routes, pins the file in a golden file
// and reads it back to the same routes.
func TestNumbersRenderParse(t *testing.T) {
	f := &upstreamsFile{}
	p := f.addPool("web")
	p.members = []*member{{addr: "127.0.0.1:18081", weight: 1, state: providers.StateReady}}
	p.routes = numberRoutes([]string{"127.0.0.1:18082"}, []string{"127.0.0.1:18083"}, []string{"127.0.0.1:18081"})
	data, err := f.render("nginx.edge")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "numbers.golden.conf")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("render differs from %s (-want +got):\n%s", golden, diff)
	}
	back, err := parseUpstreams(string(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.routes, back.findPool("web").routes); diff != "" {
		t.Errorf("routes read back (-want +got):\n%s", diff)
	}

	// A hand edit of a pattern, of the variable read or of the comment is an
	// error, never a different match read back silently.
	for name, edit := range map[string][2]string{
		"pattern":    {`"~^0*([5-9][0-9]{6}|[1-9][0-9]{7,})$" 1;`, `"~^0*([4-9][0-9]{6}|[1-9][0-9]{7,})$" 1;`},
		"variable":   {"map $arg_id ", "map $arg_uid "},
		"comment":    {`"gte":5000000`, `"gte":4000000`},
		"no comment": {`# nonstop:number {"source":"query","name":"id","gte":5000000}`, "# by hand"},
	} {
		if !strings.Contains(string(data), edit[0]) {
			t.Fatalf("%s: the file has no %q", name, edit[0])
		}
		if _, err := parseUpstreams(strings.Replace(string(data), edit[0], edit[1], 1)); err == nil {
			t.Errorf("%s edited by hand: read back without an error", name)
		}
	}
}

// TestNumbersRefused checks the comparisons nginx cannot hold.
func TestNumbersRefused(t *testing.T) {
	for name, tt := range map[string]struct {
		n    providers.NumberMatch
		want string
	}{
		"query dash":  {providers.NumberMatch{Source: "query", Name: "user-id", GTE: 1}, `$arg_user-id`},
		"cookie dot":  {providers.NumberMatch{Source: "cookie", Name: "a.b", GTE: 1}, `$cookie_a.b`},
		"header _":    {providers.NumberMatch{Source: "header", Name: "X_Tenant", GTE: 1}, `letters, digits and "-"`},
		"empty range": {providers.NumberMatch{Source: "query", Name: "id", GTE: 5, LT: 5}, "no whole number"},
		"source":      {providers.NumberMatch{Source: "body", Name: "id", GTE: 5}, "unknown source"},
	} {
		err := checkNumber(tt.n)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tt.want)
		}
	}
}

// TestNginxNumberRoutes puts numeric routes on a real nginx and sends requests on
// both sides of every bound, with leading zeros, non-numbers, missing and very long
// values, then changes the threshold and deletes a route.
func TestNginxNumberRoutes(t *testing.T) {
	f := startFleet(t, 4)
	ctx := context.Background()
	b := f.backends
	routes := numberRoutes([]string{b[2].Addr}, []string{b[1].Addr}, []string{b[3].Addr})
	f.write(t, func(ctx context.Context) error {
		return f.provider.Batch(ctx, func() error {
			for _, r := range routes {
				if err := f.provider.PutRoute(ctx, r); err != nil {
					return err
				}
			}
			for _, m := range []int{1, 2, 3} { // the pool itself serves only b[0]
				if err := f.provider.SetMemberWeight(ctx, "web", b[m].Addr, 0); err != nil {
					return err
				}
			}
			return nil
		})
	})
	got, err := f.provider.Routes(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(routes, got); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	base := f.nginx.URL("web")
	pool, newIDs, tenants, cookies := b[0].Addr, b[2].Addr, b[1].Addr, b[3].Addr
	check := func(step, query string, header http.Header, want string) {
		t.Helper()
		got := testfleet.CountByBackend(t, base+query, 3, header)
		if diff := cmp.Diff(map[string]int{want: 3}, got); diff != "" {
			t.Errorf("%s: GET %s %v: requests by backend (-want +got):\n%s", step, query, header, diff)
		}
	}
	for _, tt := range []struct{ query, want string }{
		{"?id=4999999", pool}, {"?id=5000000", newIDs}, {"?id=5000001", newIDs},
		{"?id=05000000", newIDs}, {"?id=0004999999", pool}, {"?id=000000000000000000000000000005000000", newIDs},
		{"?id=123456789012345678901234567890", newIDs}, {"?id=99999999999999999999", newIDs},
		{"", pool}, {"?id=", pool}, {"?other=5000000", pool}, {"?id=abc", pool}, {"?id=5000000abc", pool},
		{"?id=-5000000", pool}, {"?id=%2B5000000", pool}, {"?id=5000000.5", pool}, {"?id=5e6", pool},
		{"?id=%35000000", pool}, {"?x=1&id=5000000", newIDs}, {"?id=1&id=5000000", pool}, {"?ID=5000000", newIDs},
	} {
		check("query", tt.query, nil, tt.want)
	}
	for v, want := range map[string]string{"99": pool, "100": tenants, "0100": tenants, "199": tenants, "200": pool, "1e2": pool, "": pool} {
		check("header", "", http.Header{"X-Tenant-Id": {v}}, want)
	}
	for cookie, want := range map[string]string{"uid=9": pool, "uid=10": cookies, "a=1; uid=999": cookies, "uid=1000": pool} {
		check("cookie with header", "", http.Header{"Cookie": {cookie}, "X-Beta": {"1"}}, want)
	}
	check("cookie without header", "", http.Header{"Cookie": {"uid=10"}}, pool)

	// A new threshold replaces the pattern; deleting a route sends its requests back.
	routes[1].Match.Numbers[0].GTE = 6_000_000
	f.write(t, func(ctx context.Context) error { return f.provider.PutRoute(ctx, routes[1]) })
	check("new threshold", "?id=5999999", nil, pool)
	check("new threshold", "?id=6000000", nil, newIDs)
	f.write(t, func(ctx context.Context) error { return f.provider.DeleteRoute(ctx, "web", "tenants") })
	check("deleted", "", http.Header{"X-Tenant-Id": {"150"}}, pool)
	if got, err = f.provider.Routes(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]providers.Route{routes[0], routes[1]}, got); diff != "" {
		t.Errorf("Routes after change (-want +got):\n%s", diff)
	}
	bad := routes[1]
	bad.Match.Numbers = []providers.NumberMatch{{Source: "query", Name: "user-id", GTE: 1}}
	if err := f.provider.PutRoute(ctx, bad); err == nil || !strings.Contains(err.Error(), "$arg_user-id") {
		t.Errorf("PutRoute with a name nginx cannot read: %v", err)
	}
}
