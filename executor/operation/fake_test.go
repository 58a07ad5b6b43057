package operation

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// shopConfig is a service of two instances in a registry, behind one balancer
// pool at weight 1. Its steps in these tests are balancer writes only: nothing is
// deployed.
const shopConfig = `
provider "nacos" "reg" {
  addresses = ["127.0.0.1:1"]
}

provider "nginx" "edge" {
  upstreams_file = "upstreams.conf"
}

service "shop" {
  version = "1.0.0"

  registry {
    provider = nacos.reg
  }

  group "a" { instances = ["127.0.0.1:18081"] }
  group "b" { instances = ["127.0.0.1:18082"] }

  balancer "http" {
    provider = nginx.edge
    pool     = "shop"
    weight   = 1
  }

  strategy "rolling" {
    batch = "group"
  }

  deploy {
    command = ["true"]
  }

  health {
    http = "http://${instance.address}/health"
  }
}
`

var shopAddrs = []string{"127.0.0.1:18081", "127.0.0.1:18082"}

// shop is a test fleet: the configuration in a directory (its local state in
// .nonstop beside it) and in-memory providers in which 127.0.0.1:18081 has weight
// 5 on the balancer, so that a plan repairs it.
type shop struct {
	t     *testing.T
	dir   string
	cfg   *lang.Config
	fleet *fakeFleet
	view  *recordingView
}

func newShop(t *testing.T) *shop {
	t.Helper()
	return newShopConfig(t, shopConfig)
}

// newShopConfig is newShop with another configuration, shopConfig with a state
// block, say.
func newShopConfig(t *testing.T, src string) *shop {
	t.Helper()
	dir := t.TempDir()
	cfg, ds := lang.LoadFiles(dir, map[string][]byte{"main.ns.hcl": []byte(src)}, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatalf("loading the test configuration: %v", ds)
	}
	f := &fakeFleet{pools: map[string][]providers.Member{}, instances: map[string]providers.Instance{}}
	for i, addr := range shopAddrs {
		f.instances[addr] = providers.Instance{Service: "shop", Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
			Address: addr, Enabled: true, Healthy: true, Weight: 1,
			Metadata: map[string]string{"version": "1.0.0"}, Version: "1.0.0", VersionKnown: true}
		f.pools["shop"] = append(f.pools["shop"], providers.Member{Pool: "shop", Address: addr,
			Weight: []int{5, 1}[i], State: providers.StateReady})
	}
	return &shop{t: t, dir: dir, cfg: cfg, fleet: f, view: &recordingView{approve: true}}
}

// options are the options of an apply of the shop, approved by its view.
func (s *shop) options() Options {
	return Options{
		Config: s.cfg,
		Dir:    s.dir,
		Providers: planner.Providers{
			{Kind: "nacos", Name: "reg"}:  &fakeProvider{kind: "nacos", name: "reg", fleet: s.fleet},
			{Kind: "nginx", Name: "edge"}: &fakeProvider{kind: "nginx", name: "edge", fleet: s.fleet},
		},
		View: s.view,
	}
}

func (s *shop) backend() *state.Local { return state.NewLocal(filepath.Join(s.dir, ".nonstop")) }

// loadState reads the shop's state without the lock.
func (s *shop) loadState() *state.State {
	s.t.Helper()
	st, err := s.backend().Load(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}

// saveState stores st (loaded from the shop's backend) under the lock.
func (s *shop) saveState(st *state.State) {
	s.t.Helper()
	b := s.backend()
	defer b.Close()
	ctx := context.Background()
	id, err := b.Lock(ctx, state.NewLockInfo("test", lang.Version))
	if err != nil {
		s.t.Fatal(err)
	}
	defer b.Unlock(id)
	if err := b.Save(ctx, st); err != nil {
		s.t.Fatal(err)
	}
}

// fakeFleet is the live state the fake providers share.
type fakeFleet struct {
	mu        sync.Mutex
	instances map[string]providers.Instance // by address; all of service shop
	pools     map[string][]providers.Member
	// block, when set, holds every write until it is closed or the write's
	// context ends.
	block chan struct{}
	// writing is closed by the first write that waits on block.
	writing     chan struct{}
	writingOnce sync.Once
}

func (f *fakeFleet) weights() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, m := range f.pools["shop"] {
		out[m.Address] = m.Weight
	}
	return out
}

