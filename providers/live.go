package providers

import (
	"context"
	"errors"
	"net/netip"
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

// RouteMatch matches requests by client IP (CIDRs) and/or headers.
type RouteMatch struct {
	ClientIP []string          `json:"client_ip,omitempty"`
	Header   map[string]string `json:"header,omitempty"`
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
