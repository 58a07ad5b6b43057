package lang

import (
	"net/url"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// Defaults of the per-instance blocks.
const (
	DefaultExpect         = 200
	DefaultHealthInterval = time.Second
	DefaultHealthTimeout  = 60 * time.Second
	DefaultVerifyTimeout  = 10 * time.Second
	DefaultPropagation    = 30 * time.Second
)

// instanceType is the type of the instance object inside deploy, health and verify.
var instanceType = cty.Object(map[string]cty.Type{
	"address": cty.String, "host": cty.String, "port": cty.Number, "group": cty.String,
})

// instanceContext returns base extended with instance, version and service for iv.
func instanceContext(base *hcl.EvalContext, iv InstanceVars) *hcl.EvalContext {
	if base == nil {
		base = &hcl.EvalContext{}
	}
	ctx := base.NewChild()
	ctx.Variables = map[string]cty.Value{
		"instance": cty.ObjectVal(map[string]cty.Value{
			"address": cty.StringVal(iv.Address.String()),
			"host":    cty.StringVal(iv.Address.Host),
			"port":    cty.NumberIntVal(int64(iv.Address.Port)),
			"group":   cty.StringVal(iv.Group),
		}),
		"version": cty.StringVal(iv.Version),
		"service": cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(iv.Service)}),
	}
	return ctx
}

// sampleContext is the context the loader checks per-instance expressions in:
// the service's first instance at its desired version, or unknown values when
// the service has no instance.
func (l *loader) sampleContext(s *Service) *hcl.EvalContext {
	for _, g := range s.Groups {
		if len(g.Instances) > 0 {
			return instanceContext(l.ctx, InstanceVars{Address: g.Instances[0], Group: g.Name, Version: s.Version, Service: s.Name})
		}
	}
	ctx := l.ctx.NewChild()
	ctx.Variables = map[string]cty.Value{
		"instance": cty.UnknownVal(instanceType),
		"version":  cty.UnknownVal(cty.String),
		"service":  cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(s.Name)}),
	}
	return ctx
}

