package lang

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// decodeGroups decodes a service's instance groups. Each address must be
// host:port and belong to one group of one service only.
func (l *loader) decodeGroups(s *Service, blocks []*hcl.Block) {
	seen := map[string]hcl.Range{}
	broken := false // an instance was rejected: "No instances" would be noise
	for _, b := range blocks {
		if l.nameTaken(seen, b, "group") {
			continue
		}
		content, d := b.Body.Content(groupSchema)
		l.diags = l.diags.Append(d)
		g := &Group{Name: b.Labels[0], DeclRange: b.DefRange}
		addrs, ok := l.stringList(content.Attributes["instances"])
		broken = broken || !ok || content.Attributes["instances"] == nil
		for _, r := range addrs {
			addr, err := ParseAddress(r.s)
			if err != nil {
				l.errorf(r.rng, "Invalid address", "An instance address must be host:port: %s.", err)
				broken = true
				continue
			}
			key := addr.String()
			if owner, dup := l.addrOwners[key]; dup {
				l.errorf(r.rng, "Duplicate instance address",
					"The instance %s is already in %s; an instance belongs to one group of one service.", key, owner)
				broken = true
				continue
			}
			l.addrOwners[key] = ownerOf(s.Name, g.Name)
			g.Instances = append(g.Instances, addr)
		}
		s.Groups = append(s.Groups, g)
	}
	if totalInstances(s) == 0 && !broken {
		l.errorf(s.DeclRange, "No instances",
			"The service %q needs at least one group block with at least one instance, like group \"a\" { instances = [\"10.0.0.1:8080\"] }.", s.Name)
	}
}

// decodeBalancers decodes a service's balancer blocks.
func (l *loader) decodeBalancers(s *Service, blocks []*hcl.Block) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		if l.nameTaken(seen, b, "balancer") {
			continue
		}
		content, d := b.Body.Content(balancerSchema)
		l.diags = l.diags.Append(d)
		bal := &Balancer{Name: b.Labels[0], DeclRange: b.DefRange}
		if a := content.Attributes["provider"]; a != nil {
			bal.Provider, _ = l.providerRef("balancer", a, ClassBalancer)
		}
		bal.Pool, _ = l.reqStr(content.Attributes["pool"])
		if a := content.Attributes["weight"]; a != nil {
			v, _ := l.value(a, cty.Number)
			if v.IsKnown() && !v.IsNull() {
				if w, ok := l.wholeNumber(a.Name, a.Expr.Range(), v); ok {
					if w < 0 {
						l.errorf(a.Expr.Range(), "Invalid weight", "The weight of a serving member must be zero or more; it is %d.", w)
					} else {
						bal.Weight = &w
					}
				}
			}
		}
		if a := content.Attributes["long_lived"]; a != nil {
			v, _ := l.value(a, cty.Bool)
			if v.IsKnown() && !v.IsNull() && v.True() {
				bal.LongLived = true
				if ps, ok := ProviderSchemas[bal.Provider.Kind]; ok && !ps.ClosesSessions {
					l.errorf(a.Expr.Range(), "Long-lived connections cannot be closed",
						"Balancer %q uses provider %s, whose kind cannot close the sessions left on a drained member; long_lived needs a kind that can (haproxy).",
						bal.Name, bal.Provider)
				}
			}
		}
		s.Balancers = append(s.Balancers, bal)
	}
}

// decodeAnalyses decodes a service's analysis gates.
func (l *loader) decodeAnalyses(s *Service, blocks []*hcl.Block) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		if l.nameTaken(seen, b, "analysis") {
			continue
		}
		content, d := b.Body.Content(analysisSchema)
		l.diags = l.diags.Append(d)
		an := &Analysis{Name: b.Labels[0], NoData: "fail", DeclRange: b.DefRange}
		if a := content.Attributes["http"]; a != nil {
			if u, ok := l.reqStr(a); ok {
				checkURL(l, a, u)
				an.HTTP = u
			}
		}
		if a := content.Attributes["max_value"]; a != nil {
			v, ok := l.value(a, cty.Number)
			switch {
			case ok && v.IsNull():
				l.errorf(a.Expr.Range(), "Missing required argument", "The argument \"max_value\" is required, but it was set to null.")
			case ok:
				an.MaxValue, _ = v.AsBigFloat().Float64()
			}
		}
		if a := content.Attributes["no_data"]; a != nil {
			if v, ok := l.str(a, "fail"); ok && l.checkEnum(a, v, []string{"fail", "pass", "pause"}) {
				an.NoData = v
			}
		}
		s.Analyses[an.Name] = an
	}
}

// decodeRoutes decodes a service's versioned routes.
func (l *loader) decodeRoutes(s *Service, blocks []*hcl.Block) {
	seen := map[string]hcl.Range{}
	for _, b := range blocks {
		if l.nameTaken(seen, b, "route") {
			continue
		}
		content, d := b.Body.Content(routeSchema)
		l.diags = l.diags.Append(d)
		r := &Route{Name: b.Labels[0], DeclRange: b.DefRange}
		if a := content.Attributes["version"]; a != nil {
			r.Version, _ = l.reqStr(a)
		}
		mb := l.uniqueBlock(blocksOfType(content, "match"), "match")
		if mb == nil {
			l.errorf(b.DefRange, "Missing match block",
				"The route %q needs a match block saying which requests it routes, by client_ip, header, query or cookie.", r.Name)
		} else {
			r.Match = l.decodeMatch(mb)
		}
		s.Routes = append(s.Routes, r)
	}
}

// decodeMatch decodes a route's match block: client IPs or CIDRs, header values
// and numeric comparisons on query parameters, headers and cookies (routematch.go).
func (l *loader) decodeMatch(b *hcl.Block) RouteMatch {
	content, d := b.Body.Content(matchSchema)
	l.diags = l.diags.Append(d)
	m := RouteMatch{DeclRange: b.DefRange}
	ok := true // false when an element was rejected and reported
	if a := content.Attributes["client_ip"]; a != nil {
		ips, ipsOK := l.stringList(a)
		ok = ipsOK
		for _, ip := range ips {
			if err := validClientIP(ip.s); err != nil {
				l.errorf(ip.rng, "Invalid client_ip", "%s.", capitalize(err.Error()))
				ok = false
				continue
			}
			m.ClientIP = append(m.ClientIP, ip.s)
		}
	}
	if a := content.Attributes["header"]; a != nil {
		ok = l.decodeHeaderMatch(a, &m) && ok
	}
	for _, source := range []string{SourceQuery, SourceCookie} {
		if a := content.Attributes[source]; a != nil {
			ok = l.decodeNumberMatches(source, a, &m) && ok
		}
	}
	sortNumbers(m.Numbers)
	if ok && len(m.ClientIP) == 0 && len(m.Header) == 0 && len(m.Numbers) == 0 {
		l.errorf(b.DefRange, "Invalid route match",
			"A match block needs a non-empty client_ip list, header map, query or cookie comparison; an empty match would route every request.")
	}
	return m
}
