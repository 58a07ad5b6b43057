package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

func driftAddrs(ports ...int) []lang.Address {
	out := make([]lang.Address, len(ports))
	for i, p := range ports {
		out[i] = lang.Address{Host: "127.0.0.1", Port: p}
	}
	return out
}

// driftConfig declares three services: order-service (rolling, weight 5, a route),
// user-service sharing order's pool with a route of its own, and pay-service
// (blue-green with keep_standby, no configured weight).
func driftConfig() *lang.Config {
	weight := 5
	reg := func() *lang.Registry {
		return &lang.Registry{Provider: testNacos, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}
	}
	orderPool := func() []*lang.Balancer {
		return []*lang.Balancer{{Name: "http", Provider: testNginx, Pool: "order_backend", Weight: &weight}}
	}
	return &lang.Config{
		ServiceNames: []string{"order-service", "user-service", "pay-service"},
		Services: map[string]*lang.Service{
			"order-service": {Name: "order-service", Version: "1.5.0", Registry: reg(),
				Groups:    []*lang.Group{{Name: "a", Instances: driftAddrs(18081, 18082)}, {Name: "b", Instances: driftAddrs(18083)}},
				Balancers: orderPool(),
				Strategy:  &lang.Strategy{Kind: lang.Rolling, Batch: lang.Batch{ByGroup: true}},
				Routes: []*lang.Route{{Name: "beta-testers", Version: "1.6.0-rc1",
					Match: lang.RouteMatch{ClientIP: []string{"10.8.0.0/16"}, Header: map[string]string{"X-Canary": "1"}}}},
			},
			"user-service": {Name: "user-service", Version: "2.0.0",
				Groups:    []*lang.Group{{Name: "a", Instances: driftAddrs(18091)}},
				Balancers: orderPool(),
				Routes:    []*lang.Route{{Name: "user-beta", Version: "2.0.0", Match: lang.RouteMatch{Header: map[string]string{"x-user-beta": "1"}}}},
			},
			"pay-service": {Name: "pay-service", Version: "3.1.0", Registry: reg(),
				Groups:    []*lang.Group{{Name: "blue", Instances: driftAddrs(19001)}, {Name: "green", Instances: driftAddrs(19002)}},
				Balancers: []*lang.Balancer{{Name: "tcp", Provider: testHAP, Pool: "pay"}},
				Strategy:  &lang.Strategy{Kind: lang.BlueGreen, KeepStandby: true},
			},
		},
	}
}

func driftInstance(svc, addr, version string, enabled bool, weight float64) providers.Instance {
	return providers.Instance{Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT", Address: addr,
		Enabled: enabled, Weight: weight, Healthy: true, Version: version, VersionKnown: true}
}

// driftLive is the steady state of driftConfig: pay-service's blue group serves and
// green stands by at the old version.
func driftLive() *Live {
	orderPool := []providers.Member{
		{Pool: "order_backend", Address: "127.0.0.1:18081", Weight: 5, State: providers.StateReady},
		{Pool: "order_backend", Address: "127.0.0.1:18082", Weight: 5, State: providers.StateReady},
		{Pool: "order_backend", Address: "127.0.0.1:18083", Weight: 5, State: providers.StateReady},
		{Pool: "order_backend", Address: "127.0.0.1:18091", Weight: 5, State: ""},
	}
	routes := []providers.Route{
		{Pool: "order_backend", Name: "beta-testers", Version: "1.6.0-rc1",
			Match: providers.RouteMatch{ClientIP: []string{"10.8.0.0/16"}, Header: map[string]string{"x-canary": "1"}}},
		{Pool: "order_backend", Name: "user-beta", Version: "2.0.0", Match: providers.RouteMatch{Header: map[string]string{"X-User-Beta": "1"}}},
	}
	return &Live{Services: map[string]*LiveService{
		"order-service": {Name: "order-service",
			Instances: map[string]providers.Instance{
				"127.0.0.1:18081": driftInstance("order-service", "127.0.0.1:18081", "1.5.0", true, 1),
				"127.0.0.1:18082": driftInstance("order-service", "127.0.0.1:18082", "1.6.0-rc1", true, 1),
				"127.0.0.1:18083": driftInstance("order-service", "127.0.0.1:18083", "1.5.0", true, 100),
			},
			Balancers: map[string][]providers.Member{"http": copyMembers(orderPool)},
			Routes:    map[string][]providers.Route{"http": copyRoutes(routes)},
		},
		"user-service": {Name: "user-service", Instances: map[string]providers.Instance{},
			Balancers: map[string][]providers.Member{"http": copyMembers(orderPool)},
			Routes:    map[string][]providers.Route{"http": copyRoutes(routes)},
		},
		"pay-service": {Name: "pay-service",
			Instances: map[string]providers.Instance{
				"127.0.0.1:19001": driftInstance("pay-service", "127.0.0.1:19001", "3.1.0", true, 1),
				"127.0.0.1:19002": driftInstance("pay-service", "127.0.0.1:19002", "3.0.0", false, 1),
			},
			Balancers: map[string][]providers.Member{"tcp": {
				{Pool: "pay", Address: "127.0.0.1:19001", Weight: 1, State: providers.StateReady},
				{Pool: "pay", Address: "127.0.0.1:19002", Weight: 0, State: providers.StateReady},
			}},
		},
	}}
}

