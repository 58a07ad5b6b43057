package f5

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

// requestTimeout bounds one iControl REST request when the caller's context does not.
const requestTimeout = 30 * time.Second

// F5 is a BIG-IP LTM driven through iControl REST.
type F5 struct {
	name      string
	base      *url.URL // scheme://host[:port], no path
	username  string
	password  string
	partition string
	http      *http.Client
	logger    hclog.Logger
	now       func() time.Time

	authMu sync.Mutex
	auth   authState
}

// New configures an F5 provider from its block's attributes: url (required, the
// management address, "https://bigip.example.com"), username and password (required
// in practice: iControl REST serves no anonymous requests), partition and
// insecure_skip_verify (defaults in the schema, kind.go).
func New(s providers.Settings) (providers.Provider, error) {
	f := &F5{name: s.Name, logger: s.Logger, now: time.Now}
	if f.logger == nil {
		f.logger = hclog.NewNullLogger()
	}
	var rawURL string
	var insecure bool
	for k, v := range schema.WithDefaults(s.Attrs) {
		var err error
		switch k {
		case "url":
			rawURL, err = stringAttr(v)
		case "username":
			f.username, err = stringAttr(v)
		case "password":
			f.password, err = stringAttr(v)
		case "partition":
			f.partition, err = stringAttr(v)
			if err == nil && !validName(f.partition) {
				err = fmt.Errorf("%q is not a partition name", f.partition)
			}
		case "insecure_skip_verify":
			insecure, err = boolAttr(v)
		default:
			err = fmt.Errorf("unknown attribute")
		}
		if err != nil {
			return nil, fmt.Errorf("f5.%s: %s: %v", s.Name, k, err)
		}
	}
	var err error
	if f.base, err = parseBaseURL(rawURL); err != nil {
		return nil, fmt.Errorf("f5.%s: url: %v", s.Name, err)
	}
	if f.username == "" {
		return nil, fmt.Errorf("f5.%s: username is required: iControl REST answers no anonymous request", s.Name)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for by insecure_skip_verify
	}
	f.http = &http.Client{Transport: tr, Timeout: requestTimeout}
	return f, nil
}

// parseBaseURL checks the management URL: http or https, a host, no path, query or
// fragment.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%q must start with https:// (or http://)", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q must be the management address only, like https://bigip.example.com", raw)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// Kind returns "f5".
func (f *F5) Kind() string { return Kind }

// Name returns the provider's name.
func (f *F5) Name() string { return f.name }

// String returns "f5.NAME".
func (f *F5) String() string { return "f5." + f.name }

func (f *F5) errorf(format string, args ...any) error {
	return fmt.Errorf("f5.%s: "+format, append([]any{f.name}, args...)...)
}

// Pool lists a pool's members with one list call (GET .../members) and reads, with
// one more (GET .../members/stats), their current server-side connections and the
// monitor's verdict (see memberHealth). A member's weight is its ratio.
func (f *F5) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	ms, err := f.members(ctx, pool)
	if err != nil {
		return nil, err
	}
	pp, _ := f.poolPath(pool)
	var stats memberStats
	if err := f.getJSON(ctx, pp+"/members/stats", &stats); err != nil {
		return nil, f.errorf("pool %q: member stats (connections and monitor status): %v", pool, err)
	}
	byMember := stats.byMember()
	out := make([]providers.Member, 0, len(ms))
	for _, m := range ms {
		pm := providers.Member{Pool: pool, Address: m.hostPort(), Weight: m.Ratio, State: m.memberState()}
		st := byMember[m.FullPath]
		if cur, ok := st["serverside.curConns"]; ok && cur.Value != nil {
			n := int(*cur.Value)
			pm.Sessions = &n
		}
		pm.Health, pm.HealthDetail = memberHealth(st, m)
		out = append(out, pm)
	}
	return out, nil
}

// members lists a pool's members with one GET .../members.
func (f *F5) members(ctx context.Context, pool string) ([]poolMember, error) {
	pp, err := f.poolPath(pool)
	if err != nil {
		return nil, f.errorf("%v", err)
	}
	var list memberList
	if err := f.getJSON(ctx, pp+"/members", &list); err != nil {
		return nil, f.errorf("pool %q: list members: %v", pool, err)
	}
	for _, m := range list.Items {
		if m.port() == "" {
			return nil, f.errorf("pool %q: member %q has no port in its name", pool, m.Name)
		}
	}
	return list.Items, nil
}

