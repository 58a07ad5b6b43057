package lang

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// decodeDependsOn reads depends_on = [service.NAME, ...]. Whether the services
// exist, and whether the dependencies form a cycle, is checked once every
// service is decoded (checkDependencies).
func (l *loader) decodeDependsOn(s *Service, a *hcl.Attribute) {
	exprs, d := hcl.ExprList(a.Expr)
	if d.HasErrors() {
		l.errorf(a.Expr.Range(), "Invalid depends_on", "The argument \"depends_on\" must be a list of services, like [service.user-service].")
		return
	}
	seen := map[string]bool{}
	for _, e := range exprs {
		tr, td := hcl.AbsTraversalForExpr(e)
		name, isAttr := traversalStep(tr, 1)
		if td.HasErrors() || len(tr) != 2 || tr.RootName() != "service" || !isAttr {
			l.errorf(e.Range(), "Invalid depends_on",
				"Each element of depends_on names a service without quotes, like service.user-service.")
			continue
		}
		l.dependsOn[s.Name] = append(l.dependsOn[s.Name], serviceRef{name: name, rng: e.Range()})
		if !seen[name] {
			seen[name] = true
			s.DependsOn = append(s.DependsOn, name)
		}
	}
}

// checkDependencies reports depends_on elements naming undeclared services and
// every cycle among the services, naming it ("a -> b -> a").
func (l *loader) checkDependencies() {
	for _, name := range l.cfg.ServiceNames {
		for _, ref := range l.dependsOn[name] {
			if _, ok := l.cfg.Services[ref.name]; !ok {
				l.errorf(ref.rng, "Reference to undeclared service",
					"No service %q is declared.%s", ref.name, didYouMean(ref.name, l.cfg.ServiceNames))
			}
		}
	}
	state := map[string]int{} // 0 unvisited, 1 on the stack, 2 done
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		state[name] = 1
		stack = append(stack, name)
		for _, ref := range l.dependsOn[name] {
			if _, ok := l.cfg.Services[ref.name]; !ok {
				continue
			}
			switch state[ref.name] {
			case 0:
				visit(ref.name)
			case 1:
				start := 0
				for i, n := range stack {
					if n == ref.name {
						start = i
					}
				}
				cycle := append(append([]string(nil), stack[start:]...), ref.name)
				l.errorf(ref.rng, "Circular dependency between services",
					"The services depend on each other in a cycle, so none of them could be released first: %s.", strings.Join(cycle, " -> "))
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = 2
	}
	for _, name := range l.cfg.ServiceNames {
		if state[name] == 0 {
			visit(name)
		}
	}
}
