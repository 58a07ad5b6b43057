package planner

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// callLog counts list calls and the most that were in flight at once.
type callLog struct {
	mu          sync.Mutex
	calls       map[string]int
	inFlight    int
	maxInFlight int
	delay       time.Duration
	fail        map[string]error
}

func newCallLog() *callLog { return &callLog{calls: map[string]int{}, fail: map[string]error{}} }

// enter records a call to key and returns its injected error, after the delay.
func (l *callLog) enter(key string) error {
	l.mu.Lock()
	l.calls[key]++
	l.inFlight++
	l.maxInFlight = max(l.maxInFlight, l.inFlight)
	err := l.fail[key]
	l.mu.Unlock()
	time.Sleep(l.delay)
	l.mu.Lock()
	l.inFlight--
	l.mu.Unlock()
	return err
}

// countingRegistry is a registry held in memory that logs its list calls.
type countingRegistry struct {
	name      string
	log       *callLog
	mu        sync.Mutex
	instances map[string][]providers.Instance // by service
}

func (r *countingRegistry) Kind() string { return "nacos" }
func (r *countingRegistry) Name() string { return r.name }

func (r *countingRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	if err := r.log.enter("instances " + svc.Service); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]providers.Instance(nil), r.instances[svc.Service]...), nil
}

func (r *countingRegistry) SetInstanceEnabled(ctx context.Context, k providers.InstanceKey, enabled bool) error {
	return r.update(k, func(i *providers.Instance) { i.Enabled = enabled })
}

func (r *countingRegistry) SetInstanceWeight(ctx context.Context, k providers.InstanceKey, w float64) error {
	return r.update(k, func(i *providers.Instance) { i.Weight = w })
}

func (r *countingRegistry) update(k providers.InstanceKey, fn func(*providers.Instance)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.instances[k.Service] {
		if r.instances[k.Service][i].Address == k.Address {
			fn(&r.instances[k.Service][i])
			return nil
		}
	}
	return fmt.Errorf("no instance %s of %s", k.Address, k.Service)
}

// countingBalancer is a balancer held in memory that logs its list calls.
type countingBalancer struct {
	kind, name string
	log        *callLog
	mu         sync.Mutex
	pools      map[string][]providers.Member
}

func (b *countingBalancer) Kind() string { return b.kind }
func (b *countingBalancer) Name() string { return b.name }

func (b *countingBalancer) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	if err := b.log.enter("pool " + b.name + "/" + pool); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]providers.Member(nil), b.pools[pool]...), nil
}

func (b *countingBalancer) SetMemberWeight(ctx context.Context, pool, addr string, w int) error {
	return b.update(pool, addr, func(m *providers.Member) { m.Weight = w })
}

func (b *countingBalancer) SetMemberState(ctx context.Context, pool, addr string, s providers.MemberState) error {
	return b.update(pool, addr, func(m *providers.Member) { m.State = s })
}

func (b *countingBalancer) update(pool, addr string, fn func(*providers.Member)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range b.pools[pool] {
		if b.pools[pool][i].Address == addr {
			fn(&b.pools[pool][i])
			return nil
		}
	}
	return fmt.Errorf("no member %s in %s", addr, pool)
}

// routingBalancer is a countingBalancer that also stores routes.
type routingBalancer struct {
	countingBalancer
	routes map[string][]providers.Route
}

func (b *routingBalancer) Routes(ctx context.Context, pool string) ([]providers.Route, error) {
	if err := b.log.enter("routes " + b.name + "/" + pool); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]providers.Route(nil), b.routes[pool]...), nil
}

func (b *routingBalancer) PutRoute(ctx context.Context, r providers.Route) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.routes[r.Pool] = append(b.routes[r.Pool], r)
	return nil
}

func (b *routingBalancer) DeleteRoute(ctx context.Context, pool, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	kept := b.routes[pool][:0]
	for _, r := range b.routes[pool] {
		if r.Name != name {
			kept = append(kept, r)
		}
	}
	b.routes[pool] = kept
	return nil
}