const (
	orderMember = "nginx.edge/order_backend/127.0.0.1:"
	payMember   = "haproxy.lb/pay/127.0.0.1:"
)

// bothPools edits order_backend as both services sharing it see it.
func bothPools(l *Live, fn func(svc string, members []providers.Member, routes *[]providers.Route)) {
	for _, svc := range []string{"order-service", "user-service"} {
		r := l.Services[svc].Routes["http"]
		fn(svc, l.Services[svc].Balancers["http"], &r)
		l.Services[svc].Routes["http"] = r
	}
}

func TestDrift(t *testing.T) {
	tests := map[string]struct {
		edit func(l *Live)
		want []DriftItem
	}{
		"steady state, standby included": {edit: func(l *Live) {}},
		"wrong version": {
			edit: func(l *Live) {
				setInstance(l, "order-service", "127.0.0.1:18081", func(i *providers.Instance) { i.Version = "1.4.2" })
			},
			want: []DriftItem{{"order-service", "instance", "a/127.0.0.1:18081", "version", "1.5.0", "1.4.2"}},
		},
		"disabled, version hidden": {
			edit: func(l *Live) {
				setInstance(l, "order-service", "127.0.0.1:18083", func(i *providers.Instance) {
					i.Enabled, i.Version, i.VersionKnown = false, "", false
				})
			},
			want: []DriftItem{{"order-service", "instance", "b/127.0.0.1:18083", "enabled", true, false}},
		},
		"registry weight zero": {
			edit: func(l *Live) {
				setInstance(l, "order-service", "127.0.0.1:18082", func(i *providers.Instance) { i.Weight = 0 })
			},
			want: []DriftItem{{"order-service", "instance", "a/127.0.0.1:18082", "weight", "> 0", 0.0}},
		},
		"not registered": {
			edit: func(l *Live) { delete(l.Services["order-service"].Instances, "127.0.0.1:18082") },
			want: []DriftItem{{"order-service", "instance", "a/127.0.0.1:18082", "present", true, false}},
		},
		"member weight and state changed by hand": {
			edit: func(l *Live) {
				m := l.Services["order-service"].Balancers["http"]
				m[0].State = providers.StateDrain
				m[2].Weight = 1
			},
			want: []DriftItem{
				{"order-service", "member", orderMember + "18081", "state", "ready", "drain"},
				{"order-service", "member", orderMember + "18083", "weight", 5, 1},
			},
		},
		"member missing": {
			edit: func(l *Live) {
				m := l.Services["order-service"].Balancers["http"]
				l.Services["order-service"].Balancers["http"] = append(m[:1:1], m[2:]...)
			},
			want: []DriftItem{{"order-service", "member", orderMember + "18082", "present", true, false}},
		},
		"unread balancer is not compared": {
			edit: func(l *Live) { delete(l.Services["order-service"].Balancers, "http") },
		},
		"service not refreshed is skipped": {
			edit: func(l *Live) {
				delete(l.Services, "order-service")
				delete(l.Services, "pay-service")
				l.Services["user-service"].Balancers["http"][3].Weight = 0
			},
			want: []DriftItem{{"user-service", "member", orderMember + "18091", "weight", 5, 0}},
		},
		"route missing, edited, extra once for a shared pool": {
			edit: func(l *Live) {
				bothPools(l, func(svc string, _ []providers.Member, routes *[]providers.Route) {
					(*routes)[0].Version = "1.6.0-rc2"
					(*routes)[0].Match.ClientIP = []string{"0.0.0.0/0"}
					*routes = append((*routes)[:1], providers.Route{Pool: "order_backend", Name: "hotfix", Version: "1.4.9"})
				})
			},
			want: []DriftItem{
				{"order-service", "route", "nginx.edge/order_backend/beta-testers", "version", "1.6.0-rc1", "1.6.0-rc2"},
				{"order-service", "route", "nginx.edge/order_backend/beta-testers", "match",
					"client_ip=[10.8.0.0/16] header={X-Canary=1}", "client_ip=[0.0.0.0/0] header={X-Canary=1}"},
				{"order-service", "route", "nginx.edge/order_backend/hotfix", "present", false, true},
				{"user-service", "route", "nginx.edge/order_backend/user-beta", "present", true, false},
			},
		},
		"blue-green swapped: blue is the standby": {
			edit: func(l *Live) {
				setInstance(l, "pay-service", "127.0.0.1:19001", func(i *providers.Instance) { i.Enabled, i.Version = false, "3.0.0" })
				setInstance(l, "pay-service", "127.0.0.1:19002", func(i *providers.Instance) { i.Enabled, i.Version = true, "3.1.0" })
				m := l.Services["pay-service"].Balancers["tcp"]
				m[0].Weight, m[1].Weight = 0, 1
			},
		},
		"blue-green with nothing serving": {
			edit: func(l *Live) {
				setInstance(l, "pay-service", "127.0.0.1:19001", func(i *providers.Instance) { i.Enabled = false })
				l.Services["pay-service"].Balancers["tcp"][0].Weight = 0
			},
			want: []DriftItem{
				{"pay-service", "instance", "blue/127.0.0.1:19001", "enabled", true, false},
				{"pay-service", "member", payMember + "19001", "weight", "> 0", 0},
				{"pay-service", "instance", "green/127.0.0.1:19002", "version", "3.1.0", "3.0.0"},
				{"pay-service", "instance", "green/127.0.0.1:19002", "enabled", true, false},
				{"pay-service", "member", payMember + "19002", "weight", "> 0", 0},
			},
		},
		"blue-green standby still enabled in the registry": {
			edit: func(l *Live) {
				setInstance(l, "pay-service", "127.0.0.1:19002", func(i *providers.Instance) { i.Enabled = true })
			},
			want: []DriftItem{
				{"pay-service", "instance", "green/127.0.0.1:19002", "version", "3.1.0", "3.0.0"},
				{"pay-service", "member", payMember + "19002", "weight", "> 0", 0},
			},
		},
		"blue-green standby member missing": {
			edit: func(l *Live) {
				l.Services["pay-service"].Balancers["tcp"] = l.Services["pay-service"].Balancers["tcp"][:1]
			},
			want: []DriftItem{{"pay-service", "member", payMember + "19002", "present", true, false}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			live := driftLive()
			tc.edit(live)
			got := Drift(driftConfig(), live)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Drift (-want +got):\n%s", d)
			}
		})
	}
}

func TestDriftWithoutKeepStandbyReportsIdleGroup(t *testing.T) {
	cfg := driftConfig()
	cfg.Services["pay-service"].Strategy.KeepStandby = false
	got := Drift(cfg, driftLive())
	want := []DriftItem{
		{"pay-service", "instance", "green/127.0.0.1:19002", "version", "3.1.0", "3.0.0"},
		{"pay-service", "instance", "green/127.0.0.1:19002", "enabled", true, false},
		{"pay-service", "member", payMember + "19002", "weight", "> 0", 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Drift (-want +got):\n%s", d)
	}
}

func setInstance(l *Live, svc, addr string, fn func(*providers.Instance)) {
	inst := l.Services[svc].Instances[addr]
	fn(&inst)
	l.Services[svc].Instances[addr] = inst
}
