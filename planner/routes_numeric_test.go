package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// TestDriftNumericRoute checks that drift compares a route's comparisons: the same
// range read back in another order is no drift, a hand-moved threshold is, printed
// as the plans print matches.
func TestDriftNumericRoute(t *testing.T) {
	numbered := func(l *Live, numbers ...providers.NumberMatch) {
		r := l.Services["order-service"].Routes["http"]
		r[0].Match.Numbers = numbers
	}
	for name, tc := range map[string]struct {
		edit func(l *Live)
		want []DriftItem
	}{
		"same comparisons, other order": {edit: func(l *Live) {
			numbered(l, providers.NumberMatch{Source: "query", Name: "id", GTE: 5000000},
				providers.NumberMatch{Source: "cookie", Name: "uid", LT: 1000})
		}},
		"threshold moved by hand": {
			edit: func(l *Live) {
				numbered(l, providers.NumberMatch{Source: "cookie", Name: "uid", LT: 1000},
					providers.NumberMatch{Source: "query", Name: "id", GTE: 4000000})
			},
			want: []DriftItem{{"order-service", "route", "nginx.edge/order_backend/beta-testers", "match",
				"client_ip=[10.8.0.0/16] header={X-Canary=1} query={id>=5000000} cookie={uid<1000}",
				"client_ip=[10.8.0.0/16] header={X-Canary=1} query={id>=4000000} cookie={uid<1000}"}},
		},
		"comparison removed by hand": {
			edit: func(l *Live) { numbered(l, providers.NumberMatch{Source: "query", Name: "id", GTE: 5000000}) },
			want: []DriftItem{{"order-service", "route", "nginx.edge/order_backend/beta-testers", "match",
				"client_ip=[10.8.0.0/16] header={X-Canary=1} query={id>=5000000} cookie={uid<1000}",
				"client_ip=[10.8.0.0/16] header={X-Canary=1} query={id>=5000000}"}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := driftConfig()
			m := &cfg.Services["order-service"].Routes[0].Match
			m.Numbers = []lang.NumberMatch{{Source: "cookie", Name: "uid", LT: 1000}, {Source: "query", Name: "id", GTE: 5000000}}
			live := driftLive()
			tc.edit(live)
			if diff := cmp.Diff(tc.want, Drift(cfg, live)); diff != "" {
				t.Errorf("Drift (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRouteEqualNumbers checks the route comparison that decides whether a
// route.set is planned.
func TestRouteEqualNumbers(t *testing.T) {
	id := func(gte, lt int64) providers.NumberMatch {
		return providers.NumberMatch{Source: "query", Name: "id", GTE: gte, LT: lt}
	}
	uid := providers.NumberMatch{Source: "cookie", Name: "uid", LT: 10}
	route := func(ns ...providers.NumberMatch) *providers.Route {
		return &providers.Route{Version: "2.0.0", Members: []string{"a", "b"}, Match: providers.RouteMatch{Numbers: ns}}
	}
	tests := []struct {
		a, b *providers.Route
		want bool
	}{
		{route(id(5, 0), uid), route(uid, id(5, 0)), true},
		{route(id(5, 0)), route(id(6, 0)), false},
		{route(id(5, 0)), route(id(5, 100)), false},
		{route(id(5, 0)), route(id(5, 0), uid), false},
		{route(id(5, 0)), route(providers.NumberMatch{Source: "header", Name: "id", GTE: 5}), false},
		{route(), route(), true},
	}
	for i, tt := range tests {
		if got := routeEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("%d: routeEqual(%v, %v) = %v, want %v", i, tt.a.Match, tt.b.Match, got, tt.want)
		}
	}
}
