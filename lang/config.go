package lang

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Config is a decoded, validated configuration directory: the desired state.
// Everything in it is evaluated except the per-instance expressions of deploy,
// health and verify, which the executor evaluates with EvalInstance.
type Config struct {
	// Dir is the directory the configuration was loaded from.
	Dir string
	// Sources holds every file's bytes by filename, for rendering diagnostics.
	Sources map[string][]byte
	// Hash is a hex SHA-256 over the files' names and contents (sorted by name).
	Hash string
	// Commit is the git commit the files were read from (LoadGitRef); "" when they
	// were read from the work tree.
	Commit string

	Nonstop   *Nonstop
	Variables map[string]*Variable
	// Locals holds each evaluated local value by name.
	Locals map[string]cty.Value
	// Providers are keyed by reference, "nacos.prod".
	Providers map[ProviderRef]*Provider
	// Services are keyed by name; ServiceNames lists them in declaration order.
	Services     map[string]*Service
	ServiceNames []string
}

// Nonstop is the nonstop settings block.
type Nonstop struct {
	RequiredVersion string
	State           *StateBackend
	DeclRange       hcl.Range
}

// StateBackend selects where state is kept: Kind "local" (Path) or "postgres" (DSN).
type StateBackend struct {
	Kind string
	// Attrs holds the backend's evaluated attributes ("path", "dsn", ...).
	Attrs     map[string]cty.Value
	Sensitive map[string]bool
	DeclRange hcl.Range
}

// Variable is a declared input variable and the value it ended up with.
type Variable struct {
	Name        string
	Type        cty.Type
	Default     cty.Value // cty.NilVal when none
	Description string
	Sensitive   bool
	Value       cty.Value
	DeclRange   hcl.Range
}

// ProviderRef names a provider: Kind "nacos", Name "prod"; written nacos.prod.
type ProviderRef struct {
	Kind string
	Name string
}

// String returns "kind.name".
func (r ProviderRef) String() string { return r.Kind + "." + r.Name }

// ProviderClass says which slot a provider kind fits.
type ProviderClass string

const (
	// ClassRegistry providers fit a registry block (nacos).
	ClassRegistry ProviderClass = "registry"
	// ClassBalancer providers fit a balancer block (nginx, haproxy, f5, aliyun_slb, aliyun_alb).
	ClassBalancer ProviderClass = "balancer"
)

// Provider is a configured provider block. Attrs are evaluated; provider packages
// decode them (gocty) into their own settings.
type Provider struct {
	Ref   ProviderRef
	Class ProviderClass
	Attrs map[string]cty.Value
	// Sensitive marks attributes that must never be printed (passwords, keys, tokens).
	Sensitive map[string]bool
	DeclRange hcl.Range
}

// Address is an instance address, host:port.
type Address struct {
	Host string
	Port int
}

// String returns "host:port".
func (a Address) String() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// ParseAddress parses "host:port" with a port in 1..65535.
func ParseAddress(s string) (Address, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return Address{}, fmt.Errorf("%q is not host:port: %v", s, err)
	}
	if host == "" {
		return Address{}, fmt.Errorf("%q has no host", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return Address{}, fmt.Errorf("%q has an invalid port (want 1 to 65535)", s)
	}
	return Address{Host: host, Port: p}, nil
}

// Service is one service block: the desired state of one service.
type Service struct {
	Name    string
	Version string

	Registry  *Registry // nil when the service is not registered anywhere
	Groups    []*Group  // in declaration order
	Balancers []*Balancer

	MinAvailable int
	Strategy     *Strategy
	Drain        Drain
	Deploy       *Deploy
	Health       *Health
	Verify       *Verify
	Analyses     map[string]*Analysis
	Routes       []*Route
	// GatewayRoutes are the configuration documents the routes are published to
	// for gateways that read them (gateway_routes blocks), in declaration order.
	GatewayRoutes []*GatewayRoutes
	DependsOn     []string
	OnFailure     string // "rollback" (default) or "pause"

	DeclRange hcl.Range

	// ctx evaluates the per-instance expressions: var, local and the functions.
	ctx *hcl.EvalContext
}

