package lang

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Defaults of a service's optional settings.
const (
	DefaultDrainTimeout  = 5 * time.Minute
	DefaultDeployTimeout = 10 * time.Minute
	DefaultNacosGroup    = "DEFAULT_GROUP"
	DefaultNacosCluster  = "DEFAULT"
)

// decodeServices decodes every service block in declaration order.
func (l *loader) decodeServices(blocks []*hcl.Block) {
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			l.errorf(b.LabelRanges[0], "Invalid service name",
				"%q is not a valid name; a name starts with a letter and contains only letters, digits, underscores and dashes.", name)
			continue
		}
		if prev, dup := l.cfg.Services[name]; dup {
			l.errorf(b.DefRange, "Duplicate service", "A service named %q was already defined at %s.", name, prev.DeclRange)
			continue
		}
		s := l.decodeService(name, b)
		l.cfg.Services[name] = s
		l.cfg.ServiceNames = append(l.cfg.ServiceNames, name)
	}
}

// decodeService decodes one service block, checking every rule that concerns it alone.
func (l *loader) decodeService(name string, b *hcl.Block) *Service {
	s := &Service{
		Name:      name,
		Analyses:  map[string]*Analysis{},
		OnFailure: "rollback",
		Drain:     Drain{Timeout: DefaultDrainTimeout},
		DeclRange: b.DefRange,
		ctx:       l.ctx,
	}
	content, d := b.Body.Content(serviceSchema)
	l.diags = l.diags.Append(d)
	if a := content.Attributes["version"]; a != nil {
		s.Version, _ = l.reqStr(a)
	}
	if rb := l.uniqueBlock(blocksOfType(content, "registry"), "registry"); rb != nil {
		s.Registry = l.decodeRegistry(rb)
	}
	l.decodeGroups(s, blocksOfType(content, "group"))
	l.decodeBalancers(s, blocksOfType(content, "balancer"))
	if a := content.Attributes["min_available"]; a != nil {
		l.decodeMinAvailable(s, a)
	}
	l.decodeAnalyses(s, blocksOfType(content, "analysis"))
	l.decodeStrategy(s, blocksOfType(content, "strategy"))
	if db := l.uniqueBlock(blocksOfType(content, "drain"), "drain"); db != nil {
		l.decodeDrain(s, db)
	}
	l.decodeDeploy(s, blocksOfType(content, "deploy"))
	if hb := l.uniqueBlock(blocksOfType(content, "health"), "health"); hb != nil {
		s.Health = l.decodeHealth(s, hb)
	}
	if vb := l.uniqueBlock(blocksOfType(content, "verify"), "verify"); vb != nil {
		s.Verify = l.decodeVerify(s, vb)
	}
	l.decodeRoutes(s, blocksOfType(content, "route"))
	l.checkRoutes(s)
	l.decodeGatewayRoutes(s, blocksOfType(content, "gateway_routes"))
	if a := content.Attributes["depends_on"]; a != nil {
		l.decodeDependsOn(s, a)
	}
	if a := content.Attributes["on_failure"]; a != nil {
		if v, ok := l.str(a, "rollback"); ok && l.checkEnum(a, v, []string{"rollback", "pause"}) {
			s.OnFailure = v
		}
	}
	return s
}

// decodeRegistry decodes a registry block.
func (l *loader) decodeRegistry(b *hcl.Block) *Registry {
	content, d := b.Body.Content(registrySchema)
	l.diags = l.diags.Append(d)
	r := &Registry{DeclRange: b.DefRange}
	if a := content.Attributes["provider"]; a != nil {
		r.Provider, _ = l.providerRef("registry", a, ClassRegistry)
	}
	r.Group, _ = l.nonEmptyStr(content.Attributes["group"], DefaultNacosGroup)
	r.Cluster, _ = l.nonEmptyStr(content.Attributes["cluster"], DefaultNacosCluster)
	return r
}

