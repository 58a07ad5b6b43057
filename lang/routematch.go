package lang

import (
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers/numrange"
)

// A route's match block compares numbers as well as it matches values:
//
//	match {
//	  client_ip = ["10.8.0.0/16"]
//	  header    = { "X-Canary" = "1", "X-Tenant-Id" = { gte = 100, lt = 200 } }
//	  query     = { id = { gte = 5000000 } }
//	  cookie    = { uid = { lt = 1000 } }
//	}
//
// A header's value is a string (equality, as before) or a comparison; query
// parameters and cookies take comparisons only. A comparison has a lower bound
// (gte or gt) and/or an upper one (lt or lte), whole numbers from 0 to
// numrange.MaxBound. It holds when the request's value is decimal digits (leading
// zeros allowed, any length) whose number is in the range.

// Sources a NumberMatch reads from: a match attribute each.
const (
	SourceQuery  = "query"
	SourceHeader = "header"
	SourceCookie = "cookie"
)

// NumberMatch is one numeric comparison of a route's match, normalised to a
// half-open range: the value must be a whole number n with GTE <= n < LT (LT 0:
// no upper bound). gt = N is written GTE N+1, lte = N is written LT N+1.
type NumberMatch struct {
	Source string // "query", "header" or "cookie"
	Name   string
	GTE    int64
	LT     int64
	// DeclRange is the comparison's value ({ gte = ... }), where errors point.
	DeclRange hcl.Range
}

// String prints the comparison as plans do: "query id>=5000000".
func (n NumberMatch) String() string {
	switch {
	case n.LT == 0:
		return fmt.Sprintf("%s %s>=%d", n.Source, n.Name, n.GTE)
	case n.GTE == 0:
		return fmt.Sprintf("%s %s<%d", n.Source, n.Name, n.LT)
	}
	return fmt.Sprintf("%s %d<=%s<%d", n.Source, n.GTE, n.Name, n.LT)
}

// sourceNames say what each source compares, for messages.
var sourceNames = map[string]string{SourceQuery: "query parameter", SourceHeader: "header", SourceCookie: "cookie"}

// matchNamePattern is what a compared query parameter, header or cookie may be called.
var matchNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// comparisonKeys are the keys of a comparison object.
var comparisonKeys = []string{"gte", "gt", "lt", "lte"}

// objItem is one key of an object or map value, with where it was written.
type objItem struct {
	key    string
	keyRng hcl.Range
	expr   hcl.Expression // the value's expression when the object is written literally, else nil
	val    cty.Value
	rng    hcl.Range // the value's range (the whole expression's when not literal)
}