var (
	_ providers.Registry   = (*countingRegistry)(nil)
	_ providers.Balancer   = (*countingBalancer)(nil)
	_ providers.RouteStore = (*routingBalancer)(nil)
)

var (
	testNacos = lang.ProviderRef{Kind: "nacos", Name: "prod"}
	testNginx = lang.ProviderRef{Kind: "nginx", Name: "edge"}
	testHAP   = lang.ProviderRef{Kind: "haproxy", Name: "lb"}
)

// testRange returns a source range on one line of main.ns.hcl.
func testRange(line int) hcl.Range {
	return hcl.Range{Filename: "main.ns.hcl", Start: hcl.Pos{Line: line, Column: 3, Byte: line * 10},
		End: hcl.Pos{Line: line, Column: 12, Byte: line*10 + 9}}
}

// refreshConfig declares services that each have a registry and one nginx pool;
// services listed in shared use the pool "shared_backend" instead of their own.
func refreshConfig(services []string, shared map[string]bool) *lang.Config {
	cfg := &lang.Config{Services: map[string]*lang.Service{}, Providers: map[lang.ProviderRef]*lang.Provider{
		testNacos: {Ref: testNacos, Class: lang.ClassRegistry, DeclRange: testRange(1)},
		testNginx: {Ref: testNginx, Class: lang.ClassBalancer, DeclRange: testRange(2)},
	}}
	for i, name := range services {
		pool := name + "_backend"
		if shared[name] {
			pool = "shared_backend"
		}
		cfg.ServiceNames = append(cfg.ServiceNames, name)
		cfg.Services[name] = &lang.Service{
			Name: name, Version: "1.0.0",
			Registry:  &lang.Registry{Provider: testNacos, Group: "DEFAULT_GROUP", Cluster: "DEFAULT", DeclRange: testRange(100*i + 10)},
			Groups:    []*lang.Group{{Name: "a", Instances: []lang.Address{{Host: "127.0.0.1", Port: 18000 + i}}}},
			Balancers: []*lang.Balancer{{Name: "http", Provider: testNginx, Pool: pool, DeclRange: testRange(100*i + 20)}},
			DeclRange: testRange(100*i + 1),
		}
	}
	return cfg
}

// refreshFleet returns in-memory providers holding one ready instance per service.
func refreshFleet(cfg *lang.Config, log *callLog) (Providers, *countingRegistry, *routingBalancer) {
	reg := &countingRegistry{name: "prod", log: log, instances: map[string][]providers.Instance{}}
	bal := &routingBalancer{countingBalancer: countingBalancer{kind: "nginx", name: "edge", log: log,
		pools: map[string][]providers.Member{}}, routes: map[string][]providers.Route{}}
	for _, name := range cfg.ServiceNames {
		svc := cfg.Services[name]
		addr := svc.Groups[0].Instances[0].String()
		reg.instances[name] = []providers.Instance{{Service: name, Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
			Address: addr, Enabled: true, Weight: 1, Healthy: true, Version: "1.0.0", VersionKnown: true}}
		pool := svc.Balancers[0].Pool
		bal.pools[pool] = append(bal.pools[pool], providers.Member{Pool: pool, Address: addr, Weight: 1, State: providers.StateReady})
	}
	return Providers{testNacos: reg, testNginx: bal}, reg, bal
}

