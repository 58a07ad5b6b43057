package planner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/providers"
)

// DefaultParallelism bounds the list calls a refresh runs at once when
// RefreshOptions.Parallelism is not set, like Terraform's -parallelism.
const DefaultParallelism = 10

// RefreshOptions tunes Refresh.
type RefreshOptions struct {
	// Parallelism is the most list calls in flight at once; 0 means DefaultParallelism.
	Parallelism int
	// Targets limits the refresh to these services; empty means every service.
	Targets []string
}

// poolKey identifies one balancer pool: pools shared by several services are read once.
type poolKey struct {
	provider lang.ProviderRef
	pool     string
}

// poolUser is a service's balancer block that reads a pool.
type poolUser struct {
	service  string
	balancer string
}

// poolRead is the one read of a pool and of its routes, and what it found.
type poolRead struct {
	key       poolKey
	balancer  providers.BalancerReader
	routes    providers.RouteReader // nil when the provider materialises no routes
	users     []poolUser
	declRange hcl.Range // the first balancer block that reads the pool

	members    []providers.Member
	membersOK  bool
	liveRoutes []providers.Route
	routesOK   bool
}

// registryRead is the one list call of a service's registry, and what it found.
type registryRead struct {
	ref       lang.ProviderRef
	registry  providers.RegistryReader
	key       providers.ServiceKey
	declRange hcl.Range

	instances []providers.Instance
	ok        bool
}

