package nginx

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestNginxRoutes puts a header route and a client-IP route and checks, through
// nginx, that matching requests reach only the route's members and the others only
// the pool; then it deletes a route and checks traffic goes back to the pool.
func TestNginxRoutes(t *testing.T) {
	f := startFleet(t, 4)
	ctx := context.Background()
	b := f.backends
	canary := providers.Route{Pool: "web", Name: "canary", Version: "2.0.0",
		Match: providers.RouteMatch{Header: map[string]string{"X-Canary": "yes"}}, Members: []string{b[3].Addr}}
	// Requests in the test come from 127.0.0.1; 10.0.0.0/8 must not match them.
	local := providers.Route{Pool: "web", Name: "local", Version: "1.9.0",
		Match:   providers.RouteMatch{ClientIP: []string{"127.0.0.0/8"}, Header: map[string]string{"X-Beta": "1"}},
		Members: []string{b[2].Addr}}
	office := providers.Route{Pool: "web", Name: "office", Version: "1.8.0",
		Match: providers.RouteMatch{ClientIP: []string{"10.0.0.0/8"}}, Members: []string{b[2].Addr}}
	// Tried last (by name): every other request from 127.0.0.1 goes to b[1].
	loopback := providers.Route{Pool: "web", Name: "zz-loopback", Version: "1.7.0",
		Match: providers.RouteMatch{ClientIP: []string{"127.0.0.1"}}, Members: []string{b[1].Addr}}
	f.write(t, func(ctx context.Context) error {
		return f.provider.Batch(ctx, func() error {
			for _, r := range []providers.Route{canary, local, office, loopback} {
				if err := f.provider.PutRoute(ctx, r); err != nil {
					return err
				}
			}
			// The pool itself serves only b[0] and b[1].
			for _, m := range []int{2, 3} {
				if err := f.provider.SetMemberWeight(ctx, "web", b[m].Addr, 0); err != nil {
					return err
				}
			}
			return nil
		})
	})
	// Route members at weight 0 in the pool still serve their route.
	routes, err := f.provider.Routes(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]providers.Route{canary, local, office, loopback}, routes); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	url := f.nginx.URL("web")
	tests := map[string]struct {
		header http.Header
		want   map[string]int
	}{
		"no header":      {nil, map[string]int{b[1].Addr: 8}},
		"canary header":  {http.Header{"X-Canary": {"yes"}}, map[string]int{b[3].Addr: 8}},
		"canary case":    {http.Header{"X-Canary": {"YES"}}, map[string]int{b[1].Addr: 8}},
		"beta from lo":   {http.Header{"X-Beta": {"1"}}, map[string]int{b[2].Addr: 8}},
		"beta wrong val": {http.Header{"X-Beta": {"2"}}, map[string]int{b[1].Addr: 8}},
	}
	for name, tt := range tests {
		got := testfleet.CountByBackend(t, url, 8, tt.header)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: requests by backend (-want +got):\n%s", name, diff)
		}
	}
	f.write(t, func(ctx context.Context) error {
		return f.provider.Batch(ctx, func() error {
			if err := f.provider.DeleteRoute(ctx, "web", "canary"); err != nil {
				return err
			}
			return f.provider.DeleteRoute(ctx, "web", "zz-loopback")
		})
	})
	got := testfleet.CountByBackend(t, url, 8, http.Header{"X-Canary": {"yes"}})
	if diff := cmp.Diff(map[string]int{b[0].Addr: 4, b[1].Addr: 4}, got); diff != "" {
		t.Errorf("after delete: requests by backend (-want +got):\n%s", diff)
	}
	if err := f.provider.DeleteRoute(ctx, "web", "canary"); err == nil || !strings.Contains(err.Error(), `no route "canary"`) {
		t.Errorf("second delete error = %v, want no route", err)
	}
}

// TestNginxSeedsNewPool checks that a write to a pool not yet in the file creates
// it, and that a batch costs one reload.
func TestNginxSeedsNewPool(t *testing.T) {
	f := startFleet(t, 2)
	ctx := context.Background()
	before := f.nginx.Reloads()
	err := f.provider.Batch(ctx, func() error {
		return f.provider.EnsurePool(ctx, "api", []providers.Member{
			{Address: f.backends[0].Addr, Weight: 2, State: providers.StateReady},
			{Address: f.backends[1].Addr, Weight: 1, State: providers.StateMaint},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.provider.SetMemberWeight(ctx, "api", f.backends[1].Addr, 4); err != nil {
		t.Fatal(err)
	}
	f.nginx.WaitReloaded(t, before+2)
	if got := f.nginx.Reloads(); got != before+2 {
		t.Errorf("reloads = %d, want 2 (one batch, one write)", got-before)
	}
	got, err := f.provider.Pool(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Member{
		{Pool: "api", Address: f.backends[0].Addr, Weight: 2, State: providers.StateReady},
		{Pool: "api", Address: f.backends[1].Addr, Weight: 4, State: providers.StateMaint},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pool (-want +got):\n%s", diff)
	}
}
