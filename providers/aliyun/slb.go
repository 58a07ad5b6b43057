package aliyun

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/providers"
)

// slbEndpoint is SLB's central endpoint, which serves every region named by the
// RegionId parameter.
const slbEndpoint = "https://slb.aliyuncs.com"

// SLB is an Alibaba Cloud Classic Load Balancer whose pools are vServer groups.
type SLB struct {
	name   string
	rpc    *rpcClient
	logger hclog.Logger
}

// NewSLB configures an aliyun_slb provider from its block's attributes: region
// (required), access_key_id, access_key_secret and security_token (none: the
// default credential chain, asked at the first call), endpoint (default
// https://slb.aliyuncs.com) and timeout (default 30s per try of a call).
func NewSLB(s providers.Settings) (providers.Provider, error) {
	st, err := decodeSettings(KindSLB, s)
	if err != nil {
		return nil, err
	}
	rpc, err := newRPC(KindSLB, s.Name, st, slbEndpoint, logger(s))
	if err != nil {
		return nil, err
	}
	return &SLB{name: s.Name, rpc: rpc, logger: logger(s)}, nil
}

// Kind returns "aliyun_slb".
func (p *SLB) Kind() string { return KindSLB }

// Name returns the provider's name.
func (p *SLB) Name() string { return p.name }

// String returns "aliyun_slb.NAME".
func (p *SLB) String() string { return KindSLB + "." + p.name }

func (p *SLB) errorf(format string, args ...any) error {
	return fmt.Errorf(KindSLB+".%s: "+format, append([]any{p.name}, args...)...)
}

// slbBackend is one BackendServer of a vServer group as DescribeVServerGroupAttribute
// and SetVServerGroupAttribute report it.
type slbBackend struct {
	ServerID    string  `json:"ServerId"`
	ServerIP    string  `json:"ServerIp"`
	Port        flexInt `json:"Port"`
	Weight      flexInt `json:"Weight"`
	Type        string  `json:"Type"`
	Description string  `json:"Description"`
}

// slbGroup is the answer of DescribeVServerGroupAttribute and of
// SetVServerGroupAttribute.
type slbGroup struct {
	RequestID      string `json:"RequestId"`
	VServerGroupID string `json:"VServerGroupId"`
	LoadBalancerID string `json:"LoadBalancerId"`
	BackendServers struct {
		BackendServer []slbBackend `json:"BackendServer"`
	} `json:"BackendServers"`
}

// group reads a vServer group with one DescribeVServerGroupAttribute call.
func (p *SLB) group(ctx context.Context, pool string) (slbGroup, error) {
	if pool == "" {
		return slbGroup{}, p.errorf("the pool (vServer group ID) is empty")
	}
	var g slbGroup
	if err := p.rpc.call(ctx, func() requests.AcsRequest {
		r := slb.CreateDescribeVServerGroupAttributeRequest()
		r.VServerGroupId = pool
		return r
	}, &g); err != nil {
		return slbGroup{}, p.errorf("vServer group %q: %v", pool, err)
	}
	for _, b := range g.BackendServers.BackendServer {
		if b.ServerIP == "" {
			return slbGroup{}, p.errorf("vServer group %q: backend server %s port %d has no ServerIp in the answer; nonstop matches members by IP address and port", pool, b.ServerID, b.Port)
		}
	}
	return g, nil
}

// backends lists a vServer group's backend servers with one
// DescribeVServerGroupAttribute call.
func (p *SLB) backends(ctx context.Context, pool string) ([]slbBackend, error) {
	g, err := p.group(ctx, pool)
	if err != nil {
		return nil, err
	}
	return g.BackendServers.BackendServer, nil
}

