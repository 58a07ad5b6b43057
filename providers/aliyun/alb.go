package aliyun

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alb"
	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/providers"
)

// albPageSize is the largest MaxResults ListServerGroupServers accepts.
const albPageSize = 100

// Defaults for waiting on UpdateServerGroupServersAttribute, which is asynchronous.
const (
	albSettleInterval = 2 * time.Second
	albSettleTimeout  = 2 * time.Minute
)

// ALB is an Alibaba Cloud Application Load Balancer whose pools are server groups.
type ALB struct {
	name   string
	rpc    *rpcClient
	logger hclog.Logger
	// settleInterval and settleTimeout pace the wait for a weight change to apply.
	settleInterval time.Duration
	settleTimeout  time.Duration
	clientToken    func() string

	// listeners remembers, by server group, the listener whose health status Pool
	// reads (see groupHealth).
	listenersMu sync.Mutex
	listeners   map[string]string
}

// NewALB configures an aliyun_alb provider from its block's attributes: region
// (required), access_key_id, access_key_secret and security_token (none: the
// default credential chain, asked at the first call), endpoint (default
// https://alb.REGION.aliyuncs.com) and timeout (default 30s per try of a call).
func NewALB(s providers.Settings) (providers.Provider, error) {
	st, err := decodeSettings(KindALB, s)
	if err != nil {
		return nil, err
	}
	rpc, err := newRPC(KindALB, s.Name, st, "https://alb."+st.region+".aliyuncs.com", logger(s))
	if err != nil {
		return nil, err
	}
	return &ALB{name: s.Name, rpc: rpc, logger: logger(s), settleInterval: albSettleInterval,
		settleTimeout: albSettleTimeout, clientToken: randomToken, listeners: map[string]string{}}, nil
}

// Kind returns "aliyun_alb".
func (p *ALB) Kind() string { return KindALB }

// Name returns the provider's name.
func (p *ALB) Name() string { return p.name }

// String returns "aliyun_alb.NAME".
func (p *ALB) String() string { return KindALB + "." + p.name }

func (p *ALB) errorf(format string, args ...any) error {
	return fmt.Errorf(KindALB+".%s: "+format, append([]any{p.name}, args...)...)
}

// albServer is one server of a server group as ListServerGroupServers reports it.
type albServer struct {
	ServerID    string  `json:"ServerId"`
	ServerIP    string  `json:"ServerIp"`
	ServerType  string  `json:"ServerType"` // Ecs, Eni, Eci, Ip, Fc
	Port        flexInt `json:"Port"`
	Weight      flexInt `json:"Weight"`
	Status      string  `json:"Status"` // Adding, Available, Configuring, Removing
	Description string  `json:"Description"`
}

// albServerPage is the answer of ListServerGroupServers.
type albServerPage struct {
	RequestID  string      `json:"RequestId"`
	NextToken  string      `json:"NextToken"`
	TotalCount int         `json:"TotalCount"`
	Servers    []albServer `json:"Servers"`
}

// servers lists a server group's servers: one ListServerGroupServers call for
// groups of up to 100 servers, one more per further 100.
func (p *ALB) servers(ctx context.Context, pool string) ([]albServer, error) {
	if pool == "" {
		return nil, p.errorf("the pool (server group ID) is empty")
	}
	var all []albServer
	token := ""
	for {
		var page albServerPage
		if err := p.rpc.call(ctx, func() requests.AcsRequest {
			r := alb.CreateListServerGroupServersRequest()
			r.ServerGroupId = pool
			r.MaxResults = requests.NewInteger(albPageSize)
			r.NextToken = token
			return r
		}, &page); err != nil {
			return nil, p.errorf("server group %q: %v", pool, err)
		}
		all = append(all, page.Servers...)
		if page.NextToken == "" || page.NextToken == token {
			break
		}
		token = page.NextToken
	}
	for _, s := range all {
		if s.ServerIP == "" || s.Port == 0 {
			return nil, p.errorf("server group %q: server %s (type %s) has no IP address and port; nonstop matches members by address", pool, s.ServerID, s.ServerType)
		}
	}
	return all, nil
}

// Pool lists a server group's servers as members, ServerIp:Port, with one
// ListServerGroupServers call (per 100 servers), and reads ALB's health check
// verdict on them with one GetListenerHealthStatus call (see groupHealth; the
// first Pool of a group also asks ListServerGroups which listener forwards to it).
// State is ready, or drain for weight 0 (ALB has no administrative state).
// Sessions is nil: the API reports no per-server connections.
func (p *ALB) Pool(ctx context.Context, pool string) ([]providers.Member, error) {
	ss, err := p.servers(ctx, pool)
	if err != nil {
		return nil, err
	}
	var v albGroupVerdict
	if len(ss) > 0 {
		if v, err = p.groupHealth(ctx, pool); err != nil {
			return nil, err
		}
	}
	out := make([]providers.Member, 0, len(ss))
	for _, s := range ss {
		m := providers.Member{Pool: pool, Address: joinAddress(s.ServerIP, int(s.Port)), Weight: int(s.Weight), State: weightState(int(s.Weight))}
		m.Health, m.HealthDetail = v.member(m.Address)
		out = append(out, m)
	}
	return out, nil
}

// serverFor finds the one server of a group with this address among ss.
func (p *ALB) serverFor(pool, address string, ss []albServer) (albServer, error) {
	ip, port, err := splitAddress(address)
	if err != nil {
		return albServer{}, p.errorf("server group %q member %s: %v", pool, address, err)
	}
	var found []albServer
	for _, s := range ss {
		if s.ServerIP == ip && int(s.Port) == port {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return albServer{}, p.errorf("server group %q has no server with address %s", pool, address)
	case 1:
		return found[0], nil
	}
	return albServer{}, p.errorf("server group %q has %d servers with address %s; nonstop matches members by address", pool, len(found), address)
}

// lookup lists the group and finds the server with this address.
func (p *ALB) lookup(ctx context.Context, pool, address string) (albServer, error) {
	if _, _, err := splitAddress(address); err != nil {
		return albServer{}, p.errorf("server group %q member %s: %v", pool, address, err)
	}
	ss, err := p.servers(ctx, pool)
	if err != nil {
		return albServer{}, err
	}
	return p.serverFor(pool, address, ss)
}

// SetMemberWeight sets the weight (0 to 100) of the server with this address with
// UpdateServerGroupServersAttribute, then waits until ListServerGroupServers shows
// the server Available with that weight (the change is asynchronous).
func (p *ALB) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	if err := checkWeight(weight); err != nil {
		return p.errorf("server group %q member %s: %v", pool, address, err)
	}
	s, err := p.lookup(ctx, pool, address)
	if err != nil {
		return err
	}
	return p.setWeight(ctx, pool, s, weight)
}

// SetMemberState expresses a state with the weight, since ALB has no
// administrative state: drain and maint set weight 0; ready leaves a non-zero
// weight alone and is an error on weight 0 (ALB does not remember the previous
// weight: set one); down is refused.
func (p *ALB) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	if _, _, err := stateWeight(1, state); err != nil { // down or unknown: refused before any call
		return p.errorf("server group %q member %s: %v", pool, address, err)
	}
	s, err := p.lookup(ctx, pool, address)
	if err != nil {
		return err
	}
	weight, change, err := stateWeight(int(s.Weight), state)
	if err != nil {
		return p.errorf("server group %q member %s: %v", pool, address, err)
	}
	if !change {
		return nil
	}
	return p.setWeight(ctx, pool, s, weight)
}

var _ providers.Balancer = (*ALB)(nil)
