package planner

import (
	"encoding/json"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// FormatVersion is the version of the plan's JSON shape.
const FormatVersion = "1.0"

// Plan is the ordered set of operations that moves live state to the configuration.
// It is plain data: nothing in it holds a connection or a func.
type Plan struct {
	FormatVersion string   `json:"format_version"`
	Changes       []Change `json:"changes"`
	Steps         []Step   `json:"steps"`
	Prior         Prior    `json:"prior"`
	Summary       Summary  `json:"summary"`
}

// Action is what a change does to an object.
type Action string

const (
	NoOp   Action = "no-op"
	Update Action = "update"
	Create Action = "create"
	Delete Action = "delete"
)

// Symbol returns the one-character marker used in human output: " ", "~", "+", "-".
func (a Action) Symbol() string {
	switch a {
	case Update:
		return "~"
	case Create:
		return "+"
	case Delete:
		return "-"
	}
	return " "
}

// Change is one object's field-level difference, the diff a reviewer reads.
type Change struct {
	Action  Action `json:"action"`
	Service string `json:"service"`
	// Object is the kind of object: "instance", "member", "route".
	Object string `json:"object"`
	// Address names the object: "a/127.0.0.1:18081", "nginx.edge/order_backend/127.0.0.1:18081",
	// "route beta-testers".
	Address string `json:"address"`
	Field   string `json:"field"`
	Before  any    `json:"before"`
	After   any    `json:"after"`
}

// StepKind names an operation.
type StepKind string

const (
	BalancerSetWeight  StepKind = "balancer.set_weight"
	BalancerSetState   StepKind = "balancer.set_state"
	RegistrySetEnabled StepKind = "registry.set_enabled"
	RegistrySetWeight  StepKind = "registry.set_weight"
	WaitPropagation    StepKind = "wait.propagation"
	WaitDrain          StepKind = "wait.drain"
	Deploy             StepKind = "deploy"
	WaitHealthy        StepKind = "wait.healthy"
	Verify             StepKind = "verify"
	RouteSet           StepKind = "route.set"
	RouteDelete        StepKind = "route.delete"
	GateAnalysis       StepKind = "gate.analysis"
	Pause              StepKind = "pause"
	// BalancerSwitch sets the weights of several members of one pool in one write
	// (Args.Weights); a weight above zero also puts the member in state ready. Blue-green
	// uses it to swap traffic between groups, canary to move traffic in steps.
	BalancerSwitch StepKind = "balancer.switch"
	// WaitServing waits until every balancer in Args.Members reports the member
	// healthy by its own checks (HAProxy UP, F5 available, SLB/ALB healthy), bounded
	// by Args.Duration: a restarted member counts as serving only once the balancer
	// that routes to it says so.
	WaitServing StepKind = "wait.serving"
	// GatewayPublish writes a gateway routes document (Args.Gateway) to a
	// configuration center, refusing when it changed since the plan read it.
	GatewayPublish StepKind = "gateway.publish"
)

// Step is one operation. A step runs once every step in After has completed.
type Step struct {
	ID      string   `json:"id"`
	Kind    StepKind `json:"kind"`
	Service string   `json:"service"`
	// Target names what the step acts on: "order-service/a/127.0.0.1:18081",
	// "nginx.edge/order_backend/127.0.0.1:18081".
	Target string   `json:"target"`
	Args   StepArgs `json:"args"`
	After  []string `json:"after"`
}

// StepArgs holds the arguments of a step; only the fields of its kind are set.
type StepArgs struct {
	// Provider is the provider the step writes to, "nginx.edge".
	Provider string `json:"provider,omitempty"`
	Pool     string `json:"pool,omitempty"`
	Address  string `json:"address,omitempty"`
	Group    string `json:"group,omitempty"`

	// Registry identity of the instance (registry.* steps).
	RegistryGroup   string `json:"registry_group,omitempty"`
	RegistryCluster string `json:"registry_cluster,omitempty"`

	Weight         *int                  `json:"weight,omitempty"`
	State          providers.MemberState `json:"state,omitempty"`
	Enabled        *bool                 `json:"enabled,omitempty"`
	RegistryWeight *float64              `json:"registry_weight,omitempty"`

	// Version is the version deployed, checked or routed to; FromVersion the one replaced.
	Version     string `json:"version,omitempty"`
	FromVersion string `json:"from_version,omitempty"`

	// Duration is the wait of wait.* and pause steps; for wait.drain, the bound
	// of its wait for the Members' sessions.
	Duration Duration `json:"duration,omitempty"`
	// InFlight is the least a wait.drain holds (drain.in_flight): the time the
	// instance's in-flight requests are given on the paths that cannot count
	// them (registry consumers, balancers that report no sessions).
	InFlight Duration `json:"in_flight,omitempty"`
	// UntilResumed marks a pause that holds until `nonstop resume`.
	UntilResumed bool `json:"until_resumed,omitempty"`

	Route    *providers.Route `json:"route,omitempty"`
	Analysis []string         `json:"analysis,omitempty"`
	// Members are the members a wait.drain or wait.serving watches ("provider/pool/address").
	Members []string `json:"members,omitempty"`
	// Close lists the members of Members in long-lived pools: when the drain's
	// bound passes with sessions still open on one, they are closed.
	Close []string `json:"close,omitempty"`
	// Weights are the member weights of a balancer.switch, by address.
	Weights map[string]int `json:"weights,omitempty"`
	// Gateway is the document a gateway.publish writes.
	Gateway *GatewayArgs `json:"gateway,omitempty"`
}

// Duration is a time.Duration that marshals as a Go duration string ("30s").
type Duration time.Duration

// Hold is how long the plan counts a wait or pause step as holding: its
// Duration, and a wait.drain at least its InFlight.
func (a StepArgs) Hold() time.Duration {
	return max(time.Duration(a.Duration), time.Duration(a.InFlight))
}

// MarshalText renders the duration as "30s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses "30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Prior records what the plan was computed from, so a stale plan can be refused.
type Prior struct {
	// Objects maps each live object the plan read to a hash of its state:
	// "order-service/instance/127.0.0.1:18081" -> "sha256:...".
	Objects map[string]string `json:"objects"`
	// Values holds, under the keys of Objects, the live values the plan depends on
	// (RecordPrior fills it): "order-service/member/http/127.0.0.1:18081" ->
	// {"state": "ready", "weight": "1"}. A plan file checks them by value (Stale);
	// without them it can only tell that an object's hash changed.
	Values     map[string]ObjectValues `json:"values,omitempty"`
	ConfigHash string                  `json:"config_hash"`
	Commit     string                  `json:"commit,omitempty"`
	// Tree is the git tree hash of the configuration directory at Commit. A plan
	// file applies at another commit only when the directory's content is the
	// same there (the merge commit of the reviewed pull request).
	Tree string `json:"tree,omitempty"`
	// Variables are the input variables the plan was made with, as resolved from
	// defaults, NONSTOP_VAR_, -var-file and -var: a variable's type and value, or
	// for a sensitive one only a salted hash (SealInputs fills them).
	Variables map[string]SealedVariable `json:"variables,omitempty"`
	// Endpoints are the non-sensitive settings of every provider and of the state
	// backend the plan was made against, by "KIND.NAME" ("state" for the backend)
	// and attribute, as JSON: "nacos.prod" -> {"addresses": "[\"10.0.0.1:8848\"]"}.
	Endpoints map[string]map[string]string `json:"endpoints,omitempty"`
}

// SealedVariable is one input variable as a plan records it. A sensitive
// variable has only Hash (a salted, slow hash: the value cannot be read back),
// the others Type and Value (cty JSON).
type SealedVariable struct {
	Type      json.RawMessage `json:"type,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Sensitive bool            `json:"sensitive,omitempty"`
	// Hash is "pbkdf2-sha256$ITERATIONS$SALT$HASH" (salt and hash in base64) of
	// the value's cty JSON, for a sensitive variable.
	Hash string `json:"hash,omitempty"`
}

// Summary counts the plan's changes.
type Summary struct {
	Upgrades      int `json:"upgrades"`
	WeightChanges int `json:"weight_changes"`
	RouteChanges  int `json:"route_changes"`
	OtherChanges  int `json:"other_changes"`
	// EstimatedWall is the plan's expected wall time: simulated under Estimate's
	// bounds and assumptions when Estimate is set, else the sum of waits on the
	// critical path.
	EstimatedWall Duration `json:"estimated_wall"`
	// Estimate says what EstimatedWall assumed; nil when the plan was made
	// without bounds (Options.Bounds).
	Estimate *EstimateBasis `json:"estimate,omitempty"`
}

// HasChanges reports whether applying the plan would change anything: it has steps
// or a change that is not a no-op. A nil plan has none.
func (p *Plan) HasChanges() bool {
	if p == nil {
		return false
	}
	if len(p.Steps) > 0 {
		return true
	}
	for _, c := range p.Changes {
		if c.Action != NoOp && c.Action != "" {
			return true
		}
	}
	return false
}
