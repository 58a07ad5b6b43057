package executor

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// writeLog is the ordered record of every provider write in a test, shared by the
// fake providers so that tests can assert the sequence across them.
type writeLog struct {
	mu      sync.Mutex
	entries []string
}

func (l *writeLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf(format, args...))
}

func (l *writeLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.entries...)
}

// fakeLB is an in-memory balancer with routes and batching. sessions, when set,
// returns a member's in-flight sessions for each Pool call.
type fakeLB struct {
	kind, name string
	log        *writeLog

	mu       sync.Mutex
	pools    map[string][]providers.Member
	routes   map[string][]providers.Route
	sessions func(address string) *int
	batching bool
	batches  int
}

func newFakeLB(kind, name string, log *writeLog) *fakeLB {
	return &fakeLB{kind: kind, name: name, log: log, pools: map[string][]providers.Member{}, routes: map[string][]providers.Route{}}
}

// Kind is not a registered kind: the fake has none of a real balancer's
// capabilities (no checks to wait for, no reload to settle).
func (b *fakeLB) Kind() string { return "fake" }
func (b *fakeLB) Name() string { return b.name }

func (b *fakeLB) addMember(pool, address string, weight int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pools[pool] = append(b.pools[pool], providers.Member{Pool: pool, Address: address, Weight: weight, State: providers.StateReady})
}

func (b *fakeLB) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]providers.Member(nil), b.pools[pool]...)
	for i := range out {
		if b.sessions != nil {
			out[i].Sessions = b.sessions(out[i].Address)
		}
	}
	return out, nil
}

func (b *fakeLB) member(pool, address string) (*providers.Member, error) {
	for i := range b.pools[pool] {
		if b.pools[pool][i].Address == address {
			return &b.pools[pool][i], nil
		}
	}
	return nil, fmt.Errorf("no member %s in %s", address, pool)
}

func (b *fakeLB) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.member(pool, address)
	if err != nil {
		return err
	}
	m.Weight = weight
	b.log.add("%s.%s weight %s %d%s", b.kind, b.name, address, weight, b.batchMark())
	return nil
}

func (b *fakeLB) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, err := b.member(pool, address)
	if err != nil {
		return err
	}
	m.State = state
	b.log.add("%s.%s state %s %s%s", b.kind, b.name, address, state, b.batchMark())
	return nil
}

func (b *fakeLB) batchMark() string {
	if b.batching {
		return " (batched)"
	}
	return ""
}

// Batch marks the writes made by fn; the fake applies them at once anyway.
func (b *fakeLB) Batch(ctx context.Context, fn func() error) error {
	b.mu.Lock()
	b.batching = true
	b.batches++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.batching = false
		b.mu.Unlock()
	}()
	return fn()
}

func (b *fakeLB) Routes(ctx context.Context, pool string) ([]providers.Route, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]providers.Route(nil), b.routes[pool]...), nil
}

func (b *fakeLB) PutRoute(ctx context.Context, r providers.Route) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs := b.routes[r.Pool]
	for i := range rs {
		if rs[i].Name == r.Name {
			rs[i] = r
			b.log.add("%s.%s route %s -> %s", b.kind, b.name, r.Name, r.Version)
			return nil
		}
	}
	b.routes[r.Pool] = append(rs, r)
	b.log.add("%s.%s route %s -> %s", b.kind, b.name, r.Name, r.Version)
	return nil
}

func (b *fakeLB) DeleteRoute(ctx context.Context, pool, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	rs := b.routes[pool]
	for i := range rs {
		if rs[i].Name == name {
			b.routes[pool] = append(rs[:i], rs[i+1:]...)
		}
	}
	b.log.add("%s.%s route %s deleted", b.kind, b.name, name)
	return nil
}

// fakeRegistry is an in-memory registry. version, when set, reports an instance's
// version (as a real registry reads it from the instance's metadata).
type fakeRegistry struct {
	name string
	log  *writeLog

	mu        sync.Mutex
	instances map[string]*providers.Instance
	version   func(address string) (string, bool)
}

