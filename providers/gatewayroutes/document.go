package gatewayroutes

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/textproto"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// Format is the format this package writes and reads.
const Format = "nonstop.gateway-routes/v1"

// Document is a gateway routes document. Its JSON keys are in alphabetical order
// at every level (the struct fields are declared so; encoding/json sorts maps).
type Document struct {
	Format string `json:"format"`
	// Routes send matching requests to one version, sorted by name. A request
	// that several routes match takes the first of them in this order.
	Routes []Route `json:"routes"`
	// Service is the service name as registered.
	Service string `json:"service"`
	// Weights are the share of the requests no route matches, per version, in
	// percent; they add up to 100.
	Weights map[string]int `json:"weights"`
}

// Route is one route of a document.
type Route struct {
	Match   Match  `json:"match"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Match is a route's match: every condition given must hold (as
// providers.RouteMatch, whose vocabulary it keeps).
type Match struct {
	// ClientIP are CIDRs or single addresses, sorted.
	ClientIP []string `json:"client_ip,omitempty"`
	// Header values must equal; names are canonical ("X-Canary").
	Header map[string]string `json:"header,omitempty"`
	// Numbers are numeric comparisons, sorted by source and name.
	Numbers []Number `json:"numbers,omitempty"`
}

// Number holds when the query parameter, header or cookie Name is a whole number n
// with GTE <= n < LT: decimal digits only, leading zeros allowed. A missing gte is
// 0; a missing lt is no upper bound.
type Number struct {
	GTE    int64  `json:"gte,omitempty"`
	LT     int64  `json:"lt,omitempty"`
	Name   string `json:"name"`
	Source string `json:"source"` // "query", "header" or "cookie"
}

// Desired returns the document of a service with the given weights.
func Desired(svc *lang.Service, weights map[string]int) Document {
	d := Document{Format: Format, Service: svc.Name, Routes: []Route{}, Weights: map[string]int{}}
	for _, r := range svc.Routes {
		d.Routes = append(d.Routes, Route{Name: r.Name, Version: r.Version, Match: matchOf(providers.MatchOf(r.Match))})
	}
	for v, w := range weights {
		d.Weights[v] = w
	}
	d.normalize()
	return d
}

// SteadyWeights are the weights of a service at rest: all of it to version.
func SteadyWeights(version string) map[string]int { return map[string]int{version: 100} }

// matchOf converts a provider route match.
func matchOf(m providers.RouteMatch) Match {
	out := Match{ClientIP: slices.Clone(m.ClientIP)}
	if len(m.Header) > 0 {
		out.Header = maps.Clone(m.Header)
	}
	for _, n := range m.Numbers {
		out.Numbers = append(out.Numbers, Number{GTE: n.GTE, LT: n.LT, Name: n.Name, Source: n.Source})
	}
	return out
}

// normalize puts the document in canonical order: routes by name, client IPs
// sorted, header names canonical, comparisons by source and name, no zero weights.
func (d *Document) normalize() {
	if d.Routes == nil {
		d.Routes = []Route{}
	}
	if d.Weights == nil {
		d.Weights = map[string]int{}
	}
	sort.SliceStable(d.Routes, func(i, j int) bool { return d.Routes[i].Name < d.Routes[j].Name })
	for i := range d.Routes {
		m := &d.Routes[i].Match
		slices.Sort(m.ClientIP)
		if len(m.Header) > 0 {
			h := make(map[string]string, len(m.Header))
			for k, v := range m.Header {
				h[textproto.CanonicalMIMEHeaderKey(k)] = v
			}
			m.Header = h
		}
		for j := range m.Numbers {
			if m.Numbers[j].Source == providers.SourceHeader {
				m.Numbers[j].Name = textproto.CanonicalMIMEHeaderKey(m.Numbers[j].Name)
			}
		}
		sort.SliceStable(m.Numbers, func(a, b int) bool {
			x, y := m.Numbers[a], m.Numbers[b]
			return x.Source < y.Source || x.Source == y.Source && x.Name < y.Name
		})
	}
	maps.DeleteFunc(d.Weights, func(_ string, w int) bool { return w == 0 })
}

// Marshal returns the canonical text of the document: JSON indented by two spaces,
// keys sorted, no HTML escaping, no final newline. The same document always
// yields the same bytes.
func (d Document) Marshal() string {
	d.Routes = slices.Clone(d.Routes)
	d.Weights = maps.Clone(d.Weights)
	d.normalize()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		panic("gatewayroutes: " + err.Error()) // strings, ints and maps of them always encode
	}
	// Without the encoder's final newline: Nacos' HTTP API (and Polaris') trims
	// content, so a document that ended in one would never read back as written.
	return strings.TrimSuffix(b.String(), "\n")
}

// Parse reads a document. Anything but a JSON object of this format is an error;
// fields it does not know are ignored.
func Parse(content string) (Document, error) {
	var d Document
	if err := json.Unmarshal([]byte(content), &d); err != nil {
		return Document{}, fmt.Errorf("not a gateway routes document: %v", err)
	}
	if d.Format != Format {
		return Document{}, fmt.Errorf("format %q is not %q", d.Format, Format)
	}
	d.normalize()
	return d, nil
}

// MD5 returns the MD5 hex of content, as Nacos computes it; "" for an absent
// document.
func MD5(content string, found bool) string {
	if !found {
		return ""
	}
	sum := md5.Sum([]byte(content))
	return hex.EncodeToString(sum[:])
}

// Versions returns every version the document sends requests to: its routes'
// versions and the versions with a weight above zero, sorted.
func (d Document) Versions() []string {
	set := map[string]bool{}
	for _, r := range d.Routes {
		set[r.Version] = true
	}
	for v, w := range d.Weights {
		if w > 0 {
			set[v] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// WeightsText prints weights sorted by version: "1.4.2=95 1.5.0=5", "none".
func WeightsText(w map[string]int) string {
	if len(w) == 0 {
		return "none"
	}
	var parts []string
	for _, v := range slices.Sorted(maps.Keys(w)) {
		parts = append(parts, v+"="+strconv.Itoa(w[v]))
	}
	return strings.Join(parts, " ")
}

// String prints the match as plans print route matches:
// `client_ip=[10.8.0.0/16] header={X-Canary=1} query={id>=5000000}`.
func (m Match) String() string {
	pm := providers.RouteMatch{ClientIP: m.ClientIP, Header: m.Header}
	for _, n := range m.Numbers {
		pm.Numbers = append(pm.Numbers, providers.NumberMatch{Source: n.Source, Name: n.Name, GTE: n.GTE, LT: n.LT})
	}
	return pm.String()
}