// evalPerInstance evaluates a per-instance expression and converts it to ty,
// which must not be null nor hold null elements.
func evalPerInstance(expr hcl.Expression, ctx *hcl.EvalContext, name string, ty cty.Type) (cty.Value, diags.Diagnostics) {
	var d diags.Diagnostics
	v, hd := expr.Value(ctx)
	d = d.Append(hd)
	if hd.HasErrors() {
		return cty.DynamicVal, d
	}
	rng := expr.Range()
	c, err := convert.Convert(v, ty)
	if err != nil {
		return cty.DynamicVal, d.Append(diags.Errorf(&rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", name, err))
	}
	if !c.IsWhollyKnown() {
		return c, d
	}
	bad := c.IsNull()
	if !bad && (ty.IsListType() || ty.IsMapType()) {
		for it := c.ElementIterator(); it.Next(); {
			if _, e := it.Element(); e.IsNull() {
				bad = true
			}
		}
	}
	if bad {
		return cty.DynamicVal, d.Append(diags.Errorf(&rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: null is not allowed.", name))
	}
	return c, d
}

// checkPerInstance checks a per-instance expression's references and evaluates it
// in the sample context. It returns the sample value when known.
func (l *loader) checkPerInstance(s *Service, a *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	if a == nil || !l.checkRefs(a.Expr, scopeInstance) {
		return cty.DynamicVal, false
	}
	v, d := evalPerInstance(a.Expr, l.sampleContext(s), a.Name, ty)
	l.diags = l.diags.Append(d)
	return v, !d.HasErrors() && v.IsWhollyKnown()
}

// checkHTTPURL reports a sample value that is not an http(s) URL with a host.
func (l *loader) checkHTTPURL(a *hcl.Attribute, v cty.Value) {
	u, err := url.Parse(v.AsString())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errorf(a.Expr.Range(), "Invalid URL",
			"The argument %q must give an http:// or https:// URL with a host; for the first instance it gives %q.", a.Name, v.AsString())
	}
}

// decodeDrain decodes the drain block.
func (l *loader) decodeDrain(s *Service, b *hcl.Block) {
	content, d := b.Body.Content(drainSchema)
	l.diags = l.diags.Append(d)
	if a := content.Attributes["propagation"]; a != nil {
		if v, ok := l.value(a, cty.String); ok && !v.IsNull() {
			if p, ok := l.checkDuration(a.Name, a.Expr.Range(), v.AsString(), boundsPropagation); ok {
				s.Drain.Propagation = &p
			}
		}
	}
	s.Drain.Timeout, _ = l.duration(content.Attributes["timeout"], DefaultDrainTimeout, boundsTimeout)
	if a := content.Attributes["in_flight"]; a != nil {
		if d, ok := l.duration(a, 0, boundsTimeout); ok && d > 0 {
			if d > s.Drain.Timeout {
				l.errorf(a.Expr.Range(), "In-flight wait longer than the drain timeout",
					"The argument \"in_flight\" (%s) must not be longer than the drain timeout (%s): in_flight is the least a drain waits, timeout the most.",
					shortDuration(d), shortDuration(s.Drain.Timeout))
			} else {
				s.Drain.InFlight = d
			}
		}
	}
}

// decodeDeploy decodes the deploy block every service needs.
func (l *loader) decodeDeploy(s *Service, blocks []*hcl.Block) {
	if len(blocks) == 0 {
		l.errorf(s.DeclRange, "Missing deploy block",
			"The service %q needs a deploy block with the command that moves an instance to a version.", s.Name)
		return
	}
	b := l.uniqueBlock(blocks, "deploy")
	content, d := b.Body.Content(deploySchema)
	l.diags = l.diags.Append(d)
	dep := &Deploy{DeclRange: b.DefRange}
	if a := content.Attributes["command"]; a != nil {
		dep.Command = a.Expr
		if v, ok := l.checkPerInstance(s, a, cty.List(cty.String)); ok && v.LengthInt() == 0 {
			l.errorf(a.Expr.Range(), "Empty argument", "The deploy command must have at least a program name.")
		}
	}
	if a := content.Attributes["env"]; a != nil {
		dep.Env = a.Expr
		l.checkPerInstance(s, a, cty.Map(cty.String))
	}
	dep.Timeout, _ = l.duration(content.Attributes["timeout"], DefaultDeployTimeout, boundsTimeout)
	s.Deploy = dep
}

// decodeHealth decodes a health block.
func (l *loader) decodeHealth(s *Service, b *hcl.Block) *Health {
	content, d := b.Body.Content(healthSchema)
	l.diags = l.diags.Append(d)
	h := &Health{DeclRange: b.DefRange}
	if a := content.Attributes["http"]; a != nil {
		h.HTTP = a.Expr
		if v, ok := l.checkPerInstance(s, a, cty.String); ok {
			l.checkHTTPURL(a, v)
		}
	}
	h.Expect = l.expect(content.Attributes["expect"])
	h.Interval, _ = l.duration(content.Attributes["interval"], DefaultHealthInterval, boundsInterval)
	h.Timeout, _ = l.duration(content.Attributes["timeout"], DefaultHealthTimeout, boundsTimeout)
	return h
}

// decodeVerify decodes a verify block.
func (l *loader) decodeVerify(s *Service, b *hcl.Block) *Verify {
	content, d := b.Body.Content(verifySchema)
	l.diags = l.diags.Append(d)
	v := &Verify{DeclRange: b.DefRange}
	if a := content.Attributes["http"]; a != nil {
		v.HTTP = a.Expr
		if val, ok := l.checkPerInstance(s, a, cty.String); ok {
			l.checkHTTPURL(a, val)
		}
	}
	if a := content.Attributes["contains"]; a != nil {
		v.Contains = a.Expr
		l.checkPerInstance(s, a, cty.String)
	}
	v.Expect = l.expect(content.Attributes["expect"])
	v.Timeout, _ = l.duration(content.Attributes["timeout"], DefaultVerifyTimeout, boundsTimeout)
	return v
}

// expect decodes an expected HTTP status, 100 to 599.
func (l *loader) expect(a *hcl.Attribute) int {
	n, ok := l.integer(a, DefaultExpect)
	if ok && (n < 100 || n > 599) {
		l.errorf(a.Expr.Range(), "Invalid expect", "The expected HTTP status must be from 100 to 599; it is %d.", n)
		return DefaultExpect
	}
	return n
}