func (f *fakeFleet) setWeight(addr string, w int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.pools["shop"] {
		if f.pools["shop"][i].Address == addr {
			f.pools["shop"][i].Weight = w
		}
	}
}

// write applies fn once the fleet lets writes through.
func (f *fakeFleet) write(ctx context.Context, fn func() error) error {
	if f.block != nil {
		f.writingOnce.Do(func() { close(f.writing) })
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fn()
}

// fakeProvider is a registry and a balancer over a fakeFleet.
type fakeProvider struct {
	kind, name string
	fleet      *fakeFleet
}

var (
	_ providers.Registry = (*fakeProvider)(nil)
	_ providers.Balancer = (*fakeProvider)(nil)
)

func (p *fakeProvider) Kind() string { return p.kind }
func (p *fakeProvider) Name() string { return p.name }

func (p *fakeProvider) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	p.fleet.mu.Lock()
	defer p.fleet.mu.Unlock()
	var out []providers.Instance
	for _, addr := range shopAddrs {
		if in, ok := p.fleet.instances[addr]; ok && svc.Service == "shop" {
			out = append(out, in)
		}
	}
	return out, nil
}

func (p *fakeProvider) instance(addr string) (providers.Instance, error) {
	in, ok := p.fleet.instances[addr]
	if !ok {
		return in, fmt.Errorf("no instance %s", addr)
	}
	return in, nil
}

func (p *fakeProvider) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	return p.fleet.write(ctx, func() error {
		in, err := p.instance(inst.Address)
		in.Enabled = enabled
		p.fleet.instances[inst.Address] = in
		return err
	})
}

func (p *fakeProvider) SetInstanceWeight(ctx context.Context, inst providers.InstanceKey, weight float64) error {
	return p.fleet.write(ctx, func() error {
		in, err := p.instance(inst.Address)
		in.Weight = weight
		p.fleet.instances[inst.Address] = in
		return err
	})
}

func (p *fakeProvider) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	p.fleet.mu.Lock()
	defer p.fleet.mu.Unlock()
	return append([]providers.Member(nil), p.fleet.pools[pool]...), nil
}

func (p *fakeProvider) member(pool, addr string) (*providers.Member, error) {
	for i := range p.fleet.pools[pool] {
		if m := &p.fleet.pools[pool][i]; m.Address == addr {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no member %s in pool %s", addr, pool)
}

func (p *fakeProvider) SetMemberWeight(ctx context.Context, pool, addr string, weight int) error {
	return p.fleet.write(ctx, func() error {
		m, err := p.member(pool, addr)
		if err == nil {
			m.Weight = weight
		}
		return err
	})
}

func (p *fakeProvider) SetMemberState(ctx context.Context, pool, addr string, st providers.MemberState) error {
	return p.fleet.write(ctx, func() error {
		m, err := p.member(pool, addr)
		if err == nil {
			m.State = st
		}
		return err
	})
}

// recordingView records what an operation said, in order, and approves when told.
type recordingView struct {
	approve bool

	mu     sync.Mutex
	calls  []string
	ds     diags.Diagnostics
	plan   *planner.Plan
	asked  int
	result *Result
	jrnl   *state.Journal
}

func (v *recordingView) note(call string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, call)
}

func (v *recordingView) Diagnostics(ds diags.Diagnostics) {
	v.note("diagnostics")
	v.ds = append(v.ds, ds...)
}

func (v *recordingView) Interrupted(j *state.Journal) {
	v.note("interrupted")
	v.jrnl = j
}

func (v *recordingView) Plan(p *planner.Plan) error {
	v.note("plan")
	v.plan = p
	return nil
}

func (v *recordingView) Approve(p *planner.Plan) bool {
	v.note("approve")
	v.asked++
	return v.approve
}

func (v *recordingView) Result(r *Result) {
	v.note("result")
	v.result = r
}

func (v *recordingView) sequence() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return strings.Join(v.calls, " ")
}