// Pool lists a vServer group's backend servers as members with one
// DescribeVServerGroupAttribute call, and reads SLB's health check verdict on them
// with one DescribeHealthStatus call for the group's load balancer (see
// slbHealth). The address is ServerIp:Port; state is ready, or drain for weight 0
// (SLB has no administrative state). Sessions is nil: the API reports no
// per-server connections.
func (p *SLB) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	g, err := p.group(ctx, pool)
	if err != nil {
		return nil, err
	}
	bs := g.BackendServers.BackendServer
	var hs []slbHealthEntry
	if len(bs) > 0 {
		if hs, err = p.healthStatus(ctx, pool, g.LoadBalancerID); err != nil {
			return nil, err
		}
	}
	out := make([]providers.Member, 0, len(bs))
	for _, b := range bs {
		m := providers.Member{Pool: pool, Address: joinAddress(b.ServerIP, int(b.Port)), Weight: int(b.Weight), State: weightState(int(b.Weight))}
		m.Health, m.HealthDetail = slbHealth(b, hs)
		out = append(out, m)
	}
	return out, nil
}

// slbHealthEntry is one BackendServer of DescribeHealthStatus: a backend server's
// health as one listener's health check sees it.
type slbHealthEntry struct {
	ServerID           string  `json:"ServerId"`
	ServerIP           string  `json:"ServerIp"`
	EniHost            string  `json:"EniHost"` // older answers: the IP of an ENI backend
	Port               flexInt `json:"Port"`
	ListenerPort       flexInt `json:"ListenerPort"`
	Protocol           string  `json:"Protocol"`
	ServerHealthStatus string  `json:"ServerHealthStatus"` // normal, abnormal, unavailable
}

// slbHealthAnswer is the answer of DescribeHealthStatus.
type slbHealthAnswer struct {
	RequestID      string `json:"RequestId"`
	BackendServers struct {
		BackendServer []slbHealthEntry `json:"BackendServer"`
	} `json:"BackendServers"`
}

// healthStatus reads the health of every backend server of the load balancer on
// every listener port with one DescribeHealthStatus call (ListenerPort left out:
// nonstop does not know which listeners forward to the vServer group).
func (p *SLB) healthStatus(ctx context.Context, pool, lb string) ([]slbHealthEntry, error) {
	if lb == "" {
		return nil, p.errorf("vServer group %q: DescribeVServerGroupAttribute named no LoadBalancerId, so its health cannot be read", pool)
	}
	var a slbHealthAnswer
	if err := p.rpc.call(ctx, func() requests.AcsRequest {
		r := slb.CreateDescribeHealthStatusRequest()
		r.LoadBalancerId = lb
		return r
	}, &a); err != nil {
		return nil, p.errorf("vServer group %q: health of load balancer %s: %v", pool, lb, err)
	}
	return a.BackendServers.BackendServer, nil
}

// slbHealth is SLB's verdict on a backend server: the DescribeHealthStatus entries
// with its IP (ServerIp, or EniHost; ServerId where the entry names no IP) and
// port, one per listener whose health check covers it. normal is up, abnormal
// down, unavailable (health check off or not run) unknown; a word the
// documentation does not list is down. With several listeners the worst verdict
// wins (abnormal on any of them is down); a server no listener reports is unknown.
func slbHealth(b slbBackend, hs []slbHealthEntry) (providers.MemberHealth, string) {
	rank := func(h providers.MemberHealth) int {
		switch h {
		case providers.HealthDown:
			return 2
		case providers.HealthUp:
			return 1
		}
		return 0
	}
	health, detail, seen := providers.HealthUnknown, "", false
	for _, e := range hs {
		ip := e.ServerIP
		if ip == "" {
			ip = e.EniHost
		}
		if e.Port != b.Port || (ip != "" && ip != b.ServerIP) || (ip == "" && e.ServerID != b.ServerID) {
			continue
		}
		var h providers.MemberHealth
		switch strings.ToLower(e.ServerHealthStatus) {
		case "normal":
			h = providers.HealthUp
		case "unavailable":
			h = providers.HealthUnknown
		default: // abnormal, or a word the documentation does not list
			h = providers.HealthDown
		}
		if !seen || rank(h) > rank(health) {
			health, detail, seen = h, e.ServerHealthStatus, true
			if e.ListenerPort != 0 {
				l := strconv.Itoa(int(e.ListenerPort))
				if e.Protocol != "" {
					l = strings.ToLower(e.Protocol) + ":" + l
				}
				detail += " (listener " + l + ")"
			}
		}
	}
	return health, detail
}