func TestRefreshReadsEachPoolOnce(t *testing.T) {
	cfg := refreshConfig([]string{"order", "pay", "user"}, map[string]bool{"order": true, "pay": true})
	log := newCallLog()
	provs, _, bal := refreshFleet(cfg, log)
	bal.routes["shared_backend"] = []providers.Route{{Pool: "shared_backend", Name: "beta", Version: "1.1.0",
		Match: providers.RouteMatch{Header: map[string]string{"X-Canary": "1"}}, Members: []string{"127.0.0.1:18000"}}}

	live, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{})
	if ds.HasErrors() {
		t.Fatalf("Refresh: %v", ds)
	}
	wantCalls := map[string]int{
		"instances order": 1, "instances pay": 1, "instances user": 1,
		"pool edge/shared_backend": 1, "pool edge/user_backend": 1,
		"routes edge/shared_backend": 1, "routes edge/user_backend": 1,
	}
	if d := cmp.Diff(wantCalls, log.calls); d != "" {
		t.Errorf("list calls (-want +got):\n%s", d)
	}

	shared := []providers.Member{
		{Pool: "shared_backend", Address: "127.0.0.1:18000", Weight: 1, State: providers.StateReady},
		{Pool: "shared_backend", Address: "127.0.0.1:18001", Weight: 1, State: providers.StateReady},
	}
	beta := []providers.Route{{Pool: "shared_backend", Name: "beta", Version: "1.1.0",
		Match: providers.RouteMatch{Header: map[string]string{"X-Canary": "1"}}, Members: []string{"127.0.0.1:18000"}}}
	inst := func(svc, addr string) map[string]providers.Instance {
		return map[string]providers.Instance{addr: {Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
			Address: addr, Enabled: true, Weight: 1, Healthy: true, Version: "1.0.0", VersionKnown: true}}
	}
	want := &Live{Services: map[string]*LiveService{
		"order": {Name: "order", Instances: inst("order", "127.0.0.1:18000"),
			Balancers: map[string][]providers.Member{"http": shared}, Routes: map[string][]providers.Route{"http": beta}},
		"pay": {Name: "pay", Instances: inst("pay", "127.0.0.1:18001"),
			Balancers: map[string][]providers.Member{"http": shared}, Routes: map[string][]providers.Route{"http": beta}},
		"user": {Name: "user", Instances: inst("user", "127.0.0.1:18002"),
			Balancers: map[string][]providers.Member{"http": {{Pool: "user_backend", Address: "127.0.0.1:18002", Weight: 1, State: providers.StateReady}}},
			Routes:    map[string][]providers.Route{"http": {}}},
	}}
	if d := cmp.Diff(want, live); d != "" {
		t.Errorf("live (-want +got):\n%s", d)
	}

	// Services sharing a pool get their own copies.
	live.Services["order"].Balancers["http"][0].Weight = 99
	if got := live.Services["pay"].Balancers["http"][0].Weight; got != 1 {
		t.Errorf("changing order's view of the shared pool changed pay's: weight %d", got)
	}
}

func TestRefreshBoundsConcurrency(t *testing.T) {
	tests := map[string]struct {
		services    int
		parallelism int
		wantMax     int
	}{
		"default of 10": {services: 30, parallelism: 0, wantMax: DefaultParallelism},
		"3":             {services: 20, parallelism: 3, wantMax: 3},
		"1 is serial":   {services: 5, parallelism: 1, wantMax: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var names []string
			for i := range tc.services {
				names = append(names, fmt.Sprintf("svc-%02d", i))
			}
			cfg := refreshConfig(names, nil)
			log := newCallLog()
			log.delay = 15 * time.Millisecond
			provs, _, _ := refreshFleet(cfg, log)
			if _, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{Parallelism: tc.parallelism}); ds.HasErrors() {
				t.Fatalf("Refresh: %v", ds)
			}
			if log.maxInFlight != tc.wantMax {
				t.Errorf("at most %d calls were in flight, want %d", log.maxInFlight, tc.wantMax)
			}
			total := 0
			for _, n := range log.calls {
				total += n
			}
			if total != 3*tc.services {
				t.Errorf("%d list calls, want %d (instances, pool and routes per service)", total, 3*tc.services)
			}
		})
	}
}

