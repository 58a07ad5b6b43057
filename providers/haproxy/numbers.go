package haproxy

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
	"github.com/nonstop-release/nonstop/providers/numrange"
)

// Numeric routes: "requests whose id is at least 5,000,000 go to 2.0.0".
//
// A route with a numeric comparison on query parameter, header or cookie NAME of
// pool P is one entry of the routes_number_map file, which haproxy.cfg reads with
// map_reg. The key is a regular expression over the string "P/SOURCE/NAME=VALUE"
// that the frontend builds for each compared name; numrange generates it, so it
// accepts decimal digits only (leading zeros allowed, any length) and the values
// in the range:
//
//	^web/query/id=0*([5-9][0-9]{6}|[1-9][0-9]{7,})$   web__new-ids|2.0.0|query|id|5000000|
//
// The value is the route backend and version, as in the other maps (the frontend
// keeps field(1,|)), then the comparison (source, name, gte, lt; lt empty: no
// upper bound), from which Routes reads the route back, checking that the key is
// still the pattern it implies. Entries are added, replaced and deleted through the
// runtime API (add/set/del map), like the header and client-IP entries: no reload.
//
// What haproxy.cfg must contain, for pool web with a route on query parameter id
// (one set-var pair per compared name; header NAME reads req.fhdr(NAME), cookie
// NAME reads req.cook(NAME)), before the use_backend lines it should win over:
//
//	frontend www
//	    http-request set-var(txn.ns_q_id) urlp(id)
//	    http-request set-var(txn.ns_num) str(web/query/id=),concat(,txn.ns_q_id,)
//	    use_backend %[var(txn.ns_num),map_reg(/etc/haproxy/nonstop-numbers.map),field(1,|)] if { var(txn.ns_num),map_reg(/etc/haproxy/nonstop-numbers.map) -m found }
//	    default_backend web
//
// plus, as for every route, a backend web__ROUTE with the pool's servers. With
// several compared names, give each its own txn variable and use_backend line.
//
// HAProxy's maps express one condition per route: a route with a comparison has
// no other (no client_ip, header value or second comparison), and two routes of a
// pool must not compare overlapping ranges of one name (map_reg answers with one
// entry, and which one is HAProxy's choice). `nonstop validate` reports both.
// urlp matches the parameter's name case-sensitively (nginx does not) and takes
// the first of several; values are not URL-decoded ("%35" is no number).

// numberEntry returns the map, key and value of a route with a comparison.
func (h *HAProxy) numberEntry(r providers.Route) (file, key, value string, err error) {
	if err := numberProblem(r.Match); err != nil {
		return "", "", "", fmt.Errorf("route %q %v", r.Name, err)
	}
	if h.maps.number == "" {
		return "", "", "", fmt.Errorf("route %q compares a number but routes_number_map is not set", r.Name)
	}
	if h.maps.number == h.maps.header || h.maps.number == h.maps.ip {
		return "", "", "", fmt.Errorf("routes_number_map %s is also another route map; it must be a file of its own (haproxy.cfg reads it with map_reg)", h.maps.number)
	}
	n := r.Match.Numbers[0]
	if err := numrange.Check(n.GTE, n.LT); err != nil {
		return "", "", "", fmt.Errorf("route %q: %s %q: %v", r.Name, n.Source, n.Name, err)
	}
	return h.maps.number, numberKey(r.Pool, n), numberValue(routeBackend(r.Pool, r.Name), r.Version, n), nil
}

// numberProblem reports a match with a comparison that a map entry cannot hold,
// completing "route NAME ...".
func numberProblem(m providers.RouteMatch) error {
	conds := len(m.Header) + len(m.Numbers)
	if len(m.ClientIP) > 0 {
		conds++
	}
	if conds > 1 {
		return fmt.Errorf("has %d conditions, one a numeric comparison; HAProxy maps express one condition per route", conds)
	}
	n := m.Numbers[0]
	switch n.Source {
	case providers.SourceQuery, providers.SourceHeader, providers.SourceCookie:
	default:
		return fmt.Errorf("compares %q of unknown source %q", n.Name, n.Source)
	}
	if !namePattern.MatchString(n.Name) {
		return fmt.Errorf("compares %s %q: a name is letters, digits, \".\", \"-\" and \"_\"", n.Source, n.Name)
	}
	return nil
}

// numberPrefix is the string the frontend puts before the value: "POOL/SOURCE/NAME=",
// a header name in canonical form.
func numberPrefix(pool string, n providers.NumberMatch) string {
	name := n.Name
	if n.Source == providers.SourceHeader {
		name = http.CanonicalHeaderKey(name)
	}
	return pool + "/" + n.Source + "/" + name + "="
}

