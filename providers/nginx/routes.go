package nginx

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

// Names in the file. A pool P with a route R gives:
//
//	upstream P            the pool's members
//	upstream P__R         the route's members (mirroring their pool weight and down flag)
//	$nonstop_P__R__ip     geo: 1 when the client address is in one of the route's CIDRs
//	$nonstop_P__R__hN     map: 1 when the route's N-th header has its value
//	$nonstop_P__R__nN     map: 1 when the route's N-th numeric comparison holds
//	                      (a generated regular expression on $arg_, $http_ or $cookie_)
//	$nonstop_P__R         map: 1 when all of the route's conditions are 1
//	$nonstop_P            map: the upstream to proxy to; routes are tried by name
//
// In variable names every character other than [A-Za-z0-9_] becomes "_".

var (
	namePattern   = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	headerPattern = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	nonVarChar    = regexp.MustCompile(`[^A-Za-z0-9_]`)
)

func varPart(s string) string            { return nonVarChar.ReplaceAllString(s, "_") }
func poolVar(pool string) string         { return "nonstop_" + varPart(pool) }
func routeVar(pool, route string) string { return poolVar(pool) + "__" + varPart(route) }
func routeUpstream(pool, route string) string {
	return pool + "__" + route
}
func headerVar(pool, route string, i int) string {
	return routeVar(pool, route) + "__h" + strconv.Itoa(i)
}

func numberVar(pool, route string, i int) string {
	return routeVar(pool, route) + "__n" + strconv.Itoa(i)
}

// headerSource is the nginx variable holding a request header.
func headerSource(name string) string {
	return "$http_" + strings.ToLower(strings.ReplaceAll(name, "-", "_"))
}

// routeMeta is what the `# nonstop:route` comment above a route's upstream records:
// the names and the version nginx has no place for.
type routeMeta struct {
	Pool    string `json:"pool"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

const routeMetaPrefix = "nonstop:route "

// routeMetaOf finds the route comment among a directive's leading comments.
func routeMetaOf(comments []string) (routeMeta, bool, error) {
	for _, c := range comments {
		if rest, ok := strings.CutPrefix(c, routeMetaPrefix); ok {
			var m routeMeta
			if err := json.Unmarshal([]byte(rest), &m); err != nil {
				return m, true, fmt.Errorf("invalid route comment %q: %v", c, err)
			}
			return m, true, nil
		}
	}
	return routeMeta{}, false, nil
}

// validateName checks a pool or route name: it becomes part of an upstream name
// that proxy_pass reads as a host.
func validateName(what, name string) error {
	if !namePattern.MatchString(name) || strings.Contains(name, "__") {
		return fmt.Errorf("invalid %s name %q: use letters, digits, \".\", \"-\" and single \"_\"", what, name)
	}
	return nil
}

// validateRoute checks that nginx can express r.
func validateRoute(r providers.Route) error {
	if err := validateName("route", r.Name); err != nil {
		return err
	}
	if len(r.Match.ClientIP) == 0 && len(r.Match.Header) == 0 && len(r.Match.Numbers) == 0 {
		return fmt.Errorf("route %q matches nothing: give client_ip, header, query or cookie", r.Name)
	}
	for _, c := range r.Match.ClientIP {
		if !providers.ValidClientIP(c) {
			return fmt.Errorf("route %q: invalid client_ip %q", r.Name, c)
		}
	}
	for h, v := range r.Match.Header {
		if !headerPattern.MatchString(h) {
			return fmt.Errorf("route %q: header name %q must be letters, digits and \"-\"", r.Name, h)
		}
		if v == "" {
			return fmt.Errorf("route %q: header %q needs a non-empty value", r.Name, h)
		}
	}
	for _, n := range r.Match.Numbers {
		if err := checkNumber(n); err != nil {
			return fmt.Errorf("route %q: %v", r.Name, err)
		}
	}
	if len(r.Members) == 0 {
		return fmt.Errorf("route %q has no members", r.Name)
	}
	for _, m := range r.Members {
		if err := validAddress(m); err != nil {
			return fmt.Errorf("route %q: %v", r.Name, err)
		}
	}
	return nil
}

// headerNames returns a route's header names, sorted: the order of its hN maps.
func headerNames(r providers.Route) []string {
	out := make([]string, 0, len(r.Match.Header))
	for h := range r.Match.Header {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// exactValue is the map key that matches exactly v, case-sensitively (nginx
// compares plain map strings without regard to case).
func exactValue(v string) string { return "~^" + regexp.QuoteMeta(v) + "$" }

// parseExactValue reverses exactValue; a plain key is taken as written.
func parseExactValue(key string) (string, error) {
	if !strings.HasPrefix(key, "~") {
		return key, nil
	}
	if !strings.HasPrefix(key, "~^") || !strings.HasSuffix(key, "$") {
		return "", fmt.Errorf("header pattern %q is not an exact value", key)
	}
	inner := key[2 : len(key)-1]
	var b strings.Builder
	for i := 0; i < len(inner); i++ {
		if inner[i] == '\\' && i+1 < len(inner) {
			i++
		} else if strings.ContainsRune(`.+*?()|[]{}^$`, rune(inner[i])) {
			return "", fmt.Errorf("header pattern %q is not an exact value", key)
		}
		b.WriteByte(inner[i])
	}
	return b.String(), nil
}

// headerNameFrom recovers a header's name from its $http_ variable, preferring the
// spelling in the hint comment when it agrees with the variable.
func headerNameFrom(src string, comments []string) (string, error) {
	suffix, ok := strings.CutPrefix(src, "$http_")
	if !ok {
		return "", fmt.Errorf("route header map reads %q, not a $http_ variable", src)
	}
	for _, c := range comments {
		if hint, ok := strings.CutPrefix(c, "nonstop: header="); ok && headerSource(hint) == src {
			return hint, nil
		}
	}
	return http.CanonicalHeaderKey(strings.ReplaceAll(suffix, "_", "-")), nil
}

func cloneRoute(r providers.Route) providers.Route {
	c := r
	c.Match = r.Match.Clone()
	providers.SortNumbers(c.Match.Numbers)
	c.Members = slices.Clone(r.Members)
	return c
}
