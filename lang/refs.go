package lang

import (
	"fmt"
	"maps"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// scope says which names an expression may reference.
type scope int

const (
	// scopeConfig allows var and local: everything evaluated at load time.
	scopeConfig scope = iota
	// scopeInstance also allows instance, version and service: deploy, health, verify.
	scopeInstance
)

// perInstanceNames are the roots that exist only in scopeInstance.
var perInstanceNames = map[string]bool{"instance": true, "version": true, "service": true}

// checkRefs reports every reference in expr that sc does not allow, naming it,
// and every var or local that is not declared. It returns false when it reported.
func (l *loader) checkRefs(expr hcl.Expression, sc scope) bool {
	ok := true
	for _, tr := range expr.Variables() {
		root := tr.RootName()
		rng := tr.SourceRange()
		switch {
		case root == "var" || root == "local":
			ok = l.checkNamedRef(tr, root) && ok
		case perInstanceNames[root]:
			if sc != scopeInstance {
				l.errorf(rng, "Per-instance value not allowed here",
					"%q exists only inside deploy, health and verify blocks, which are evaluated for each instance.", root)
				ok = false
			}
		default:
			allowed := "var and local"
			if sc == scopeInstance {
				allowed = "instance, version, service, var and local"
			}
			detail := fmt.Sprintf("A reference to %q is not allowed here; expressions may reference only %s.", root, allowed)
			if _, isKind := ProviderSchemas[root]; isKind {
				detail += " Provider references belong only in the provider argument of registry and balancer blocks."
			}
			l.errorf(rng, "Invalid reference", "%s", detail)
			ok = false
		}
	}
	return ok
}

// checkNamedRef checks var.NAME or local.NAME against the declared names.
func (l *loader) checkNamedRef(tr hcl.Traversal, root string) bool {
	rng := tr.SourceRange()
	attr, isAttr := traversalStep(tr, 1)
	if !isAttr {
		l.errorf(rng, "Invalid reference", "A reference to %s needs an attribute name, like %s.name.", root, root)
		return false
	}
	if root == "var" {
		if _, ok := l.varNames[attr]; !ok {
			l.errorf(rng, "Reference to undeclared input variable",
				"An input variable named %q has not been declared.%s", attr, didYouMean(attr, slices.Sorted(maps.Keys(l.varNames))))
			return false
		}
		return true
	}
	if _, ok := l.localNames[attr]; !ok {
		l.errorf(rng, "Reference to undeclared local value",
			"A local value named %q has not been declared.%s", attr, didYouMean(attr, slices.Sorted(maps.Keys(l.localNames))))
		return false
	}
	return true
}

// traversalStep returns the attribute name of step i of tr when it is an attribute step.
func traversalStep(tr hcl.Traversal, i int) (string, bool) {
	if len(tr) <= i {
		return "", false
	}
	a, ok := tr[i].(hcl.TraverseAttr)
	if !ok {
		return "", false
	}
	return a.Name, true
}

// localRefs returns the names of the locals expr refers to, in order of appearance.
func localRefs(expr hcl.Expression) []string {
	var out []string
	for _, tr := range expr.Variables() {
		if tr.RootName() != "local" {
			continue
		}
		if name, ok := traversalStep(tr, 1); ok {
			out = append(out, name)
		}
	}
	return out
}
