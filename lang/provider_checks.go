package lang

import (
	"net/url"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// providerChecks hold the checks of each kind beyond types, enums and durations.
var providerChecks = map[string]func(l *loader, p *Provider, attrs hcl.Attributes){
	"nacos":      checkNacos,
	"nginx":      checkNginx,
	"haproxy":    checkHAProxy,
	"f5":         checkF5,
	"aliyun_slb": checkAliyun,
	"aliyun_alb": checkAliyun,
}

func checkNacos(l *loader, p *Provider, attrs hcl.Attributes) {
	if a := attrs["addresses"]; a != nil {
		addrs, ok := l.stringList(a)
		if ok && len(addrs) == 0 {
			l.errorf(a.Expr.Range(), "Empty argument", "The argument \"addresses\" must list at least one Nacos server address.")
		}
		for _, r := range addrs {
			if _, err := ParseAddress(r.s); err != nil {
				l.errorf(r.rng, "Invalid address", "A Nacos server address must be host:port: %s.", err)
			}
		}
	}
	if a := attrs["polaris_address"]; a != nil {
		if s := stringAttr(p, "polaris_address"); s != "" {
			if _, err := ParseAddress(s); err != nil {
				l.errorf(a.Expr.Range(), "Invalid address", "The Polaris address must be host:port: %s.", err)
			}
		}
	}
}

func checkNginx(l *loader, p *Provider, attrs hcl.Attributes) {
	if a := attrs["upstreams_file"]; a != nil && stringAttr(p, "upstreams_file") == "" {
		l.errorf(a.Expr.Range(), "Empty argument", "The argument \"upstreams_file\" must be set to a non-empty string.")
	}
	for _, name := range []string{"test", "reload"} {
		a := attrs[name]
		if a == nil {
			continue
		}
		if v := p.Attrs[name]; v.IsKnown() && !v.IsNull() && v.LengthInt() == 0 {
			l.errorf(a.Expr.Range(), "Empty argument", "The argument %q must be a command with at least a program name.", name)
		}
	}
}

func checkHAProxy(l *loader, p *Provider, attrs hcl.Attributes) {
	a := attrs["runtime_api"]
	if a == nil {
		return
	}
	s := stringAttr(p, "runtime_api")
	if rest, ok := strings.CutPrefix(s, "unix://"); ok && strings.HasPrefix(rest, "/") && len(rest) > 1 {
		return
	}
	if rest, ok := strings.CutPrefix(s, "tcp://"); ok {
		if _, err := ParseAddress(rest); err == nil {
			return
		}
	}
	l.errorf(a.Expr.Range(), "Invalid runtime_api",
		"The HAProxy runtime API must be \"unix:///path/to/socket\" or \"tcp://host:port\", not %q.", s)
}

func checkF5(l *loader, p *Provider, attrs hcl.Attributes) {
	if a := attrs["url"]; a != nil {
		checkURL(l, a, stringAttr(p, "url"))
	}
}

func checkAliyun(l *loader, p *Provider, attrs hcl.Attributes) {
	if a := attrs["region"]; a != nil && stringAttr(p, "region") == "" {
		l.errorf(a.Expr.Range(), "Empty argument", "The argument \"region\" must be set to a region ID such as \"cn-shanghai\".")
	}
	if a := attrs["endpoint"]; a != nil {
		if s := stringAttr(p, "endpoint"); s != "" {
			checkURL(l, a, s)
		}
	}
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
