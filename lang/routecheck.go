package lang

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// RouteCheck checks that the balancers of one provider kind can express a route's
// match, reporting what they cannot through c. Like a ProviderCheck it keeps the
// facts with the kind: the kind's package registers it from its init with
// RegisterRouteCheck, and lang runs it for every route of a service on every
// balancer of the kind, at validate time, without a live system.
type RouteCheck func(c *RouteCheckContext)

// RouteCheckContext is one route on one balancer, as a RouteCheck sees it.
type RouteCheckContext struct {
	Provider *Provider
	Service  *Service
	Balancer *Balancer
	Route    *Route

	l *loader
}

// routeChecks holds the registered checks by kind. Like ProviderSchemas it is
// filled during initialisation and read without a lock.
var routeChecks = map[string]RouteCheck{}

// RegisterRouteCheck makes check run for every route on a balancer of kind. It
// panics on a second check for the same kind, a programming error.
func RegisterRouteCheck(kind string, check RouteCheck) {
	if _, dup := routeChecks[kind]; dup {
		panic(fmt.Sprintf("lang: route check for provider kind %q registered twice", kind))
	}
	routeChecks[kind] = check
}

// String returns a string attribute of the balancer's provider, its default when
// the block does not set it, "" when it is not a string.
func (c *RouteCheckContext) String(name string) string { return stringAttr(c.Provider, name) }

// Set reports whether the provider block gives attribute name a non-empty string
// or another non-null value.
func (c *RouteCheckContext) Set(name string) bool {
	v, ok := c.Provider.Attrs[name]
	if !ok || !v.IsKnown() || v.IsNull() {
		return false
	}
	return v.Type() != cty.String || v.AsString() != ""
}

// Errorf reports that the balancer cannot express part of the route, at rng (a
// comparison's DeclRange, or the match block's). The detail is prefixed with the
// route, the balancer and its provider, so a check names only what it refuses.
func (c *RouteCheckContext) Errorf(rng hcl.Range, summary, format string, args ...any) {
	c.l.errorf(rng, summary, "Route %q cannot be expressed on balancer %q (%s): %s",
		c.Route.Name, c.Balancer.Name, c.Balancer.Provider, fmt.Sprintf(format, args...))
}

// checkRoutes runs the route checks of each balancer's kind on every route of s.
func (l *loader) checkRoutes(s *Service) {
	for _, b := range s.Balancers {
		p := l.cfg.Providers[b.Provider]
		check := routeChecks[b.Provider.Kind]
		if p == nil || check == nil {
			continue
		}
		for _, r := range s.Routes {
			if r.Match.DeclRange.Filename == "" { // no match block: reported already
				continue
			}
			check(&RouteCheckContext{Provider: p, Service: s, Balancer: b, Route: r, l: l})
		}
	}
}
