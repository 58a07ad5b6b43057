package nginx

import (
	"context"
	"fmt"

	"github.com/nonstop-release/nonstop/providers"
)

// Routes lists the routes materialised in a pool: per-route upstreams that the
// pool's $nonstop_<pool> map really selects, with the match read from their geo and
// map blocks and the version from their comment.
func (n *Nginx) Routes(ctx context.Context, pool string) ([]providers.Route, error) {
	p, err := n.readPool(pool)
	if err != nil {
		return nil, err
	}
	out := make([]providers.Route, 0, len(p.routes))
	for _, r := range p.routes {
		out = append(out, cloneRoute(r))
	}
	return out, nil
}

// PutRoute creates or replaces a route in an existing pool. Route members that
// are also pool members mirror their pool state, so draining a member in the pool
// drains it from its routes too; a pool weight of 0 does not (a canary's members
// usually take no pool traffic but serve their route).
func (n *Nginx) PutRoute(ctx context.Context, route providers.Route) error {
	if err := validateRoute(route); err != nil {
		return n.errorf("pool %q: %v", route.Pool, err)
	}
	return n.modify(ctx, func(f *upstreamsFile) error {
		p := f.findPool(route.Pool)
		if p == nil {
			return fmt.Errorf("pool %q is not an upstream in %s", route.Pool, n.file)
		}
		kept := p.routes[:0]
		for _, r := range p.routes {
			if r.Name != route.Name {
				kept = append(kept, r)
			}
		}
		p.routes = sortedRoutes(append(kept, cloneRoute(route)))
		return nil
	})
}

// DeleteRoute removes a route; a route that is not there is an error.
func (n *Nginx) DeleteRoute(ctx context.Context, pool, name string) error {
	return n.modify(ctx, func(f *upstreamsFile) error {
		p := f.findPool(pool)
		if p == nil {
			return fmt.Errorf("pool %q is not an upstream in %s", pool, n.file)
		}
		for i, r := range p.routes {
			if r.Name == name {
				p.routes = append(p.routes[:i], p.routes[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("pool %q has no route %q", pool, name)
	})
}
