package lang

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is nonstop's version; a configuration's required_version is checked against it.
const Version = "0.1.0"

// semver is a parsed version: up to three numeric segments. Segments is how many
// were written, which matters to the pessimistic operator ~>.
type semver struct {
	parts    [3]int
	segments int
}

func parseSemver(s string) (semver, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i] // pre-release and build metadata are ignored
	}
	fields := strings.Split(s, ".")
	if s == "" || len(fields) > 3 {
		return semver{}, fmt.Errorf("%q is not a version like 1.2.3", s)
	}
	var v semver
	for i, f := range fields {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || f == "" || strings.HasPrefix(f, "+") {
			return semver{}, fmt.Errorf("%q is not a version like 1.2.3", s)
		}
		v.parts[i] = n
	}
	v.segments = len(fields)
	return v, nil
}

func (v semver) compare(o semver) int {
	for i := range v.parts {
		switch {
		case v.parts[i] < o.parts[i]:
			return -1
		case v.parts[i] > o.parts[i]:
			return 1
		}
	}
	return 0
}

// versionConstraint is one comparison, like ">= 0.1.0".
type versionConstraint struct {
	op string
	v  semver
}

// constraintOps lists the operators longest first so that ">=" wins over ">".
var constraintOps = []string{">=", "<=", "!=", "~>", "=", ">", "<"}

// parseVersionConstraints parses a comma-separated list such as ">= 0.1.0, < 1.0".
func parseVersionConstraints(s string) ([]versionConstraint, error) {
	var out []versionConstraint
	for _, raw := range strings.Split(s, ",") {
		c := strings.TrimSpace(raw)
		if c == "" {
			return nil, fmt.Errorf("%q has an empty constraint; separate constraints like \">= 0.1.0, < 1.0.0\"", s)
		}
		op := "="
		for _, o := range constraintOps {
			if strings.HasPrefix(c, o) {
				op = o
				c = strings.TrimSpace(c[len(o):])
				break
			}
		}
		v, err := parseSemver(c)
		if err != nil {
			return nil, err
		}
		out = append(out, versionConstraint{op: op, v: v})
	}
	return out, nil
}

// allows reports whether v satisfies c.
func (c versionConstraint) allows(v semver) bool {
	cmp := v.compare(c.v)
	switch c.op {
	case "=":
		return cmp == 0
	case "!=":
		return cmp != 0
	case ">":
		return cmp > 0
	case ">=":
		return cmp >= 0
	case "<":
		return cmp < 0
	case "<=":
		return cmp <= 0
	case "~>":
		if cmp < 0 {
			return false
		}
		// The last written segment may grow; the ones before it are fixed.
		fixed := c.v.segments - 1
		if fixed < 1 {
			fixed = 1
		}
		for i := 0; i < fixed; i++ {
			if v.parts[i] != c.v.parts[i] {
				return false
			}
		}
		return true
	}
	return false
}

// checkRequiredVersion reports an error when the constraint string is malformed
// or does not allow version.
func checkRequiredVersion(constraint, version string) (malformed bool, err error) {
	cs, err := parseVersionConstraints(constraint)
	if err != nil {
		return true, err
	}
	v, err := parseSemver(version)
	if err != nil {
		return true, err
	}
	for _, c := range cs {
		if !c.allows(v) {
			return false, fmt.Errorf("this configuration requires nonstop %s, but this is nonstop %s", constraint, version)
		}
	}
	return false, nil
}