func newFakeRegistry(name string, log *writeLog) *fakeRegistry {
	return &fakeRegistry{name: name, log: log, instances: map[string]*providers.Instance{}}
}

func (r *fakeRegistry) Kind() string { return "nacos" }
func (r *fakeRegistry) Name() string { return r.name }

func (r *fakeRegistry) add(service, address string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.instances[address] = &providers.Instance{Service: service, Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
		Address: address, Enabled: true, Weight: 1, Healthy: true}
}

func (r *fakeRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []providers.Instance
	for _, in := range r.instances {
		if in.Service == svc.Service && in.Group == svc.Group {
			c := *in
			if r.version != nil {
				c.Version, c.VersionKnown = r.version(c.Address)
			}
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

func (r *fakeRegistry) get(inst providers.InstanceKey) (*providers.Instance, error) {
	in, ok := r.instances[inst.Address]
	if !ok || in.Service != inst.Service {
		return nil, fmt.Errorf("instance %s of %s not found", inst.Address, inst.Service)
	}
	return in, nil
}

func (r *fakeRegistry) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.get(inst)
	if err != nil {
		return err
	}
	in.Enabled = enabled
	r.log.add("nacos.%s enabled %s %t", r.name, inst.Address, enabled)
	return nil
}

func (r *fakeRegistry) SetInstanceWeight(ctx context.Context, inst providers.InstanceKey, weight float64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in, err := r.get(inst)
	if err != nil {
		return err
	}
	in.Weight = weight
	r.log.add("nacos.%s regweight %s %g", r.name, inst.Address, weight)
	return nil
}

var (
	_ providers.Balancer   = (*fakeLB)(nil)
	_ providers.Batcher    = (*fakeLB)(nil)
	_ providers.RouteStore = (*fakeLB)(nil)
	_ providers.Registry   = (*fakeRegistry)(nil)
)

// memJournal records journal entries in memory; failAt makes the n-th Record fail.
type memJournal struct {
	mu      sync.Mutex
	entries []JournalEntry
	failAt  int
}

func (j *memJournal) Record(ctx context.Context, e JournalEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failAt > 0 && len(j.entries)+1 == j.failAt {
		return fmt.Errorf("disk full")
	}
	j.entries = append(j.entries, e)
	return nil
}

func (j *memJournal) lines() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []string
	for _, e := range j.entries {
		s := e.StepID + " " + e.Event
		if e.Error != "" {
			s += ": " + e.Error
		}
		out = append(out, s)
	}
	return out
}

// eventLog collects events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) Emit(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) types() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		s := e.Type
		if e.Step != nil {
			s += " " + e.Step.ID
		} else if e.Service != "" {
			s += " " + e.Service
		}
		out = append(out, s)
	}
	return out
}

// step builds a plan step.
func step(id string, kind planner.StepKind, service string, args planner.StepArgs, after ...string) planner.Step {
	return planner.Step{ID: id, Kind: kind, Service: service, Target: service + "/" + args.Address, Args: args, After: after}
}

func intp(i int) *int           { return &i }
func boolp(b bool) *bool        { return &b }
func ms(n int) planner.Duration { return planner.Duration(time.Duration(n) * time.Millisecond) }

// bareConfig declares services with no deploy, health or verify blocks.
func bareConfig(names ...string) *lang.Config {
	c := &lang.Config{Services: map[string]*lang.Service{}}
	for _, n := range names {
		c.Services[n] = &lang.Service{Name: n, Version: "2.0.0", OnFailure: PolicyRollback,
			Registry: &lang.Registry{Provider: lang.ProviderRef{Kind: "nacos", Name: "prod"}, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}}
		c.ServiceNames = append(c.ServiceNames, n)
	}
	return c
}

func mustApply(t *testing.T, r *Runner, p *planner.Plan) *Result {
	t.Helper()
	res, err := r.Apply(context.Background(), p)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}
