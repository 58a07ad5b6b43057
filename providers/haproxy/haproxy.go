package haproxy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

// HAProxy is an HAProxy driven through its runtime API.
type HAProxy struct {
	name   string
	api    runtimeAPI
	maps   routeMaps
	logger hclog.Logger
}

// New configures an HAProxy provider from its block's attributes: runtime_api
// (required), routes_map and routes_ip_map (map files as haproxy.cfg names them,
// needed only for routes) and timeout (per command; the default is in the schema).
func New(s providers.Settings) (providers.Provider, error) {
	h := &HAProxy{name: s.Name, logger: s.Logger}
	if h.logger == nil {
		h.logger = hclog.NewNullLogger()
	}
	var api string
	var timeout time.Duration
	for k, v := range schema.WithDefaults(s.Attrs) {
		var err error
		switch k {
		case "runtime_api":
			api, err = stringAttr(v)
		case "routes_map":
			h.maps.header, err = stringAttr(v)
		case "routes_ip_map":
			h.maps.ip, err = stringAttr(v)
		case "routes_number_map":
			h.maps.number, err = stringAttr(v)
		case "timeout":
			var d string
			if d, err = stringAttr(v); err == nil {
				timeout, err = time.ParseDuration(d)
				if err == nil && timeout <= 0 {
					err = fmt.Errorf("must be positive")
				}
			}
		default:
			err = fmt.Errorf("unknown attribute")
		}
		if err != nil {
			return nil, fmt.Errorf("haproxy.%s: %s: %v", s.Name, k, err)
		}
	}
	if api == "" {
		return nil, fmt.Errorf("haproxy.%s: runtime_api is required", s.Name)
	}
	var err error
	if h.api, err = parseRuntimeAPI(api, timeout); err != nil {
		return nil, fmt.Errorf("haproxy.%s: %v", s.Name, err)
	}
	return h, nil
}

// Kind returns "haproxy".
func (h *HAProxy) Kind() string { return Kind }

// Name returns the provider's name.
func (h *HAProxy) Name() string { return h.name }

// String returns "haproxy.NAME".
func (h *HAProxy) String() string { return "haproxy." + h.name }

func (h *HAProxy) errorf(format string, args ...any) error {
	return fmt.Errorf("haproxy.%s: "+format, append([]any{h.name}, args...)...)
}

// servers lists a backend's servers with one `show servers state` call.
func (h *HAProxy) servers(ctx context.Context, backend string) ([]server, error) {
	if err := validName("backend", backend); err != nil {
		return nil, h.errorf("%v", err)
	}
	out, err := h.api.do(ctx, "show servers state "+backend)
	if err == nil && out == "" {
		err = fmt.Errorf("runtime API %s closed the connection without answering %q", h.api, "show servers state "+backend)
	}
	if err != nil {
		return nil, h.errorf("backend %q: %v", backend, err)
	}
	srvs, err := parseServersState(out)
	if err != nil {
		return nil, h.errorf("backend %q: %v", backend, err)
	}
	return srvs, nil
}

// Pool lists a backend's servers as members, matched by address, with two calls:
// `show servers state` (address, weight, admin and operational state) and
// `show stat` (current sessions, status and last check). State is the admin state
// nonstop writes (ready, drain, maint); Health is HAProxy's own verdict from its
// checks: up while the server is running (or starting), down while it is stopped
// (checks failed, or not passed `rise` times since the server came back).
func (h *HAProxy) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	srvs, err := h.servers(ctx, pool)
	if err != nil {
		return nil, err
	}
	out, err := h.api.do(ctx, "show stat "+pool+" 4 -1")
	if err == nil && out == "" {
		err = fmt.Errorf("runtime API %s closed the connection without answering %q", h.api, "show stat "+pool)
	}
	if err != nil {
		return nil, h.errorf("backend %q: %v", pool, err)
	}
	stats, err := parseStat(out)
	if err != nil {
		return nil, h.errorf("backend %q: %v", pool, err)
	}
	members := make([]providers.Member, 0, len(srvs))
	for _, s := range srvs {
		m := providers.Member{Pool: pool, Address: s.addr, Weight: s.uweight, State: memberState(s), Health: memberHealth(s)}
		if st, ok := stats[s.name]; ok {
			n := st.scur
			m.Sessions = &n
			m.HealthDetail = strings.TrimSpace(st.status + " " + st.check)
		}
		members = append(members, m)
	}
	return members, nil
}

