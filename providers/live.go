package providers

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"net/textproto"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
)

// The reader interfaces are what the planner holds: they list the live model and
// change nothing. The write interfaces (Registry, Balancer, RouteStore) embed them.

// RegistryReader lists a service registry's instances.
type RegistryReader interface {
	Provider
	// Instances lists every instance of the service, disabled ones included, with one
	// list call.
	Instances(ctx context.Context, svc ServiceKey) ([]Instance, error)
}

// BalancerReader lists a load balancer's pools.
type BalancerReader interface {
	Provider
	// Pool lists a pool's members with one list call.
	Pool(ctx context.Context, pool string) ([]Member, error)
}

// RouteReader lists the routes materialised on a balancer or gateway.
type RouteReader interface {
	Provider
	// Routes lists the routes nonstop manages in a pool.
	Routes(ctx context.Context, pool string) ([]Route, error)
}

// ConfigReader reads configuration documents (a Nacos data id).
type ConfigReader interface {
	Provider
	// GetConfig returns a document's content and the MD5 hex of it; found is false
	// when it does not exist.
	GetConfig(ctx context.Context, key ConfigKey) (content, md5 string, found bool, err error)
}

// AtomicConfigWriter is implemented by config stores that say whether their
// server honours a compare-and-swap update of an existing document atomically
// (Nacos 2.x does; Polaris refuses every such update). A store that says no is
// written by read, check and plain publish, which leaves a race window.
type AtomicConfigWriter interface {
	AtomicConfigUpdates() bool
}

// ErrConflict is returned by a compare-and-swap write whose expected value is stale.
var ErrConflict = errors.New("conflict: the stored value changed")