// objectItems evaluates expr as an object or map, item by item when it is written
// literally so that each problem points at its own key or value. isObject is false
// (nothing reported) when the value is neither; ok is false when it reported.
func (l *loader) objectItems(attrName string, expr hcl.Expression) (items []objItem, isObject, ok bool) {
	oc, literal := expr.(*hclsyntax.ObjectConsExpr)
	if !literal {
		v, good := l.eval(expr, scopeConfig, l.ctx)
		if !good {
			return nil, true, false
		}
		items, isObject = valueItems(v, expr.Range())
		return items, isObject, true
	}
	ok = true
	seen := map[string]hcl.Range{}
	for _, it := range oc.Items {
		k, goodKey := l.eval(it.KeyExpr, scopeConfig, l.ctx)
		if goodKey {
			k, goodKey = l.convert(attrName, it.KeyExpr.Range(), k, cty.String)
		}
		if goodKey && k.IsNull() {
			l.errorf(it.KeyExpr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: a key must not be null.", attrName)
			goodKey = false
		}
		v, goodVal := l.eval(it.ValueExpr, scopeConfig, l.ctx)
		if !goodKey || !goodVal {
			ok = false
			continue
		}
		key := k.AsString()
		if prev, dup := seen[key]; dup {
			l.errorf(it.KeyExpr.Range(), "Duplicate key", "The key %q of %q was already given at %s.", key, attrName, prev)
			ok = false
			continue
		}
		seen[key] = it.KeyExpr.Range()
		items = append(items, objItem{key: key, keyRng: it.KeyExpr.Range(), expr: it.ValueExpr, val: v, rng: it.ValueExpr.Range()})
	}
	return items, true, ok
}

// valueItems lists an evaluated object or map by key; isObject is false for other
// values. A null value has no items.
func valueItems(v cty.Value, rng hcl.Range) (items []objItem, isObject bool) {
	if v.IsNull() {
		return nil, true
	}
	ty := v.Type()
	if !ty.IsObjectType() && !ty.IsMapType() {
		return nil, false
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		items = append(items, objItem{key: k.AsString(), keyRng: rng, val: e, rng: rng})
	}
	return items, true
}

// isComparison reports whether an item's value is a comparison object rather than
// a plain value.
func (it objItem) isComparison() bool {
	if it.val.IsNull() {
		return false
	}
	ty := it.val.Type()
	return ty.IsObjectType() || ty.IsMapType()
}

// decodeHeaderMatch decodes the header attribute: a map from header names to a
// value (equality) or a comparison. It returns false when it reported a problem.
func (l *loader) decodeHeaderMatch(a *hcl.Attribute, m *RouteMatch) bool {
	items, isObject, ok := l.objectItems(a.Name, a.Expr)
	if !isObject {
		_, _ = l.value(a, cty.Map(cty.String)) // reports the type error, as before comparisons existed
		return false
	}
	for _, it := range items {
		if it.key == "" {
			l.errorf(it.keyRng, "Invalid route match", "A header name must not be empty.")
			ok = false
			continue
		}
		if it.isComparison() {
			n, good := l.decodeComparison(SourceHeader, it)
			if good {
				m.Numbers = append(m.Numbers, n)
			}
			ok = ok && good
			continue
		}
		s, good := l.convert(a.Name, it.rng, it.val, cty.String)
		if good && s.IsNull() {
			l.errorf(it.rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: map values must not be null.", a.Name)
			good = false
		}
		if !good {
			ok = false
			continue
		}
		if m.Header == nil {
			m.Header = map[string]string{}
		}
		m.Header[it.key] = s.AsString()
	}
	for i, n := range m.Numbers {
		for _, prev := range m.Numbers[:i] {
			if strings.EqualFold(prev.Name, n.Name) {
				l.errorf(n.DeclRange, "Duplicate key",
					"The header %q is compared twice (also as %q); header names are not case-sensitive, so give one comparison with both bounds.", n.Name, prev.Name)
				ok = false
			}
		}
		for h := range m.Header {
			if strings.EqualFold(h, n.Name) {
				l.errorf(n.DeclRange, "Conflicting header match",
					"The header %q is both compared as a number and matched as the value %q; give one of them.", n.Name, m.Header[h])
				ok = false
			}
		}
	}
	return ok
}

// decodeNumberMatches decodes the query or cookie attribute: a map from names to
// comparisons. It returns false when it reported a problem.
func (l *loader) decodeNumberMatches(source string, a *hcl.Attribute, m *RouteMatch) bool {
	what := sourceNames[source]
	items, isObject, ok := l.objectItems(a.Name, a.Expr)
	if !isObject {
		l.errorf(a.Expr.Range(), "Incorrect attribute value type",
			"Inappropriate value for attribute %q: a map from %s names to comparisons is required, like %s = { id = { gte = 5000000 } }.", a.Name, what, a.Name)
		return false
	}
	for _, it := range items {
		if !it.isComparison() {
			l.errorf(it.rng, "Invalid route match",
				"A %s is matched by a numeric comparison, like %s = { gte = 5000000 }, not by a value.", what, quoteKey(it.key))
			ok = false
			continue
		}
		n, good := l.decodeComparison(source, it)
		if good {
			m.Numbers = append(m.Numbers, n)
		}
		ok = ok && good
	}
	return ok
}

// quoteKey writes a key as HCL would need it: bare when an identifier.
func quoteKey(k string) string {
	if hclsyntax.ValidIdentifier(k) {
		return k
	}
	return fmt.Sprintf("%q", k)
}

// decodeComparison decodes { gte = N, lt = M }-style comparisons of one name.
func (l *loader) decodeComparison(source string, it objItem) (NumberMatch, bool) {
	n := NumberMatch{Source: source, Name: it.key, DeclRange: it.rng}
	what := sourceNames[source]
	ok := true
	if !matchNamePattern.MatchString(it.key) {
		l.errorf(it.keyRng, "Invalid route match",
			"The %s name %q cannot be compared: a compared name is letters, digits, \".\", \"-\" and \"_\".", what, it.key)
		ok = false
	}
	var parts []objItem
	if it.expr != nil {
		var good bool
		parts, _, good = l.objectItems(source, it.expr)
		ok = ok && good
	} else {
		parts, _ = valueItems(it.val, it.rng)
	}
	var lowerKey, upperKey string
	for _, p := range parts {
		if !slices.Contains(comparisonKeys, p.key) {
			l.errorf(p.keyRng, "Unsupported comparison",
				"A comparison takes gte, gt, lt and lte, not %q.%s", p.key, didYouMean(p.key, comparisonKeys))
			ok = false
			continue
		}
		v, good := l.bound(what, p)
		if !good {
			ok = false
			continue
		}
		lower := p.key == "gte" || p.key == "gt"
		if prev := map[bool]string{true: lowerKey, false: upperKey}[lower]; prev != "" {
			l.errorf(p.keyRng, "Conflicting comparison",
				"%s and %s both give the %s bound of %s %q; give one of them.", prev, p.key, map[bool]string{true: "lower", false: "upper"}[lower], what, it.key)
			ok = false
			continue
		}
		switch p.key {
		case "gte":
			n.GTE, lowerKey = v, p.key
		case "gt":
			n.GTE, lowerKey = v+1, p.key
		case "lt":
			n.LT, upperKey = v, p.key
		case "lte":
			n.LT, upperKey = v+1, p.key
		}
	}
	if !ok {
		return n, false
	}
	if lowerKey == "" && upperKey == "" {
		l.errorf(it.rng, "Empty comparison",
			"A comparison of %s %q needs gte, gt, lt or lte, like { gte = 5000000 }.", what, it.key)
		return n, false
	}
	if (upperKey != "" && n.LT <= n.GTE) || n.GTE > numrange.MaxBound {
		l.errorf(it.rng, "Empty comparison",
			"No whole number satisfies the comparison of %s %q (%s); the route would match no request.", what, it.key, comparisonText(lowerKey, upperKey, n))
		return n, false
	}
	return n, true
}

// comparisonText writes a comparison back as the user gave it.
func comparisonText(lowerKey, upperKey string, n NumberMatch) string {
	var parts []string
	switch lowerKey {
	case "gte":
		parts = append(parts, fmt.Sprintf("gte = %d", n.GTE))
	case "gt":
		parts = append(parts, fmt.Sprintf("gt = %d", n.GTE-1))
	}
	switch upperKey {
	case "lt":
		parts = append(parts, fmt.Sprintf("lt = %d", n.LT))
	case "lte":
		parts = append(parts, fmt.Sprintf("lte = %d", n.LT-1))
	}
	return strings.Join(parts, ", ")
}

// bound reads one bound: a whole number from 0 to numrange.MaxBound.
func (l *loader) bound(what string, p objItem) (int64, bool) {
	v, ok := l.convert(p.key, p.rng, p.val, cty.Number)
	if !ok {
		return 0, false
	}
	if v.IsNull() {
		l.errorf(p.rng, "Invalid comparison", "The bound %q must be a whole number, not null.", p.key)
		return 0, false
	}
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact || !bf.IsInt() || i < 0 || i > numrange.MaxBound {
		l.errorf(p.rng, "Invalid comparison",
			"The bound %q must be a whole number from 0 to %d, not %s: a %s is compared as decimal digits.", p.key, int64(numrange.MaxBound), bf.Text('g', 20), what)
		return 0, false
	}
	return i, true
}

// sortNumbers orders a match's comparisons by source and name.
func sortNumbers(ns []NumberMatch) {
	slices.SortStableFunc(ns, func(a, b NumberMatch) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}