// Operational states of srv_op_state (HAProxy's SRV_ST_*).
const (
	opStopped  = 0
	opStarting = 1
	opRunning  = 2
	opStopping = 3
)

// memberState maps HAProxy's admin state onto nonstop's.
func memberState(s server) providers.MemberState {
	switch {
	case s.admin&adminMaintMask != 0:
		return providers.StateMaint
	case s.admin&adminDrainMask != 0:
		return providers.StateDrain
	}
	return providers.StateReady
}

// memberHealth maps HAProxy's operational state, which its health checks drive,
// onto a health verdict. A server without checks is always running. A checked
// server is up only when its last finished check passed: HAProxy starts (and
// reloads) with every server assumed up before its first check (status INI),
// and a server whose last check failed is on its way down ("UP 1/2").
func memberHealth(s server) providers.MemberHealth {
	if s.opState != opRunning && s.opState != opStarting {
		return providers.HealthDown
	}
	if s.checked && !checkPassed(s.checkStatus) {
		return providers.HealthDown
	}
	return providers.HealthUp
}

// serverFor finds the one server of a backend with the given address.
func (h *HAProxy) serverFor(ctx context.Context, pool, address string) (server, error) {
	srvs, err := h.servers(ctx, pool)
	if err != nil {
		return server{}, err
	}
	var found []server
	for _, s := range srvs {
		if s.addr == address || s.fqdn == address {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return server{}, h.errorf("backend %q has no server with address %s", pool, address)
	case 1:
		return found[0], nil
	}
	return server{}, h.errorf("backend %q has %d servers with address %s; nonstop matches members by address", pool, len(found), address)
}

// setServer runs `set server BACKEND/SERVER ...`; any answer is HAProxy's error.
func (h *HAProxy) setServer(ctx context.Context, pool string, s server, what, args string) error {
	out, err := h.api.do(ctx, "set server "+pool+"/"+s.name+" "+args)
	if err != nil {
		return h.errorf("backend %q server %s (%s): %v", pool, s.name, s.addr, err)
	}
	if out != "" {
		return h.errorf("backend %q server %s (%s): set %s: %s", pool, s.name, s.addr, what, firstLine(out))
	}
	return nil
}

// SetMemberWeight sets the weight (0 to 256) of the server with this address.
func (h *HAProxy) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	if weight < 0 {
		return h.errorf("backend %q member %s: weight %d is negative", pool, address, weight)
	}
	s, err := h.serverFor(ctx, pool, address)
	if err != nil {
		return err
	}
	return h.setServer(ctx, pool, s, "weight", "weight "+strconv.Itoa(weight))
}

// SetMemberState sets the state of the server with this address: ready, drain or
// maint. HAProxy cannot force a server down (only health checks do), so down is an
// error; use maint.
func (h *HAProxy) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	switch state {
	case providers.StateReady, providers.StateDrain, providers.StateMaint:
	case providers.StateDown:
		return h.errorf("backend %q member %s: HAProxy cannot force a server down (only health checks do); use maint", pool, address)
	default:
		return h.errorf("backend %q member %s: unknown state %q", pool, address, state)
	}
	s, err := h.serverFor(ctx, pool, address)
	if err != nil {
		return err
	}
	return h.setServer(ctx, pool, s, "state", "state "+string(state))
}

// stringAttr decodes a string attribute.
func stringAttr(v cty.Value) (string, error) {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
		return "", fmt.Errorf("must be a string")
	}
	return v.AsString(), nil
}

var (
	_ providers.Balancer      = (*HAProxy)(nil)
	_ providers.RouteStore    = (*HAProxy)(nil)
	_ providers.SessionCloser = (*HAProxy)(nil)
)