func TestRefreshFailureIsReportedAndOthersRefresh(t *testing.T) {
	cfg := refreshConfig([]string{"order", "pay", "user"}, nil)
	log := newCallLog()
	log.fail["instances order"] = errors.New("connection refused")
	log.fail["pool edge/pay_backend"] = errors.New("upstream file unreadable")
	provs, _, _ := refreshFleet(cfg, log)

	live, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{})
	type diagSummary struct {
		Summary, Detail string
		Subject         hcl.Range
	}
	var got []diagSummary
	for _, d := range ds {
		got = append(got, diagSummary{d.Summary, d.Detail, *d.Subject})
	}
	want := []diagSummary{
		{"Refresh failed", "nacos.prod: order: connection refused", testRange(10)},
		{"Refresh failed", "nginx.edge: pool pay_backend (used by pay): upstream file unreadable", testRange(120)},
	}
	less := func(a, b diagSummary) bool { return a.Detail < b.Detail }
	if d := cmp.Diff(want, got, cmpSortSlices(less)); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
	if n := len(live.Services["order"].Instances); n != 0 {
		t.Errorf("order has %d instances after a failed list, want 0", n)
	}
	if _, ok := live.Services["pay"].Balancers["http"]; ok {
		t.Error("pay's balancer has members after a failed pool list")
	}
	if n := len(live.Services["order"].Balancers["http"]); n != 1 {
		t.Errorf("order's pool has %d members, want 1 (its pool read succeeded)", n)
	}
	if n := len(live.Services["user"].Instances) + len(live.Services["pay"].Instances); n != 2 {
		t.Errorf("user and pay have %d instances, want 2", n)
	}
}

func TestRefreshTargets(t *testing.T) {
	cfg := refreshConfig([]string{"order", "pay", "user"}, nil)
	log := newCallLog()
	provs, _, _ := refreshFleet(cfg, log)

	live, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{Targets: []string{"user", "order"}})
	if ds.HasErrors() {
		t.Fatalf("Refresh: %v", ds)
	}
	var services []string
	for name := range live.Services {
		services = append(services, name)
	}
	if d := cmp.Diff([]string{"order", "user"}, services, cmpSortSlices(func(a, b string) bool { return a < b })); d != "" {
		t.Errorf("refreshed services (-want +got):\n%s", d)
	}
	for key := range log.calls {
		if strings.Contains(key, "pay") {
			t.Errorf("untargeted service pay was read: %s", key)
		}
	}

	_, ds = Refresh(context.Background(), cfg, provs, RefreshOptions{Targets: []string{"ordr"}})
	if len(ds) != 1 || ds[0].Summary != "Invalid target" || !strings.Contains(ds[0].Detail, `"ordr"`) {
		t.Errorf("unknown target: got %v, want one Invalid target diagnostic", ds)
	}
}

func TestRefreshChecksProviderCapabilities(t *testing.T) {
	cfg := refreshConfig([]string{"order"}, nil)
	log := newCallLog()
	_, reg, bal := refreshFleet(cfg, log)
	// The registry slot holds a balancer, the balancer slot a registry, and the
	// route listing is skipped for a balancer that is not a RouteStore.
	provs := Providers{testNacos: &bal.countingBalancer, testNginx: reg}
	_, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{})
	var summaries []string
	for _, d := range ds {
		summaries = append(summaries, d.Summary+" @ "+d.Subject.String())
	}
	want := []string{
		"Provider is not a registry @ " + rangeString(testRange(10)),
		"Provider is not a balancer @ " + rangeString(testRange(20)),
	}
	if d := cmp.Diff(want, summaries); d != "" {
		t.Errorf("diagnostics (-want +got):\n%s", d)
	}
	if len(log.calls) != 0 {
		t.Errorf("list calls on misconfigured providers: %v", log.calls)
	}

	provs = Providers{testNacos: reg, testNginx: &bal.countingBalancer}
	if _, ds := Refresh(context.Background(), cfg, provs, RefreshOptions{}); ds.HasErrors() {
		t.Fatalf("Refresh: %v", ds)
	}
	if n := log.calls["routes edge/order_backend"]; n != 0 {
		t.Errorf("routes listed %d times on a balancer that is not a route store", n)
	}
}

func rangeString(r hcl.Range) string { return r.String() }
