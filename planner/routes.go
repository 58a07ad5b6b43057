package planner

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/providers"
)

// routeOp is one route to set or delete on one balancer.
type routeOp struct {
	bi   int
	old  *providers.Route // nil when the route does not exist yet
	want *providers.Route // nil to delete
}

// placeRoutes adds the route changes of the service to its stages. A route's members
// are the instances that run its version after the release. A route is set at the
// earliest stage boundary after which one of its members stays up at its version to
// the end, and while the route it replaces still has an up member; when more members
// join later, a second route.set at the end adds them. Deletions come first.
func (b *builder) placeRoutes(start *serviceModel) diags.Diagnostics {
	ops, ds := b.routeOps(start)
	if len(ops) == 0 {
		return ds
	}
	upVer, deployed := simulateStages(start, b.stages, b.steps)
	last := len(b.stages)
	at := map[int][]Step{}
	for _, op := range ops {
		bal := b.m.bals[op.bi]
		base := Step{Kind: RouteSet, Target: routeKey(bal, routeName(op)),
			Args: StepArgs{Provider: bal.provider, Pool: bal.pool}}
		if op.want == nil {
			base.Kind, base.Args.Route = RouteDelete, &providers.Route{Pool: bal.pool, Name: op.old.Name}
			at[0] = append(at[0], base)
			continue
		}
		k, members := placeRoute(start, op, upVer, deployed)
		if k < 0 {
			ds = ds.Append(diags.Errorf(nil, "Route cannot change without a gap",
				"Route %q on %s/%s would point at version %s while no instance serves it at some point of the release. "+
					"Release the service first, then change the route.", op.want.Name, bal.provider, bal.pool, op.want.Version))
			continue
		}
		first := *op.want
		first.Members = members
		s := base
		s.Args.Route = &first
		at[k] = append(at[k], s)
		if !slices.Equal(members, op.want.Members) {
			s2 := base
			s2.Args.Route = op.want
			at[last] = append(at[last], s2)
		}
	}
	for _, k := range slices.Backward(slices.Sorted(maps.Keys(at))) {
		var st stage
		for _, s := range at[k] {
			var c chain
			b.emit(&c, s)
			st = append(st, c)
		}
		b.stages = slices.Insert(b.stages, k, st)
	}
	return ds
}

func routeName(op routeOp) string {
	if op.want != nil {
		return op.want.Name
	}
	return op.old.Name
}

// routeOps compares the live routes with the configured ones on every balancer that
// can hold routes.
func (b *builder) routeOps(start *serviceModel) ([]routeOp, diags.Diagnostics) {
	var ds diags.Diagnostics
	var ops []routeOp
	svc := start.svc
	for bi, bal := range start.bals {
		if !bal.caps.HoldsRoutes {
			if len(svc.Routes) > 0 {
				ds = ds.Append(diags.Warningf(rangeOf(svc.Balancers[bi].DeclRange), "Routes not supported by balancer",
					"Service %s declares routes, but %s balancers cannot hold them; balancer %q gets none.", svc.Name, bal.kind, bal.name))
			}
			continue
		}
		declared := map[string]bool{}
		for _, r := range svc.Routes {
			declared[r.Name] = true
			members := b.m.upAt(r.Version)
			if len(members) == 0 {
				ds = ds.Append(diags.Errorf(rangeOf(r.DeclRange), "Route to a version no instance serves",
					"Route %q sends requests to version %s, but after this release no instance of %s runs it (they run %s). "+
						"Point the route at a version that is deployed, or remove it.", r.Name, r.Version, svc.Name, svc.Version))
				continue
			}
			want := &providers.Route{Pool: bal.pool, Name: r.Name, Version: r.Version, Members: members,
				Match: providers.MatchOf(r.Match)}
			old := bal.routes[r.Name]
			if old == nil || !routeEqual(old, want) {
				ops = append(ops, routeOp{bi: bi, old: old, want: want})
			}
		}
		for _, name := range slices.Sorted(maps.Keys(bal.routes)) {
			if !declared[name] {
				ops = append(ops, routeOp{bi: bi, old: bal.routes[name]})
			}
		}
	}
	return ops, ds
}

// routeEqual compares two routes, ignoring the order of members, client IPs and
// numeric comparisons.
func routeEqual(a, b *providers.Route) bool {
	return a.Version == b.Version && sameSet(a.Members, b.Members) && a.Match.Equal(b.Match)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// simulateStages replays the stages on a copy of start. upVer[k][i] is the version
// instance i is up at after k stages ("" when down or unknown); deployed[k] marks the
// instances stage k (1-based) deploys, which are down at some point during it.
func simulateStages(start *serviceModel, stages []stage, steps []Step) (upVer [][]string, deployed []map[string]bool) {
	m := start.clone()
	snap := func() []string {
		out := make([]string, len(m.insts))
		for i, im := range m.insts {
			if im.up && im.known {
				out[i] = im.version
			}
		}
		return out
	}
	upVer = [][]string{snap()}
	deployed = []map[string]bool{nil}
	for _, st := range stages {
		d := map[string]bool{}
		for _, c := range st {
			for i := c.lo; i < c.hi; i++ {
				_ = m.applyStep(&steps[i]) // already applied once by the builder
				if steps[i].Kind == Deploy {
					d[steps[i].Args.Address] = true
				}
			}
		}
		upVer = append(upVer, snap())
		deployed = append(deployed, d)
	}
	return upVer, deployed
}

// placeRoute returns the earliest boundary at which op can be applied and the
// members the route has then, or -1.
func placeRoute(start *serviceModel, op routeOp, upVer [][]string, deployed []map[string]bool) (int, []string) {
	index := make(map[string]int, len(start.insts))
	for i, im := range start.insts {
		index[im.addr] = i
	}
	// servesDuring reports whether one of members stays up at v throughout stage j.
	servesDuring := func(members []string, v string, j int) bool {
		for _, a := range members {
			if i, ok := index[a]; ok && upVer[j-1][i] == v && !deployed[j][a] {
				return true
			}
		}
		return false
	}
	oldValid := op.old != nil && start.routeUp(op.old)
	for k := 0; k < len(upVer); k++ {
		var members []string
		for i, v := range upVer[k] {
			if v == op.want.Version {
				members = append(members, start.insts[i].addr)
			}
		}
		if len(members) == 0 {
			continue
		}
		ok := true
		for j := k + 1; j < len(upVer) && ok; j++ {
			ok = servesDuring(members, op.want.Version, j)
		}
		for j := 1; j <= k && ok && oldValid; j++ {
			ok = servesDuring(op.old.Members, op.old.Version, j)
		}
		if ok {
			sort.Strings(members)
			return k, members
		}
	}
	return -1, nil
}

// routeKey names a route object: "provider/pool/route name".
func routeKey(bal *balancerModel, name string) string {
	return strings.Join([]string{bal.provider, bal.pool, "route " + name}, "/")
}
