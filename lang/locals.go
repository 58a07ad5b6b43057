package lang

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// localsEval evaluates locals in dependency order, finding cycles.
type localsEval struct {
	l     *loader
	attrs map[string]*hcl.Attribute
	state map[string]int // 0 unvisited, 1 on the stack, 2 done
	stack []string
}

// decodeLocals collects the attributes of every locals block and evaluates
// them, each after the locals it references. A cycle is an error naming it.
func (l *loader) decodeLocals(blocks []*hcl.Block) {
	e := &localsEval{l: l, attrs: map[string]*hcl.Attribute{}, state: map[string]int{}}
	var order []string
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		l.diags = l.diags.Append(d)
		for _, a := range sortedAttrs(attrs) {
			if prev, dup := e.attrs[a.Name]; dup {
				l.errorf(a.NameRange, "Duplicate local value",
					"A local value named %q was already defined at %s.", a.Name, prev.NameRange)
				continue
			}
			e.attrs[a.Name] = a
			l.localNames[a.Name] = true
			order = append(order, a.Name)
		}
	}
	for _, name := range order {
		e.visit(name)
	}
}

// visit evaluates the local name after its dependencies.
func (e *localsEval) visit(name string) {
	switch e.state[name] {
	case 2:
		return
	case 1:
		start := 0
		for i, n := range e.stack {
			if n == name {
				start = i
			}
		}
		cycle := append(append([]string(nil), e.stack[start:]...), name)
		e.l.errorf(e.attrs[name].NameRange, "Circular reference in locals",
			"The local values refer to each other in a cycle: %s.", strings.Join(cycle, " -> "))
		e.l.cfg.Locals[name] = cty.DynamicVal
		return
	}
	a := e.attrs[name]
	e.state[name] = 1
	e.stack = append(e.stack, name)
	for _, dep := range localRefs(a.Expr) {
		if _, declared := e.attrs[dep]; declared {
			e.visit(dep)
		}
	}
	e.stack = e.stack[:len(e.stack)-1]
	e.state[name] = 2
	if _, inCycle := e.l.cfg.Locals[name]; inCycle {
		return
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": e.l.varObject(), "local": e.knownLocals()},
		Functions: e.l.funcs,
	}
	v, ok := e.l.eval(a.Expr, scopeConfig, ctx)
	if !ok {
		v = cty.DynamicVal
	}
	e.l.cfg.Locals[name] = v
}

// knownLocals returns the locals evaluated so far, with unknown values for the rest.
func (e *localsEval) knownLocals() cty.Value {
	m := map[string]cty.Value{}
	for n := range e.attrs {
		if v, ok := e.l.cfg.Locals[n]; ok {
			m[n] = v
		} else {
			m[n] = cty.DynamicVal
		}
	}
	return cty.ObjectVal(m)
}

// varObject returns the variables' values as the object bound to "var".
func (l *loader) varObject() cty.Value {
	vars := map[string]cty.Value{}
	for name, v := range l.cfg.Variables {
		vars[name] = v.Value
	}
	return cty.ObjectVal(vars)
}

// sortedAttrs returns attributes in source order.
func sortedAttrs(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Range.Start.Byte < out[j-1].Range.Start.Byte; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
