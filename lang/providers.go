package lang

import (
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// ProviderSchema describes one provider kind as the language sees it: the slot it
// fits, its attributes (types, defaults, sensitivity) and the checks of its values.
// A provider package declares it once, next to its factory, and registers both with
// providers.Register (see RegisterProviderKind).
type ProviderSchema struct {
	Class      ProviderClass
	Attributes map[string]AttrSchema
	// Check, when set, checks the block beyond what Attributes say (types,
	// required, enums, durations): addresses, URLs, non-empty values.
	Check ProviderCheck
	// ClosesSessions marks a balancer kind that can close the sessions left on a
	// drained member (HAProxy's `shutdown sessions server`), which a balancer block
	// with long_lived = true needs.
	ClosesSessions bool
	// StoresConfig marks a registry kind that also holds configuration documents
	// (the Nacos configuration center), which a gateway_routes block needs.
	StoresConfig bool
}

// AttrSchema describes one provider attribute. Default is used when the attribute
// is absent or null (cty.NilVal for required attributes).
type AttrSchema struct {
	Type      cty.Type
	Required  bool
	Sensitive bool
	Default   cty.Value
	// Duration marks a string attribute that holds a duration ("30s"), of at
	// least a millisecond.
	Duration bool
	// MaxDuration is the longest a Duration attribute may be; zero means a day.
	MaxDuration time.Duration
	// Enum, when set, lists the values a string attribute may take.
	Enum []string
}

// bounds returns the limits of a Duration attribute.
func (as AttrSchema) bounds() durationBounds {
	if as.MaxDuration == 0 {
		return boundsTimeout
	}
	return durationBounds{min: time.Millisecond, max: as.MaxDuration}
}

// bodySchema returns the HCL schema of a provider block of this kind.
func (ps ProviderSchema) bodySchema() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, name := range slices.Sorted(maps.Keys(ps.Attributes)) {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name, Required: ps.Attributes[name].Required})
	}
	return s
}

// decodeProviders decodes every provider block against the registered kinds.
func (l *loader) decodeProviders(blocks []*hcl.Block) {
	for _, b := range blocks {
		kind, name := b.Labels[0], b.Labels[1]
		ps, known := ProviderSchemas[kind]
		if !known {
			l.errorf(b.LabelRanges[0], "Invalid provider kind",
				"There is no provider kind %q; use %s.%s", kind, quotedList(ProviderKinds()), didYouMean(kind, ProviderKinds()))
			continue
		}
		if !hclsyntax.ValidIdentifier(name) {
			l.errorf(b.LabelRanges[1], "Invalid provider name",
				"%q is not a valid name; a name starts with a letter and contains only letters, digits, underscores and dashes.", name)
			continue
		}
		ref := ProviderRef{Kind: kind, Name: name}
		if prev, dup := l.cfg.Providers[ref]; dup {
			l.errorf(b.DefRange, "Duplicate provider", "The provider %s was already defined at %s.", ref, prev.DeclRange)
			continue
		}
		p := &Provider{Ref: ref, Class: ps.Class, Attrs: map[string]cty.Value{}, Sensitive: map[string]bool{}, DeclRange: b.DefRange}
		content, d := b.Body.Content(ps.bodySchema())
		l.diags = l.diags.Append(d)
		valid := hcl.Attributes{} // set, and good so far: the kind's check looks at these only
		for _, an := range slices.Sorted(maps.Keys(ps.Attributes)) {
			as := ps.Attributes[an]
			if as.Sensitive {
				p.Sensitive[an] = true
			}
			var ok bool
			p.Attrs[an], ok = l.providerAttr(content.Attributes[an], as)
			if ok && content.Attributes[an] != nil {
				valid[an] = content.Attributes[an]
			}
		}
		if ps.Check != nil {
			ps.Check(&ProviderBlock{Ref: ref, Attrs: p.Attrs, l: l, p: p, set: valid})
		}
		l.cfg.Providers[ref] = p
	}
}

// providerAttr evaluates one provider attribute against its schema. It returns
// false when it reported a problem or the attribute is absent or null.
func (l *loader) providerAttr(a *hcl.Attribute, as AttrSchema) (cty.Value, bool) {
	fallback := as.Default
	if fallback == cty.NilVal {
		fallback = cty.NullVal(as.Type)
	}
	if a == nil {
		return fallback, false // a missing required attribute is reported by the schema
	}
	v, ok := l.value(a, as.Type)
	if !ok {
		return fallback, false
	}
	if v.IsNull() {
		if as.Required {
			l.errorf(a.Expr.Range(), "Missing required argument", "The argument %q is required, but it was set to null.", a.Name)
		}
		return fallback, false
	}
	if as.Duration {
		if _, ok := l.checkDuration(a.Name, a.Expr.Range(), v.AsString(), as.bounds()); !ok {
			return fallback, false
		}
	}
	if len(as.Enum) > 0 && !l.checkEnum(a, v.AsString(), as.Enum) {
		return fallback, false
	}
	return v, true
}

// checkEnum reports a string value that is not one of values.
func (l *loader) checkEnum(a *hcl.Attribute, s string, values []string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	l.errorf(a.Expr.Range(), "Invalid "+a.Name,
		"The argument %q must be %s, not %q.%s", a.Name, quotedList(values), s, didYouMean(s, values))
	return false
}