// backendFor finds the one backend server of a vServer group with this address.
func (p *SLB) backendFor(ctx context.Context, pool, address string) (slbBackend, error) {
	ip, port, err := splitAddress(address)
	if err != nil {
		return slbBackend{}, p.errorf("vServer group %q member %s: %v", pool, address, err)
	}
	bs, err := p.backends(ctx, pool)
	if err != nil {
		return slbBackend{}, err
	}
	var found []slbBackend
	for _, b := range bs {
		if b.ServerIP == ip && int(b.Port) == port {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return slbBackend{}, p.errorf("vServer group %q has no backend server with address %s", pool, address)
	case 1:
		return found[0], nil
	}
	return slbBackend{}, p.errorf("vServer group %q has %d backend servers with address %s; nonstop matches members by address", pool, len(found), address)
}

// SetMemberWeight sets the weight (0 to 100) of the backend server with this
// address with SetVServerGroupAttribute. Weight 0 sends it no new requests.
func (p *SLB) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	if err := checkWeight(weight); err != nil {
		return p.errorf("vServer group %q member %s: %v", pool, address, err)
	}
	b, err := p.backendFor(ctx, pool, address)
	if err != nil {
		return err
	}
	return p.setWeight(ctx, pool, b, weight)
}

// SetMemberState expresses a state with the weight, since SLB has no
// administrative state: drain and maint set weight 0; ready leaves a non-zero
// weight alone and is an error on weight 0 (SLB does not remember the previous
// weight: set one); down is refused.
func (p *SLB) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	if _, _, err := stateWeight(1, state); err != nil { // down or unknown: refused before any call
		return p.errorf("vServer group %q member %s: %v", pool, address, err)
	}
	b, err := p.backendFor(ctx, pool, address)
	if err != nil {
		return err
	}
	weight, change, err := stateWeight(int(b.Weight), state)
	if err != nil {
		return p.errorf("vServer group %q member %s: %v", pool, address, err)
	}
	if !change {
		return nil
	}
	return p.setWeight(ctx, pool, b, weight)
}

// slbWeightChange is one element of SetVServerGroupAttribute's BackendServers
// JSON, with the quoted numbers of the documented example.
type slbWeightChange struct {
	ServerID    string `json:"ServerId"`
	Port        string `json:"Port"`
	Weight      string `json:"Weight"`
	Type        string `json:"Type,omitempty"`
	ServerIP    string `json:"ServerIp,omitempty"`
	Description string `json:"Description,omitempty"`
}

// setWeight changes one backend server's weight, keeping its type, IP (for ENI and
// ECI servers) and description, and checks the weight the answer reports.
func (p *SLB) setWeight(ctx context.Context, pool string, b slbBackend, weight int) error {
	change := slbWeightChange{ServerID: b.ServerID, Port: strconv.Itoa(int(b.Port)), Weight: strconv.Itoa(weight), Type: b.Type, Description: b.Description}
	if b.Type == "eni" || b.Type == "eci" {
		change.ServerIP = b.ServerIP
	}
	servers, err := json.Marshal([]slbWeightChange{change})
	if err != nil {
		return p.errorf("vServer group %q member %s: %v", pool, joinAddress(b.ServerIP, int(b.Port)), err)
	}
	var g slbGroup
	addr := joinAddress(b.ServerIP, int(b.Port))
	if err := p.rpc.call(ctx, func() requests.AcsRequest {
		r := slb.CreateSetVServerGroupAttributeRequest()
		r.VServerGroupId = pool
		r.BackendServers = string(servers)
		return r
	}, &g); err != nil {
		return p.errorf("vServer group %q member %s (%s): set weight %d: %v", pool, addr, b.ServerID, weight, err)
	}
	for _, got := range g.BackendServers.BackendServer {
		if got.ServerID == b.ServerID && got.Port == b.Port && (got.ServerIP == "" || got.ServerIP == b.ServerIP) && int(got.Weight) != weight {
			return p.errorf("vServer group %q member %s (%s): asked for weight %d, SLB answered weight %d", pool, addr, b.ServerID, weight, got.Weight)
		}
	}
	p.logger.Debug("set backend server weight", "provider", p.String(), "pool", pool, "address", addr, "weight", weight)
	return nil
}

var _ providers.Balancer = (*SLB)(nil)