// nonEmptyStr is str for attributes that may be absent but not empty.
func (l *loader) nonEmptyStr(a *hcl.Attribute, def string) (string, bool) {
	v, ok := l.str(a, def)
	if ok && v == "" {
		l.errorf(a.Expr.Range(), "Empty argument", "The argument %q must not be empty; leave it out to use %q.", a.Name, def)
		return def, false
	}
	return v, ok
}

// providerRef resolves a bare provider reference such as nacos.prod and checks
// that the provider exists and fits a slot of class.
func (l *loader) providerRef(slot string, a *hcl.Attribute, class ProviderClass) (ProviderRef, bool) {
	rng := a.Expr.Range()
	tr, d := hcl.AbsTraversalForExpr(a.Expr)
	name, isAttr := traversalStep(tr, 1)
	if d.HasErrors() || len(tr) != 2 || !isAttr {
		l.errorf(rng, "Invalid provider reference",
			"A provider is referenced by kind and name without quotes, like nacos.prod.")
		return ProviderRef{}, false
	}
	ref := ProviderRef{Kind: tr.RootName(), Name: name}
	ps, known := ProviderSchemas[ref.Kind]
	if !known {
		l.errorf(rng, "Invalid provider reference",
			"There is no provider kind %q; use %s.%s", ref.Kind, quotedList(slices.Sorted(maps.Keys(ProviderSchemas))), didYouMean(ref.Kind, slices.Sorted(maps.Keys(ProviderSchemas))))
		return ProviderRef{}, false
	}
	if _, ok := l.cfg.Providers[ref]; !ok {
		var declared []string
		for r := range l.cfg.Providers {
			declared = append(declared, r.String())
		}
		l.errorf(rng, "Reference to undeclared provider",
			"No provider %s is declared; add a provider %q %q block.%s", ref, ref.Kind, ref.Name, didYouMean(ref.String(), declared))
		return ProviderRef{}, false
	}
	if ps.Class != class {
		var fit []string
		for k, s := range ProviderSchemas {
			if s.Class == class {
				fit = append(fit, k)
			}
		}
		l.errorf(rng, "Incompatible provider",
			"A %s block needs a %s provider (%s), but %s is a %s provider.", slot, class, quotedList(fit), ref, ps.Class)
		return ProviderRef{}, false
	}
	return ref, true
}

// decodeMinAvailable decodes min_available, which must leave at least one
// instance free to be released.
func (l *loader) decodeMinAvailable(s *Service, a *hcl.Attribute) {
	n, ok := l.integer(a, 0)
	if !ok {
		return
	}
	total := totalInstances(s)
	switch {
	case n < 0:
		l.errorf(a.Expr.Range(), "Invalid min_available", "The argument \"min_available\" must not be negative; it is %d.", n)
	case total > 0 && n >= total:
		l.errorf(a.Expr.Range(), "Invalid min_available",
			"The argument \"min_available\" must be less than the service's %d instances, or no instance could ever be released; it is %d.", total, n)
	default:
		s.MinAvailable = n
	}
}

// totalInstances counts a service's instances across its groups.
func totalInstances(s *Service) int {
	n := 0
	for _, g := range s.Groups {
		n += len(g.Instances)
	}
	return n
}

// groupsWithInstances counts the groups that have at least one instance.
func groupsWithInstances(s *Service) int {
	n := 0
	for _, g := range s.Groups {
		if len(g.Instances) > 0 {
			n++
		}
	}
	return n
}

// nameTaken reports a duplicate name among a service's blocks of one type.
func (l *loader) nameTaken(seen map[string]hcl.Range, b *hcl.Block, what string) bool {
	name := b.Labels[0]
	if prev, dup := seen[name]; dup {
		article := "A"
		if strings.ContainsRune("aeiou", rune(what[0])) {
			article = "An"
		}
		l.errorf(b.DefRange, "Duplicate "+what, "%s %s named %q was already defined at %s.", article, what, name, prev)
		return true
	}
	seen[name] = b.DefRange
	return false
}

// ownerOf describes where an instance address is used, for duplicate errors.
func ownerOf(service, group string) string {
	return fmt.Sprintf("group %q of service %q", group, service)
}
