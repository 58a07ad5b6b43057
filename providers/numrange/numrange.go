// Package numrange writes regular expressions that match the decimal integers in a
// range, for balancers that can compare a request value only by pattern (an nginx
// map) or whose patterns can be changed at run time (an HAProxy map_reg file).
//
// A value matches when it is one or more decimal digits, leading zeros allowed,
// whose number is in [gte, lt): "5000000", "05000000" and a number of any length
// above the bound match ≥ 5000000; "", "-5", "+5", "5.0", "5e6", " 5" and "0x10"
// never match. The patterns use only what POSIX extended regular expressions and
// PCRE share (no \d, no non-capturing groups, no backslash at all), so HAProxy
// built with or without PCRE and nginx read them alike.
package numrange

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxBound is the largest bound a range may have (lt may be MaxBound+1): 18
// digits, so lt stays within int64 and every balancer's integers.
const MaxBound = 999_999_999_999_999_999

// Check reports a range that is empty or out of bounds. lt 0 means no upper bound.
func Check(gte, lt int64) error {
	switch {
	case gte < 0 || gte > MaxBound:
		return fmt.Errorf("lower bound %d is outside 0..%d", gte, int64(MaxBound))
	case lt < 0 || lt > MaxBound+1:
		return fmt.Errorf("upper bound %d is outside 1..%d", lt, int64(MaxBound)+1)
	case lt != 0 && lt <= gte:
		return fmt.Errorf("no whole number is at least %d and below %d", gte, lt)
	}
	return nil
}

// Pattern returns an anchored pattern for prefix followed by a number in [gte, lt)
// (lt 0: no upper bound). prefix is written as is: escape it with Literal. It
// panics on a range Check refuses.
func Pattern(prefix string, gte, lt int64) string {
	return "^" + prefix + "0*" + Alternation(gte, lt) + "$"
}

// Alternation returns a group matching the canonical decimal forms (no leading
// zeros; "0" for zero) of the numbers in [gte, lt); lt 0 means no upper bound.
// Pattern puts "0*" before it for leading zeros.
func Alternation(gte, lt int64) string {
	if err := Check(gte, lt); err != nil {
		panic("numrange: " + err.Error())
	}
	lo := strconv.FormatInt(gte, 10)
	var alts []string
	if lt == 0 {
		alts = sameLength(lo, nines(len(lo)))
		alts = append(alts, "[1-9][0-9]{"+strconv.Itoa(len(lo))+",}")
	} else {
		hi := strconv.FormatInt(lt-1, 10)
		for n := len(lo); n <= len(hi); n++ {
			a, b := "1"+zeros(n-1), nines(n)
			if n == len(lo) {
				a = lo
			}
			if n == len(hi) {
				b = hi
			}
			alts = append(alts, sameLength(a, b)...)
		}
	}
	return "(" + strings.Join(alts, "|") + ")"
}

// sameLength returns alternatives matching the digit strings from a to b, which
// have the same length and a <= b.
func sameLength(a, b string) []string {
	n := len(a)
	switch {
	case a == b:
		return []string{a}
	case n == 1:
		return []string{digits(a[0], b[0])}
	case a[1:] == zeros(n-1) && b[1:] == nines(n-1):
		return []string{digits(a[0], b[0]) + anyDigits(n-1)}
	case a[0] == b[0]:
		return []string{prefixed(a[:1], sameLength(a[1:], b[1:]))}
	}
	var out, upper []string
	first, last := a[0], b[0]
	if a[1:] != zeros(n-1) {
		out = append(out, prefixed(a[:1], sameLength(a[1:], nines(n-1))))
		first++
	}
	if b[1:] != nines(n-1) {
		upper = append(upper, prefixed(b[:1], sameLength(zeros(n-1), b[1:])))
		last--
	}
	if first <= last {
		out = append(out, digits(first, last)+anyDigits(n-1))
	}
	return append(out, upper...)
}

// prefixed puts p before the alternatives, grouped when there are several.
func prefixed(p string, alts []string) string {
	if len(alts) == 1 {
		return p + alts[0]
	}
	return p + "(" + strings.Join(alts, "|") + ")"
}

// digits is one digit from lo to hi.
func digits(lo, hi byte) string {
	if lo == hi {
		return string(lo)
	}
	if lo == '0' && hi == '9' {
		return "[0-9]"
	}
	return "[" + string(lo) + "-" + string(hi) + "]"
}

// anyDigits is exactly n digits.
func anyDigits(n int) string {
	if n == 1 {
		return "[0-9]"
	}
	return "[0-9]{" + strconv.Itoa(n) + "}"
}

func zeros(n int) string { return strings.Repeat("0", n) }
func nines(n int) string { return strings.Repeat("9", n) }

// Literal escapes s for use in a pattern: letters, digits and "_-/=:@,%" stand for
// themselves, any other character goes in a bracket (or is backslash-escaped
// where a bracket cannot hold it), so that "a.b" matches only "a.b".
func Literal(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_-/=:@,%", r):
			b.WriteRune(r)
		case r == '^' || r == '\\' || r == ']':
			b.WriteRune('\\')
			b.WriteRune(r)
		default:
			b.WriteRune('[')
			b.WriteRune(r)
			b.WriteRune(']')
		}
	}
	return b.String()
}

// Matches reports whether v is a number in [gte, lt) as the patterns read it:
// digits only, leading zeros allowed, any length. It is the reference the
// patterns are tested against.
func Matches(v string, gte, lt int64) bool {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return false
	}
	v = strings.TrimLeft(v, "0")
	if v == "" {
		v = "0"
	}
	if len(v) > 19 {
		return lt == 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return lt == 0
	}
	return n >= uint64(gte) && (lt == 0 || n < uint64(lt))
}
