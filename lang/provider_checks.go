package lang

import (
	"net/url"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ProviderCheck checks a provider block of one kind beyond what its attribute
// schemas say (types, required, enums, durations), reporting through b.
type ProviderCheck func(b *ProviderBlock)

// ProviderBlock is a provider block as its kind's check sees it.
type ProviderBlock struct {
	// Ref names the block.
	Ref ProviderRef
	// Attrs holds every attribute of the kind, defaults filled in.
	Attrs map[string]cty.Value

	l   *loader
	p   *Provider
	set hcl.Attributes // written in the block, and valid as far as the schema goes
}

// Set reports whether the block writes attribute name with a value that passed the
// schema. A check looks at such attributes only: a default is the kind's own
// choice, and a bad value was reported already.
func (b *ProviderBlock) Set(name string) bool { return b.set[name] != nil }

// String returns a string attribute's value, "" when null, unknown or not a string.
func (b *ProviderBlock) String(name string) string { return stringAttr(b.p, name) }

// ListElement is one string of a list attribute and where it was written.
type ListElement struct {
	Value string
	Range hcl.Range
}

// StringList returns the strings of a list attribute the block sets, each with the
// range of its element when the value is written as a literal list (of the whole
// expression otherwise). A null element is reported, and ok is false.
func (b *ProviderBlock) StringList(name string) (elems []ListElement, ok bool) {
	a := b.set[name]
	if a == nil {
		return nil, true
	}
	list, ok := b.l.stringList(a)
	elems = make([]ListElement, len(list))
	for i, rs := range list {
		elems[i] = ListElement{Value: rs.s, Range: rs.rng}
	}
	return elems, ok
}

// Errorf reports an error at the value of attribute name (at the block when the
// block does not set it).
func (b *ProviderBlock) Errorf(name, summary, format string, args ...any) {
	rng := b.p.DeclRange
	if a := b.set[name]; a != nil {
		rng = a.Expr.Range()
	}
	b.ErrorAt(rng, summary, format, args...)
}

// ErrorAt reports an error at rng, such as one element of a list.
func (b *ProviderBlock) ErrorAt(rng hcl.Range, summary, format string, args ...any) {
	b.l.errorf(rng, summary, format, args...)
}

// CheckHTTPURL reports attribute name, when the block sets it, unless it holds an
// absolute http or https URL with a host.
func (b *ProviderBlock) CheckHTTPURL(name string) {
	if !b.Set(name) {
		return
	}
	checkURL(b.l, b.set[name], b.String(name))
}

// checkURL reports a value that is not an absolute http or https URL.
func checkURL(l *loader, a *hcl.Attribute, s string) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.errorf(a.Expr.Range(), "Invalid URL", "The argument %q must be an http:// or https:// URL with a host, not %q.", a.Name, s)
	}
}

// stringAttr returns a provider's string attribute, "" when unknown or null.
func stringAttr(p *Provider, name string) string {
	v, ok := p.Attrs[name]
	if !ok || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return ""
	}
	return v.AsString()
}

// redactedValue replaces sensitive values when printed.
var redactedValue = cty.StringVal("(sensitive value)")

// Redacted returns the provider's attributes with every sensitive one replaced
// by "(sensitive value)", for plans, logs and state.
func (p *Provider) Redacted() map[string]cty.Value {
	out := make(map[string]cty.Value, len(p.Attrs))
	for k, v := range p.Attrs {
		if p.Sensitive[k] {
			out[k] = redactedValue
			continue
		}
		out[k] = v
	}
	return out
}

// SensitiveValues returns every non-empty string held by a sensitive provider
// or state attribute or a sensitive variable, longest first, for redacting
// output that might contain them.
func (c *Config) SensitiveValues() []string {
	seen := map[string]bool{}
	add := func(v cty.Value) {
		collectStrings(v, seen)
	}
	for _, p := range c.Providers {
		for k, v := range p.Attrs {
			if p.Sensitive[k] {
				add(v)
			}
		}
	}
	if c.Nonstop != nil && c.Nonstop.State != nil {
		for k, v := range c.Nonstop.State.Attrs {
			if c.Nonstop.State.Sensitive[k] {
				add(v)
			}
		}
	}
	for _, v := range c.Variables {
		if v.Sensitive {
			add(v.Value)
		}
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) > len(out[j])
		}
		return out[i] < out[j]
	})
	return out
}

// collectStrings adds every non-empty string inside v (also inside collections) to seen.
func collectStrings(v cty.Value, seen map[string]bool) {
	if v == cty.NilVal || !v.IsKnown() || v.IsNull() {
		return
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		if s := v.AsString(); s != "" {
			seen[s] = true
		}
	case ty.IsCollectionType() || ty.IsTupleType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			collectStrings(e, seen)
		}
	}
}