// Instance is a registry instance as the registry reports it.
type Instance struct {
	Service  string            `json:"service"`
	Group    string            `json:"group"`
	Cluster  string            `json:"cluster"`
	Address  string            `json:"address"` // host:port
	Enabled  bool              `json:"enabled"`
	Weight   float64           `json:"weight"`
	Healthy  bool              `json:"healthy"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// Version is metadata "version"; VersionKnown is false when the registry did not
	// reveal it (Polaris hides metadata of isolated instances). Never guessed.
	Version      string `json:"version,omitempty"`
	VersionKnown bool   `json:"version_known"`
}

// MemberState is a balancer member's administrative state.
type MemberState string

const (
	StateReady MemberState = "ready"
	StateDrain MemberState = "drain"
	StateMaint MemberState = "maint"
	StateDown  MemberState = "down"
)

// Member is a balancer pool member.
type Member struct {
	Pool    string      `json:"pool"`
	Address string      `json:"address"` // host:port
	Weight  int         `json:"weight"`
	State   MemberState `json:"state"`
	// Sessions is the number of in-flight sessions; nil where the LB cannot say.
	Sessions *int `json:"sessions"`
	// Health is the balancer's own verdict on the member from its active health
	// checks (HAProxy's check, F5's monitor, SLB/ALB health checks): whether it
	// would route to the member were it in traffic. HealthUnknown where the
	// balancer has no active checks (nginx OSS). Observed, never written.
	Health MemberHealth `json:"health,omitempty"`
	// HealthDetail is the balancer's own words for the health ("DOWN 1/2 L7STS",
	// "offline", "abnormal"), for error messages.
	HealthDetail string `json:"health_detail,omitempty"`
}

// MemberHealth is a balancer's own view of a member's health.
type MemberHealth string

const (
	// HealthUnknown: the balancer does not check members (nginx OSS routes to a
	// member as soon as the reload that added it completes).
	HealthUnknown MemberHealth = ""
	// HealthUp: the balancer's checks pass; it routes to the member when its weight
	// and state let it.
	HealthUp MemberHealth = "up"
	// HealthDown: the balancer's checks fail (or have not passed yet since the
	// member came back); it does not route to the member whatever nonstop writes.
	HealthDown MemberHealth = "down"
)

// Confirmed reports whether the balancer's own checks let it route to the member:
// health up, or a balancer without checks.
func (m Member) Confirmed() bool { return m.Health != HealthDown }

// Serving reports whether the balancer routes new requests to the member as the
// balancer itself sees it: weight above zero, state ready and health confirmed.
func (m Member) Serving() bool {
	return m.Weight > 0 && (m.State == StateReady || m.State == "") && m.Confirmed()
}

// RouteMatch matches requests by client IP (CIDRs), header values and/or numeric
// comparisons; all given must hold.
type RouteMatch struct {
	ClientIP []string          `json:"client_ip,omitempty"`
	Header   map[string]string `json:"header,omitempty"`
	// Numbers are numeric comparisons on a query parameter, header or cookie,
	// sorted by source and name (SortNumbers).
	Numbers []NumberMatch `json:"numbers,omitempty"`
}

// Sources a NumberMatch reads its value from.
const (
	SourceQuery  = "query"  // a query string parameter
	SourceHeader = "header" // a request header
	SourceCookie = "cookie" // a cookie
)

// NumberMatch holds when the request's query parameter, header or cookie Name is a
// whole number in [GTE, LT): one or more decimal digits, leading zeros allowed,
// of any length (a sign, a fraction, spaces, an empty or missing value never
// match). LT 0 means no upper bound; GTE 0 no lower one. Bounds are at most
// numrange.MaxBound (LT one more).
type NumberMatch struct {
	Source string `json:"source"`
	Name   string `json:"name"`
	GTE    int64  `json:"gte,omitempty"`
	LT     int64  `json:"lt,omitempty"`
}

// String prints the comparison with its name: "id>=5000000", "uid<100",
// "5000000<=id<6000000".
func (n NumberMatch) String() string {
	name := n.Name
	if n.Source == SourceHeader {
		name = textproto.CanonicalMIMEHeaderKey(name)
	}
	switch {
	case n.LT == 0:
		return name + ">=" + strconv.FormatInt(n.GTE, 10)
	case n.GTE == 0:
		return name + "<" + strconv.FormatInt(n.LT, 10)
	}
	return strconv.FormatInt(n.GTE, 10) + "<=" + name + "<" + strconv.FormatInt(n.LT, 10)
}

// key orders and identifies comparisons: source, then name (headers canonical).
func (n NumberMatch) key() string {
	if n.Source == SourceHeader {
		return n.Source + "\x00" + textproto.CanonicalMIMEHeaderKey(n.Name)
	}
	return n.Source + "\x00" + n.Name
}

// SortNumbers sorts comparisons by source and name, in place, and returns them.
func SortNumbers(ns []NumberMatch) []NumberMatch {
	sort.SliceStable(ns, func(i, j int) bool { return ns[i].key() < ns[j].key() })
	return ns
}

// String prints the match canonically (CIDRs sorted, header names canonical,
// comparisons after the values of their source): `client_ip=[10.8.0.0/16]
// header={X-Canary=1} query={id>=5000000}`, or "any". Plans, drift and the views
// print matches in this form.
func (m RouteMatch) String() string {
	var parts []string
	if len(m.ClientIP) > 0 {
		ips := slices.Sorted(slices.Values(m.ClientIP))
		parts = append(parts, "client_ip=["+strings.Join(ips, ",")+"]")
	}
	bySource := map[string][]string{}
	for k, v := range m.Header {
		bySource[SourceHeader] = append(bySource[SourceHeader], textproto.CanonicalMIMEHeaderKey(k)+"="+v)
	}
	slices.Sort(bySource[SourceHeader])
	for _, n := range SortNumbers(slices.Clone(m.Numbers)) {
		bySource[n.Source] = append(bySource[n.Source], n.String())
	}
	for _, src := range []string{SourceHeader, SourceQuery, SourceCookie} {
		if len(bySource[src]) > 0 {
			parts = append(parts, src+"={"+strings.Join(bySource[src], ",")+"}")
		}
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, " ")
}

// Equal reports whether two matches are written alike: the same client IPs and
// comparisons in any order, the same header values, names spelt alike (String
// compares header names canonically).
func (m RouteMatch) Equal(o RouteMatch) bool {
	if !maps.Equal(m.Header, o.Header) || len(m.ClientIP) != len(o.ClientIP) || len(m.Numbers) != len(o.Numbers) {
		return false
	}
	if !slices.Equal(slices.Sorted(slices.Values(m.ClientIP)), slices.Sorted(slices.Values(o.ClientIP))) {
		return false
	}
	a, b := SortNumbers(slices.Clone(m.Numbers)), SortNumbers(slices.Clone(o.Numbers))
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// MatchOf returns a configured route match as providers receive it.
func MatchOf(m lang.RouteMatch) RouteMatch {
	out := RouteMatch{ClientIP: slices.Clone(m.ClientIP)}
	if m.Header != nil {
		out.Header = maps.Clone(m.Header)
	}
	for _, n := range m.Numbers {
		out.Numbers = append(out.Numbers, NumberOf(n))
	}
	SortNumbers(out.Numbers)
	return out
}

// NumberOf returns a configured comparison as providers receive it.
func NumberOf(n lang.NumberMatch) NumberMatch {
	return NumberMatch{Source: n.Source, Name: n.Name, GTE: n.GTE, LT: n.LT}
}

// Clone returns a deep copy of the match.
func (m RouteMatch) Clone() RouteMatch {
	c := RouteMatch{ClientIP: slices.Clone(m.ClientIP), Numbers: slices.Clone(m.Numbers)}
	if m.Header != nil {
		c.Header = maps.Clone(m.Header)
	}
	return c
}

// ValidClientIP reports whether s is a client_ip a route can match: a CIDR
// ("10.8.0.0/16") or a single address ("10.8.0.7").
func ValidClientIP(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// Route sends matching requests in a pool to the members serving one version.
type Route struct {
	Pool    string     `json:"pool"`
	Name    string     `json:"name"`
	Match   RouteMatch `json:"match"`
	Version string     `json:"version"`
	// Members are the addresses that serve Version, as materialised.
	Members []string `json:"members"`
}
