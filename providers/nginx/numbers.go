package nginx

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
	"github.com/nonstop-release/nonstop/providers/numrange"
)

// Numeric route matches. A comparison of query parameter, header or cookie NAME is
// a map of the variable nginx keeps it in ($arg_NAME, $http_NAME, $cookie_NAME) to
// 1 when the value matches a generated regular expression for the range
// (numrange.Pattern: digits only, leading zeros allowed, any length), with a
// `# nonstop:number` comment recording the comparison. Reading the file back takes
// the comparison from the comment and checks that the map still holds exactly the
// pattern it implies, so a hand edit of the pattern is an error, never a silent
// different match.
//
//	# nonstop:number {"source":"query","name":"id","gte":5000000}
//	map $arg_id $nonstop_web__new_ids__n0 {
//	    default 0;
//	    "~^0*([5-9][0-9]{6}|[1-9][0-9]{7,})$" 1;
//	}
//
// nginx finds query parameters and cookies by name without regard to case, and
// takes the first of several; the value is not URL-decoded ("%35" is no number).

const numberMetaPrefix = "nonstop:number "

// varNamePattern is what may follow $arg_ or $cookie_ in an nginx variable.
var varNamePattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// checkNumber reports a comparison nginx cannot express.
func checkNumber(n providers.NumberMatch) error {
	switch n.Source {
	case providers.SourceQuery, providers.SourceCookie:
		if !varNamePattern.MatchString(n.Name) {
			return fmt.Errorf("%s name %q must be letters, digits and \"_\": nginx reads it from the variable $%s_%s",
				map[string]string{providers.SourceQuery: "query parameter", providers.SourceCookie: "cookie"}[n.Source], n.Name, map[string]string{providers.SourceQuery: "arg", providers.SourceCookie: "cookie"}[n.Source], n.Name)
		}
	case providers.SourceHeader:
		if !headerPattern.MatchString(n.Name) {
			return fmt.Errorf("header name %q must be letters, digits and \"-\": nginx reads it from $http_%s", n.Name, strings.ToLower(varPart(n.Name)))
		}
	default:
		return fmt.Errorf("unknown source %q of a numeric match", n.Source)
	}
	return numrange.Check(n.GTE, n.LT)
}

// numberSource is the nginx variable a comparison reads.
func numberSource(n providers.NumberMatch) string {
	switch n.Source {
	case providers.SourceQuery:
		return "$arg_" + n.Name
	case providers.SourceCookie:
		return "$cookie_" + n.Name
	}
	return headerSource(n.Name)
}

// numberKey is the map key that matches the comparison's values.
func numberKey(n providers.NumberMatch) string { return "~" + numrange.Pattern("", n.GTE, n.LT) }

// renderNumber writes the map of the i-th comparison of route r in pool p.
func renderNumber(b *strings.Builder, pool, route string, i int, n providers.NumberMatch) string {
	meta, _ := json.Marshal(n)
	nv := numberVar(pool, route, i)
	fmt.Fprintf(b, "# %s%s\nmap %s $%s {\n    default 0;\n    %s 1;\n}\n",
		numberMetaPrefix, meta, numberSource(n), nv, quoteArg(numberKey(n)))
	return "$" + nv
}

// parseNumber reads a comparison back from its map.
func parseNumber(m *directive) (providers.NumberMatch, error) {
	var n providers.NumberMatch
	found := false
	for _, c := range m.Leading {
		if rest, ok := strings.CutPrefix(c, numberMetaPrefix); ok {
			if err := json.Unmarshal([]byte(rest), &n); err != nil {
				return n, fmt.Errorf("line %d: invalid number comment %q: %v", m.Line, c, err)
			}
			found = true
		}
	}
	if !found {
		return n, fmt.Errorf("line %d: map $%s has no %q comment", m.Line, strings.TrimPrefix(m.Args[len(m.Args)-1], "$"), strings.TrimSpace(numberMetaPrefix))
	}
	if err := checkNumber(n); err != nil {
		return n, fmt.Errorf("line %d: %v", m.Line, err)
	}
	if len(m.Args) != 2 || m.Args[0] != numberSource(n) {
		return n, fmt.Errorf("line %d: the map reads %q, but its comment compares %s %q (%s)", m.Line, m.Args[0], n.Source, n.Name, numberSource(n))
	}
	var keys []string
	for _, e := range m.Block {
		if e.Name != "default" && len(e.Args) == 1 && e.Args[0] == "1" {
			keys = append(keys, e.Name)
		}
	}
	if len(keys) != 1 || keys[0] != numberKey(n) {
		return n, fmt.Errorf("line %d: the patterns %q of map %s are not the one its comment implies, %q (edited by hand? put the comparison in the comment or rewrite the route)",
			m.Line, keys, m.Args[1], numberKey(n))
	}
	return n, nil
}

// The kind's route check: lang reports, at validate time, a comparison the nginx
// file cannot hold, with its file:line:col.
func init() {
	lang.RegisterRouteCheck(Kind, func(c *lang.RouteCheckContext) {
		for _, n := range c.Route.Match.Numbers {
			if err := checkNumber(providers.NumberOf(n)); err != nil {
				c.Errorf(n.DeclRange, "Comparison not supported by nginx", "%s.", err)
			}
		}
	})
}
