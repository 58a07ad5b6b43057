package executor

import (
	"context"
	"fmt"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// routeStore finds a provider that materialises routes.
func (x *execution) routeStore(ref string) (providers.RouteStore, error) {
	p, err := x.provider(ref)
	if err != nil {
		return nil, err
	}
	rs, ok := p.(providers.RouteStore)
	if !ok {
		return nil, fmt.Errorf("provider %s does not support routes", ref)
	}
	return rs, nil
}

// findRoute reads a pool's routes and returns one by name.
func findRoute(ctx context.Context, rs providers.RouteStore, pool, name string) (*providers.Route, error) {
	routes, err := rs.Routes(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("listing routes of pool %s: %w", pool, err)
	}
	for _, r := range routes {
		if r.Name == name {
			r := r
			return &r, nil
		}
	}
	return nil, nil
}

// routeUndo returns the step that puts a route back as it was: put the previous
// route, or delete the route when there was none.
func routeUndo(st *planner.Step, pool, name string, prev *providers.Route) planner.Step {
	inv := withArgs(st, func(u *planner.StepArgs) {
		u.Pool = pool
		if prev != nil {
			u.Route = prev
		} else {
			u.Route = &providers.Route{Pool: pool, Name: name}
		}
	})
	inv.Kind = planner.RouteSet
	if prev == nil {
		inv.Kind = planner.RouteDelete
	}
	return inv
}

// putRoute runs route.set.
func (x *execution) putRoute(ctx context.Context, st *planner.Step) ([]write, error) {
	route := st.Args.Route
	if route == nil {
		return nil, fmt.Errorf("route.set has no route")
	}
	r := *route
	if r.Pool == "" {
		r.Pool = st.Args.Pool
	}
	rs, err := x.routeStore(st.Args.Provider)
	if err != nil {
		return nil, err
	}
	prev, err := findRoute(ctx, rs, r.Pool, r.Name)
	if err != nil {
		return nil, err
	}
	if err := rs.PutRoute(ctx, r); err != nil {
		return nil, fmt.Errorf("putting route %s in %s: %w", r.Name, r.Pool, err)
	}
	return []write{{key: "route|" + st.Args.Provider + "|" + r.Pool + "|" + r.Name, did: *st, undo: routeUndo(st, r.Pool, r.Name, prev)}}, nil
}

// deleteRoute runs route.delete.
func (x *execution) deleteRoute(ctx context.Context, st *planner.Step) ([]write, error) {
	pool, name := st.Args.Pool, ""
	if st.Args.Route != nil {
		name = st.Args.Route.Name
		if pool == "" {
			pool = st.Args.Route.Pool
		}
	}
	if name == "" || pool == "" {
		return nil, fmt.Errorf("route.delete needs a pool and a route name")
	}
	rs, err := x.routeStore(st.Args.Provider)
	if err != nil {
		return nil, err
	}
	prev, err := findRoute(ctx, rs, pool, name)
	if err != nil {
		return nil, err
	}
	if err := rs.DeleteRoute(ctx, pool, name); err != nil {
		return nil, fmt.Errorf("deleting route %s from %s: %w", name, pool, err)
	}
	if prev == nil {
		return nil, nil
	}
	return []write{{key: "route|" + st.Args.Provider + "|" + pool + "|" + name, did: *st, undo: routeUndo(st, pool, name, prev)}}, nil
}