// memberFor finds the one member of a pool with the given address (host:port).
func (f *F5) memberFor(ctx context.Context, pool, address string) (poolMember, error) {
	want, err := normalAddress(address)
	if err != nil {
		return poolMember{}, f.errorf("pool %q member %s: %v", pool, address, err)
	}
	ms, err := f.members(ctx, pool)
	if err != nil {
		return poolMember{}, err
	}
	var found []poolMember
	for _, m := range ms {
		if m.matches(want) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return poolMember{}, f.errorf("pool %q has no member with address %s", pool, address)
	case 1:
		return found[0], nil
	}
	return poolMember{}, f.errorf("pool %q has %d members with address %s; nonstop matches members by address", pool, len(found), address)
}

// SetMemberWeight sets the ratio (1 to 65535) of the member with this address. The
// ratio steers traffic only when the pool uses a ratio load-balancing mode. F5 has
// no ratio 0: taking a member out of traffic is state drain.
//
// F5 ratios go from 1 to 65535, so weight 0 — how blue-green and canary switches
// take a group out of traffic — is expressed as the member's drain state (session
// user-disabled: no new connections, existing ones finish) with its ratio kept; it
// reads back as state drain. A later weight above 0 in a switch comes with state
// ready, which the executor sends.
func (f *F5) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	if weight == 0 {
		return f.SetMemberState(ctx, pool, address, providers.StateDrain)
	}
	if weight < 1 || weight > 65535 {
		return f.errorf("pool %q member %s: weight %d cannot be expressed: F5 pool member ratios go from 1 to 65535", pool, address, weight)
	}
	m, err := f.memberFor(ctx, pool, address)
	if err != nil {
		return err
	}
	return f.patchMember(ctx, pool, m, "ratio", memberPatch{Ratio: weight})
}

// SetMemberState sets the state of the member with this address: ready enables it
// (session user-enabled, state user-up); drain disables it, so it takes no new
// connections but keeps its existing ones (session user-disabled, state user-up);
// maint and down force it offline (session user-disabled, state user-down), which
// reads back as maint.
func (f *F5) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	var p memberPatch
	switch state {
	case providers.StateReady:
		p = memberPatch{Session: "user-enabled", State: "user-up"}
	case providers.StateDrain:
		p = memberPatch{Session: "user-disabled", State: "user-up"}
	case providers.StateMaint, providers.StateDown:
		p = memberPatch{Session: "user-disabled", State: "user-down"}
	default:
		return f.errorf("pool %q member %s: unknown state %q", pool, address, state)
	}
	m, err := f.memberFor(ctx, pool, address)
	if err != nil {
		return err
	}
	return f.patchMember(ctx, pool, m, "state "+string(state), p)
}

// patchMember sends PATCH .../members/~PARTITION~NAME with the given fields.
func (f *F5) patchMember(ctx context.Context, pool string, m poolMember, what string, p memberPatch) error {
	pp, _ := f.poolPath(pool)
	if err := f.send(ctx, http.MethodPatch, pp+"/members/"+objectPath(m.FullPath), p, nil); err != nil {
		return f.errorf("pool %q member %s (%s): set %s: %v", pool, m.hostPort(), m.Name, what, err)
	}
	return nil
}

// poolPath returns "/mgmt/tm/ltm/pool/~PARTITION~POOL" for a pool name, or for a
// full path "/Partition[/folder]/pool" as is; "folder/pool" is in the partition.
func (f *F5) poolPath(pool string) (string, error) {
	full := pool
	if !strings.HasPrefix(pool, "/") {
		full = "/" + f.partition + "/" + pool
	}
	for _, part := range strings.Split(strings.TrimPrefix(full, "/"), "/") {
		if !validName(part) {
			return "", fmt.Errorf("pool %q: %q is not a valid F5 object name", pool, part)
		}
	}
	return "/mgmt/tm/ltm/pool/" + objectPath(full), nil
}

// stringAttr decodes a string attribute.
func stringAttr(v cty.Value) (string, error) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", fmt.Errorf("must be a string")
	}
	return v.AsString(), nil
}

// boolAttr decodes a bool attribute.
func boolAttr(v cty.Value) (bool, error) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Bool {
		return false, fmt.Errorf("must be true or false")
	}
	return v.True(), nil
}

var (
	_ providers.Balancer = (*F5)(nil)
	_ providers.Closer   = (*F5)(nil)
)