// Refresh reads the live state of the configuration's services (or of opts.Targets)
// from their providers: one list call per (registry, service), one per (balancer
// provider, pool) however many services share the pool, and one route listing per
// pool whose provider is a providers.RouteReader. Calls run concurrently, at most
// opts.Parallelism at a time. A failed call becomes an error diagnostic at the
// registry or balancer block and leaves that part of the live model empty; the
// other calls still run.
//
// Every service of a shared pool sees all of the pool's members and routes: which of
// them a service owns is decided by the planner and Drift, not here.
//
// Refresh holds the providers through the reader interfaces only (RegistryReader,
// BalancerReader, RouteReader): the planner reads, the executor writes.
func Refresh(ctx context.Context, cfg *lang.Config, provs Providers, opts RefreshOptions) (*Live, diags.Diagnostics) {
	names, ds := refreshTargets(cfg, opts.Targets)
	if ds.HasErrors() {
		return nil, ds
	}
	regs, pools, planDiags := planReads(cfg, provs, names)
	ds = ds.Append(planDiags)
	gws, gwDiags := planGatewayReads(cfg, provs, names)
	ds = ds.Append(gwDiags)

	limit := opts.Parallelism
	if limit <= 0 {
		limit = DefaultParallelism
	}
	var (
		g  errgroup.Group
		mu sync.Mutex
	)
	g.SetLimit(limit)
	fail := func(rng hcl.Range, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		ds = ds.Append(diags.Errorf(&rng, "Refresh failed", format, args...))
	}
	for _, r := range regs {
		g.Go(func() error {
			insts, err := r.registry.Instances(ctx, r.key)
			if err != nil {
				fail(r.declRange, "%s: %s: %s", r.ref, r.key.Service, err)
				return nil
			}
			r.instances, r.ok = insts, true
			return nil
		})
	}
	for _, p := range pools {
		g.Go(func() error {
			members, err := p.balancer.Pool(ctx, p.key.pool)
			if err != nil {
				fail(p.declRange, "%s: pool %s (used by %s): %s", p.key.provider, p.key.pool, poolUserNames(p.users), err)
				return nil
			}
			p.members, p.membersOK = members, true
			return nil
		})
		if p.routes == nil {
			continue
		}
		g.Go(func() error {
			routes, err := p.routes.Routes(ctx, p.key.pool)
			if err != nil {
				fail(p.declRange, "%s: routes of pool %s (used by %s): %s", p.key.provider, p.key.pool, poolUserNames(p.users), err)
				return nil
			}
			p.liveRoutes, p.routesOK = routes, true
			return nil
		})
	}
	for _, r := range gws {
		g.Go(func() error {
			if err := r.read(ctx); err != nil {
				fail(r.declRange, "%s: gateway routes %s (group %s) of %s: %s", r.ref, r.key.DataID, r.key.Group, r.service, err)
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through ds and never return an error

	live := assembleLive(names, regs, pools)
	attachGateways(live, gws)
	return live, ds
}

// refreshTargets returns the services to refresh in declaration order.
func refreshTargets(cfg *lang.Config, targets []string) ([]string, diags.Diagnostics) {
	if len(targets) == 0 {
		return cfg.ServiceNames, nil
	}
	var ds diags.Diagnostics
	want := map[string]bool{}
	for _, t := range targets {
		if _, ok := cfg.Services[t]; !ok {
			ds = ds.Append(diags.Sourceless(diags.Error, "Invalid target",
				fmt.Sprintf("There is no service %q in the configuration; declared services are: %s.",
					t, strings.Join(cfg.ServiceNames, ", "))))
			continue
		}
		want[t] = true
	}
	var names []string
	for _, n := range cfg.ServiceNames {
		if want[n] {
			names = append(names, n)
		}
	}
	return names, ds
}

// planReads lists the calls a refresh of the named services makes, deduplicating
// shared pools. A provider that is not open or lacks the needed capability is an
// error diagnostic at the block that refers to it.
func planReads(cfg *lang.Config, provs Providers, names []string) ([]*registryRead, []*poolRead, diags.Diagnostics) {
	var (
		ds    diags.Diagnostics
		regs  []*registryRead
		pools []*poolRead
	)
	byPool := map[poolKey]*poolRead{}
	for _, name := range names {
		svc := cfg.Services[name]
		if r := svc.Registry; r != nil {
			reg, ok := provs[r.Provider].(providers.RegistryReader)
			switch {
			case provs[r.Provider] == nil:
				ds = ds.Append(diags.Errorf(&r.DeclRange, "Provider not open",
					"Service %q is registered in %s, which is not an open provider.", name, r.Provider))
			case !ok:
				ds = ds.Append(diags.Errorf(&r.DeclRange, "Provider is not a registry",
					"Service %q names %s as its registry, but %s providers are not registries.", name, r.Provider, r.Provider.Kind))
			default:
				group := r.Group
				if group == "" {
					group = "DEFAULT_GROUP"
				}
				regs = append(regs, &registryRead{ref: r.Provider, registry: reg, declRange: r.DeclRange,
					key: providers.ServiceKey{Service: name, Group: group, Cluster: r.Cluster}})
			}
		}
		for _, b := range svc.Balancers {
			key := poolKey{provider: b.Provider, pool: b.Pool}
			if p := byPool[key]; p != nil {
				p.users = append(p.users, poolUser{service: name, balancer: b.Name})
				continue
			}
			bal, ok := provs[b.Provider].(providers.BalancerReader)
			switch {
			case provs[b.Provider] == nil:
				ds = ds.Append(diags.Errorf(&b.DeclRange, "Provider not open",
					"Balancer %q of service %q uses %s, which is not an open provider.", b.Name, name, b.Provider))
				continue
			case !ok:
				ds = ds.Append(diags.Errorf(&b.DeclRange, "Provider is not a balancer",
					"Balancer %q of service %q uses %s, but %s providers are not load balancers.", b.Name, name, b.Provider, b.Provider.Kind))
				continue
			}
			rs, _ := provs[b.Provider].(providers.RouteReader)
			p := &poolRead{key: key, balancer: bal, routes: rs, declRange: b.DeclRange,
				users: []poolUser{{service: name, balancer: b.Name}}}
			byPool[key] = p
			pools = append(pools, p)
		}
	}
	return regs, pools, ds
}

// assembleLive builds the live model from the reads. Each service gets its own copy
// of shared pool data, so changing one service's view never changes another's.
func assembleLive(names []string, regs []*registryRead, pools []*poolRead) *Live {
	live := &Live{Services: map[string]*LiveService{}}
	for _, name := range names {
		live.Services[name] = &LiveService{
			Name:      name,
			Instances: map[string]providers.Instance{},
			Balancers: map[string][]providers.Member{},
			Routes:    map[string][]providers.Route{},
		}
	}
	for _, r := range regs {
		if !r.ok {
			continue
		}
		ls := live.Services[r.key.Service]
		for _, inst := range r.instances {
			ls.Instances[inst.Address] = inst
		}
	}
	for _, p := range pools {
		for _, u := range p.users {
			ls := live.Services[u.service]
			if p.membersOK {
				ls.Balancers[u.balancer] = copyMembers(p.members)
			}
			if p.routesOK {
				ls.Routes[u.balancer] = copyRoutes(p.liveRoutes)
			}
		}
	}
	return live
}

func copyMembers(in []providers.Member) []providers.Member {
	out := make([]providers.Member, len(in))
	for i, m := range in {
		if m.Sessions != nil {
			n := *m.Sessions
			m.Sessions = &n
		}
		out[i] = m
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

func copyRoutes(in []providers.Route) []providers.Route {
	out := make([]providers.Route, len(in))
	for i, r := range in {
		r.Match = r.Match.Clone()
		r.Members = append([]string(nil), r.Members...)
		out[i] = r
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func poolUserNames(users []poolUser) string {
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.service
	}
	return strings.Join(names, ", ")
}