// numberKey is the map_reg key of a comparison in pool.
func numberKey(pool string, n providers.NumberMatch) string {
	return numrange.Pattern(numrange.Literal(numberPrefix(pool, n)), n.GTE, n.LT)
}

// numberValue is the map value: backend|version|source|name|gte|lt.
func numberValue(backend, version string, n providers.NumberMatch) string {
	lt := ""
	if n.LT != 0 {
		lt = strconv.FormatInt(n.LT, 10)
	}
	return strings.Join([]string{backend, version, n.Source, n.Name, strconv.FormatInt(n.GTE, 10), lt}, "|")
}

// parseNumberEntry reads a comparison back from an entry of pool's route and
// checks that its key is still the pattern the comparison implies.
func parseNumberEntry(pool string, e mapEntry) (providers.NumberMatch, error) {
	f := strings.Split(e.value, "|")
	if len(f) != 6 {
		return providers.NumberMatch{}, fmt.Errorf("entry %q → %q is not BACKEND|VERSION|SOURCE|NAME|GTE|LT", e.key, e.value)
	}
	n := providers.NumberMatch{Source: f[2], Name: f[3]}
	var err error
	if n.GTE, err = strconv.ParseInt(f[4], 10, 64); err == nil && f[5] != "" {
		n.LT, err = strconv.ParseInt(f[5], 10, 64)
	}
	if err == nil {
		err = numrange.Check(n.GTE, n.LT)
	}
	if err == nil {
		err = numberProblem(providers.RouteMatch{Numbers: []providers.NumberMatch{n}})
	}
	if err != nil {
		return n, fmt.Errorf("entry %q → %q: %v", e.key, e.value, err)
	}
	if want := numberKey(pool, n); e.key != want {
		return n, fmt.Errorf("entry %q → %q: the key is not the pattern its value implies, %q (edited by hand? fix it or let nonstop rewrite the route)", e.key, e.value, want)
	}
	return n, nil
}

// overlapping refuses a comparison whose range meets another route's on the same
// pool, source and name: map_reg would pick one of them.
func overlapping(r providers.Route, entries []mapEntry) error {
	n := r.Match.Numbers[0]
	backend := routeBackend(r.Pool, r.Name)
	for _, e := range entries {
		if strings.HasPrefix(e.value, backend+"|") {
			continue
		}
		other, err := parseNumberEntry(r.Pool, e)
		if err != nil || numberPrefix(r.Pool, other) != numberPrefix(r.Pool, n) {
			continue // another pool's, or not readable: the key cannot meet ours
		}
		if rangesMeet(n, other) {
			owner, _, _ := strings.Cut(e.value, "|")
			return fmt.Errorf("route %q: %s %s overlaps %s, which routes to %s; map_reg would pick one of them", r.Name, n.Source, n, other, owner)
		}
	}
	return nil
}

// rangesMeet reports whether two comparisons have a number in common.
func rangesMeet(a, b providers.NumberMatch) bool {
	below := func(x, lt int64) bool { return lt == 0 || x < lt } // x is under the upper bound lt
	return below(a.GTE, b.LT) && below(b.GTE, a.LT)
}

// The kind's route check: lang reports, at validate time and naming the
// provider, a comparison HAProxy's maps cannot express.
func init() {
	lang.RegisterRouteCheck(Kind, func(c *lang.RouteCheckContext) {
		r := c.Route
		if len(r.Match.Numbers) == 0 {
			return
		}
		first := r.Match.Numbers[0].DeclRange
		if err := numberProblem(providers.MatchOf(r.Match)); err != nil {
			c.Errorf(first, "Route not supported by HAProxy", "it %s. Split it into routes of one condition each.", err)
			return
		}
		if !c.Set("routes_number_map") {
			c.Errorf(first, "Route not supported by HAProxy",
				"it compares a number, which HAProxy reads from the routes_number_map file; set routes_number_map in provider %q %q and read it in haproxy.cfg (see the haproxy provider's documentation).",
				c.Provider.Ref.Kind, c.Provider.Ref.Name)
		}
		for _, other := range c.Service.Routes {
			if other == r {
				break // each pair is reported once, at the later route
			}
			if len(other.Match.Numbers) != 1 || len(other.Match.ClientIP)+len(other.Match.Header) > 0 {
				continue
			}
			a, b := providers.NumberOf(r.Match.Numbers[0]), providers.NumberOf(other.Match.Numbers[0])
			if numberPrefix("", a) == numberPrefix("", b) && rangesMeet(a, b) {
				c.Errorf(first, "Route not supported by HAProxy",
					"its %s %s overlaps %s of route %q (%s); HAProxy's map_reg picks one entry, so give the routes ranges that do not overlap.",
					a.Source, a, b, other.Name, other.DeclRange)
			}
		}
	})
}
