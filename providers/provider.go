package providers

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
)

// Factory is everything nonstop knows about one provider kind. A provider package
// declares it in one place (its kind.go) and registers it from its init, so that a
// new kind is one folder plus one blank import in cmd/nonstop/command/kinds.go.
type Factory struct {
	// Kind is the first label of the provider block: "nacos", "nginx", ...
	Kind string
	// Schema is the provider block as the language sees it: the slot it fits
	// (registry or balancer), its attributes with their defaults and sensitivity,
	// and the checks of their values. New reads its defaults from it too
	// (Schema.WithDefaults), so that each default is written once. A Factory
	// without a Class (a test fake handed to the executor without a
	// configuration) adds no block to the language.
	Schema lang.ProviderSchema
	// New configures a provider from its block's evaluated attributes. dir is the
	// configuration directory, against which relative paths are resolved.
	New func(cfg Settings) (Provider, error)
	// Caps are what the planner must know about the kind's balancers.
	Caps Capabilities
}

// Capabilities describe how a balancer kind behaves, so that the planner asks the
// kind instead of switching on kind names.
type Capabilities struct {
	// DrainsByState: members leave traffic by a state change (HAProxy's "drain",
	// F5's Disabled) rather than weight 0, and Pool reports in-flight sessions,
	// which wait.drain watches.
	DrainsByState bool
	// HoldsRoutes: the kind can materialise routes (RouteStore).
	HoldsRoutes bool
	// ConfirmsServing: the balancer runs its own active health checks and reports
	// their verdict in Member.Health. A restarted member counts as serving only once
	// the balancer says so (the plan's wait.serving steps).
	ConfirmsServing bool
	// DrainSettle is how long after a write that takes a member out of traffic
	// the balancer may still send it new requests (nginx: `nginx -s reload`
	// returns once the signal is sent; the master switches workers shortly after).
	// Nothing is deployed to the member before it has passed.
	DrainSettle time.Duration
	// GroupsWrites: writes the provider receives at once are applied together,
	// one after the other group (nginx: one file write, test and reload for every
	// write that arrived during the previous one). The system behind it sees one
	// write at a time however many are sent, so the executor does not bound them
	// (-parallelism), and the more arrive together the fewer reloads.
	GroupsWrites bool
}

// CapabilitiesOf returns the capabilities a kind registered; an unknown kind has none.
func CapabilitiesOf(kind string) Capabilities {
	f, _ := Lookup(kind)
	return f.Caps
}

// Settings is what a Factory receives.
type Settings struct {
	Name   string
	Attrs  map[string]cty.Value
	Dir    string
	Logger hclog.Logger
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Factory{}
)

// Register makes a provider kind available: its factory and capabilities here, its
// schema to the language (lang.RegisterProviderKind). Call it from the provider
// package's init. It panics on a duplicate kind or a schema the language refuses,
// which are programming errors.
func Register(f Factory) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[f.Kind]; dup {
		panic(fmt.Sprintf("providers: kind %q registered twice", f.Kind))
	}
	if f.Schema.Class != "" {
		lang.RegisterProviderKind(f.Kind, f.Schema)
	}
	kinds[f.Kind] = f
}

// Lookup returns the factory of a kind.
func Lookup(kind string) (Factory, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	f, ok := kinds[kind]
	return f, ok
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Provider is what every provider is.
type Provider interface {
	// Kind returns the provider's kind ("nacos").
	Kind() string
	// Name returns the provider's name ("prod").
	Name() string
}

// Closer is implemented by providers that hold connections.
type Closer interface {
	Close() error
}

// ServiceKey identifies a service in a registry.
type ServiceKey struct {
	Service string
	Group   string // Nacos group name
	Cluster string // "" means every cluster
}

// InstanceKey identifies one registered instance.
type InstanceKey struct {
	ServiceKey
	Address string // host:port
}

// Registry is a service registry (Nacos) that nonstop changes. Only the executor
// holds one; the planner reads through RegistryReader.
type Registry interface {
	RegistryReader
	// SetInstanceEnabled enables or disables an instance, preserving its metadata.
	SetInstanceEnabled(ctx context.Context, inst InstanceKey, enabled bool) error
	// SetInstanceWeight sets an instance's weight, preserving its metadata.
	SetInstanceWeight(ctx context.Context, inst InstanceKey, weight float64) error
}

// Balancer is a load balancer whose pools hold members by address, which nonstop
// changes. Only the executor holds one; the planner reads through BalancerReader.
type Balancer interface {
	BalancerReader
	// SetMemberWeight sets a member's weight.
	SetMemberWeight(ctx context.Context, pool, address string, weight int) error
	// SetMemberState sets a member's state.
	SetMemberState(ctx context.Context, pool, address string, state MemberState) error
}

// SessionCloser is implemented by balancers that can close the sessions still
// open on a member out of traffic (HAProxy's `shutdown sessions server`), so that
// long-lived clients (websockets) reconnect to serving members. It returns how
// many sessions were open just before.
type SessionCloser interface {
	Balancer
	CloseSessions(ctx context.Context, pool, address string) (int, error)
}

// Batcher is implemented by balancers whose writes are expensive to apply one at a
// time (nginx rewrites a file and reloads): Batch runs fn with writes collected and
// applies them once at the end.
type Batcher interface {
	Batch(ctx context.Context, fn func() error) error
}

// RouteStore materialises routes on a balancer or gateway. Only the executor holds
// one; the planner reads through RouteReader.
type RouteStore interface {
	RouteReader
	// PutRoute creates or replaces a route.
	PutRoute(ctx context.Context, route Route) error
	// DeleteRoute removes a route by name.
	DeleteRoute(ctx context.Context, pool, name string) error
}

// ConfigKey identifies a configuration document (Nacos data id).
type ConfigKey struct {
	DataID string
	Group  string
}

// ConfigStore holds configuration documents with compare-and-swap. Only the
// executor holds one; the planner reads through ConfigReader.
type ConfigStore interface {
	ConfigReader
	// PublishConfig writes a document. With casMD5 != "" the write succeeds only if the
	// current content's MD5 matches (ErrConflict otherwise).
	PublishConfig(ctx context.Context, key ConfigKey, content, casMD5 string) error
	// DeleteConfig removes a document.
	DeleteConfig(ctx context.Context, key ConfigKey) error
}
