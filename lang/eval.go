package lang

import (
	"math/big"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// rangedString is a string value with the source range it came from, so that a
// problem with one list element can point at that element.
type rangedString struct {
	s   string
	rng hcl.Range
}

// eval checks expr's references for sc and evaluates it in ctx. It returns false
// (after reporting) when the value cannot be used; unknown values, which only
// arise after an error reported elsewhere, also return false.
func (l *loader) eval(expr hcl.Expression, sc scope, ctx *hcl.EvalContext) (cty.Value, bool) {
	if !l.checkRefs(expr, sc) {
		return cty.DynamicVal, false
	}
	v, d := expr.Value(ctx)
	l.diags = l.diags.Append(d)
	if d.HasErrors() || !v.IsWhollyKnown() {
		return cty.DynamicVal, false
	}
	return v, true
}

// value evaluates attr in the configuration scope and converts it to ty. An absent
// attribute or a null value gives a null of ty and true.
func (l *loader) value(attr *hcl.Attribute, ty cty.Type) (cty.Value, bool) {
	if attr == nil {
		return cty.NullVal(ty), true
	}
	v, ok := l.eval(attr.Expr, scopeConfig, l.ctx)
	if !ok {
		return cty.DynamicVal, false
	}
	return l.convert(attr.Name, attr.Expr.Range(), v, ty)
}

// convert converts v to ty, reporting a type error about rng.
func (l *loader) convert(name string, rng hcl.Range, v cty.Value, ty cty.Type) (cty.Value, bool) {
	c, err := convert.Convert(v, ty)
	if err != nil {
		l.errorf(rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", name, err)
		return cty.DynamicVal, false
	}
	return c, true
}

// str returns attr as a string, def when absent or null.
func (l *loader) str(attr *hcl.Attribute, def string) (string, bool) {
	v, ok := l.value(attr, cty.String)
	if !ok {
		return def, false
	}
	if v.IsNull() {
		return def, true
	}
	return v.AsString(), true
}

// reqStr returns attr as a string that must be neither null nor empty. Absence is
// reported by the schema, so a nil attr only returns false.
func (l *loader) reqStr(attr *hcl.Attribute) (string, bool) {
	if attr == nil {
		return "", false
	}
	v, ok := l.value(attr, cty.String)
	if !ok {
		return "", false
	}
	if v.IsNull() || v.AsString() == "" {
		l.errorf(attr.Expr.Range(), "Empty argument", "The argument %q must be set to a non-empty string.", attr.Name)
		return "", false
	}
	return v.AsString(), true
}

// integer returns attr as a whole number, def when absent or null.
func (l *loader) integer(attr *hcl.Attribute, def int) (int, bool) {
	v, ok := l.value(attr, cty.Number)
	if !ok {
		return def, false
	}
	if v.IsNull() {
		return def, true
	}
	return l.wholeNumber(attr.Name, attr.Expr.Range(), v)
}

// wholeNumber converts a known, non-null number to int, reporting fractions and
// values too large to be useful.
func (l *loader) wholeNumber(name string, rng hcl.Range, v cty.Value) (int, bool) {
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if acc != big.Exact || !bf.IsInt() || i < -1<<31 || i > 1<<31-1 {
		l.errorf(rng, "Incorrect attribute value type", "Inappropriate value for attribute %q: a whole number is required, not %s.", name, bf.Text('g', 10))
		return 0, false
	}
	return int(i), true
}

// number returns attr as a float, def when absent or null.
func (l *loader) number(attr *hcl.Attribute, def float64) (float64, bool) {
	v, ok := l.value(attr, cty.Number)
	if !ok {
		return def, false
	}
	if v.IsNull() {
		return def, true
	}
	f, _ := v.AsBigFloat().Float64()
	return f, true
}

// boolean returns attr as a bool, def when absent or null.
func (l *loader) boolean(attr *hcl.Attribute, def bool) (bool, bool) {
	v, ok := l.value(attr, cty.Bool)
	if !ok {
		return def, false
	}
	if v.IsNull() {
		return def, true
	}
	return v.True(), true
}

// duration returns attr as a duration within b, def when absent or null.
func (l *loader) duration(attr *hcl.Attribute, def time.Duration, b durationBounds) (time.Duration, bool) {
	v, ok := l.value(attr, cty.String)
	if !ok {
		return def, false
	}
	if v.IsNull() {
		return def, true
	}
	return l.checkDuration(attr.Name, attr.Expr.Range(), v.AsString(), b)
}

// checkDuration parses s and checks it against b, reporting about rng.
func (l *loader) checkDuration(name string, rng hcl.Range, s string, b durationBounds) (time.Duration, bool) {
	d, err := ParseDuration(s)
	if err != nil {
		l.errorf(rng, "Invalid duration", "The argument %q must be a duration: %s.", name, err)
		return 0, false
	}
	if err := b.check(d); err != nil {
		l.errorf(rng, "Duration out of range", "The argument %q is out of range: %s.", name, err)
		return 0, false
	}
	return d, true
}

// stringList returns attr as a list of strings, each with the range of its element
// when the expression is a literal list. Null elements are reported.
func (l *loader) stringList(attr *hcl.Attribute) ([]rangedString, bool) {
	if attr == nil {
		return nil, true
	}
	if tuple, isTuple := attr.Expr.(*hclsyntax.TupleConsExpr); isTuple {
		out := make([]rangedString, 0, len(tuple.Exprs))
		ok := true
		for _, e := range tuple.Exprs {
			v, good := l.eval(e, scopeConfig, l.ctx)
			if good {
				v, good = l.convert(attr.Name, e.Range(), v, cty.String)
			}
			if good && v.IsNull() {
				l.errorf(e.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: list elements must not be null.", attr.Name)
				good = false
			}
			if !good {
				ok = false
				continue
			}
			out = append(out, rangedString{s: v.AsString(), rng: e.Range()})
		}
		return out, ok
	}
	v, ok := l.value(attr, cty.List(cty.String))
	if !ok || v.IsNull() {
		return nil, ok
	}
	out := make([]rangedString, 0, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			l.errorf(attr.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: list elements must not be null.", attr.Name)
			return nil, false
		}
		out = append(out, rangedString{s: e.AsString(), rng: attr.Expr.Range()})
	}
	return out, true
}

// stringMap returns attr as a map of strings; nil when absent or null.
func (l *loader) stringMap(attr *hcl.Attribute) (map[string]string, bool) {
	v, ok := l.value(attr, cty.Map(cty.String))
	if !ok || v.IsNull() {
		return nil, ok
	}
	out := make(map[string]string, v.LengthInt())
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			l.errorf(attr.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: map values must not be null.", attr.Name)
			return nil, false
		}
		out[k.AsString()] = e.AsString()
	}
	return out, true
}

// plain strips the ranges.
func plain(rs []rangedString) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.s
	}
	return out
}