// Registry is a service's registry block.
type Registry struct {
	Provider  ProviderRef
	Group     string // Nacos group, default "DEFAULT_GROUP"
	Cluster   string // default "DEFAULT"
	DeclRange hcl.Range
}

// Group is an instance group ("a", "b").
type Group struct {
	Name      string
	Instances []Address
	DeclRange hcl.Range
}

// Balancer is an LB pool that fronts the service's instances.
type Balancer struct {
	Name     string
	Provider ProviderRef
	Pool     string
	// Weight is the weight of a serving member; nil means the LB's own default.
	Weight *int
	// LongLived marks a pool whose connections do not end by themselves
	// (websockets): a drain waits for them up to drain.timeout, then closes what
	// remains on the drained member so that clients reconnect to serving ones.
	LongLived bool
	DeclRange hcl.Range
}

// StrategyKind names a release strategy.
type StrategyKind string

const (
	Rolling   StrategyKind = "rolling"
	BlueGreen StrategyKind = "blue_green"
	Canary    StrategyKind = "canary"
)

// Strategy is the one strategy block of a service.
type Strategy struct {
	Kind StrategyKind
	// Batch applies to rolling.
	Batch Batch
	// KeepStandby applies to blue_green.
	KeepStandby bool
	// Steps apply to canary; weights rise and the last is 100.
	Steps     []CanaryStep
	DeclRange hcl.Range
}

// Batch is a rolling batch size: by group, a count, or a percentage of the service's instances.
type Batch struct {
	ByGroup bool
	Count   int
	Percent int
}

// CanaryStep is one canary traffic step.
type CanaryStep struct {
	Weight int
	// Pause is how long to hold at this weight; zero means no pause unless
	// PauseUntilResumed, which holds until `nonstop resume` (pause = "manual").
	Pause             time.Duration
	PauseUntilResumed bool
	Analysis          []string
	DeclRange         hcl.Range
}

// Drain says how long to wait for traffic to leave an instance.
type Drain struct {
	// Propagation overrides the registry provider's propagation; nil means inherit.
	Propagation *time.Duration
	// Timeout bounds the wait for in-flight requests (default 5m).
	Timeout time.Duration
	// InFlight is the least time a drained instance is given for the requests it
	// holds once it has left every path, for the paths that cannot count them:
	// registry consumers and balancers whose kind reports no sessions. Zero means
	// none (the wait.drain then covers only session-counting balancers).
	InFlight time.Duration
}

// Deploy moves an instance to a version. Command and Env are evaluated per instance.
type Deploy struct {
	Command   hcl.Expression // list(string)
	Env       hcl.Expression // map(string), nil when absent
	Timeout   time.Duration  // default 10m
	DeclRange hcl.Range
}

// Health must pass before an instance takes traffic again. HTTP is per instance.
type Health struct {
	HTTP      hcl.Expression // string
	Expect    int            // default 200
	Interval  time.Duration  // default 1s
	Timeout   time.Duration  // default 60s
	DeclRange hcl.Range
}

// Verify is a direct-connection smoke test. HTTP and Contains are per instance.
type Verify struct {
	HTTP      hcl.Expression // string
	Contains  hcl.Expression // string, nil when absent
	Expect    int            // default 200
	Timeout   time.Duration  // default 10s
	DeclRange hcl.Range
}

// Analysis is a gate evaluated during canary steps.
type Analysis struct {
	Name string
	HTTP string
	// MaxValue is the largest value that passes.
	MaxValue  float64
	NoData    string // "fail" (default) | "pass" | "pause"
	DeclRange hcl.Range
}

// Route sends matching requests to instances of one version.
type Route struct {
	Name      string
	Match     RouteMatch
	Version   string
	DeclRange hcl.Range
}

// RouteMatch matches by client IP (CIDRs), request header values and/or numeric
// comparisons on a query parameter, header or cookie; all given must match.
type RouteMatch struct {
	ClientIP []string
	Header   map[string]string
	// Numbers are the comparisons (see NumberMatch), sorted by source and name.
	Numbers   []NumberMatch
	DeclRange hcl.Range
}

// InstanceVars are the per-instance values visible inside deploy, health and verify.
type InstanceVars struct {
	Address Address
	Group   string
	Version string
	Service string
}
