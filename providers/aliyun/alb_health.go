package aliyun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alb"

	"github.com/nonstop-release/nonstop/providers"
)

// albHealthPageSize is the largest MaxResults GetListenerHealthStatus accepts.
const albHealthPageSize = 30

// albGroupRelations is the answer of ListServerGroups with ShowRelationEnabled: the
// load balancers, listeners and forwarding rules each server group is attached to.
type albGroupRelations struct {
	RequestID    string            `json:"RequestId"`
	NextToken    string            `json:"NextToken"`
	ServerGroups []albRelatedGroup `json:"ServerGroups"`
}

// albRelatedGroup is one server group of ListServerGroups, relations only.
type albRelatedGroup struct {
	ServerGroupID          string   `json:"ServerGroupId"`
	RelatedLoadBalancerIDs []string `json:"RelatedLoadBalancerIds"`
	RelatedListenerIDs     []string `json:"RelatedListenerIds"`
	RelatedRuleIDs         []string `json:"RelatedRuleIds"`
}

// albListenerHealth is the answer of GetListenerHealthStatus with IncludeRule: the
// server groups a listener forwards to, by default action (ListenerHealthStatus)
// and by forwarding rule (RuleHealthStatus), each with the servers whose health
// check is not normal.
type albListenerHealth struct {
	RequestID            string `json:"RequestId"`
	NextToken            string `json:"NextToken"`
	ListenerHealthStatus []struct {
		ListenerID       string           `json:"ListenerId"`
		ServerGroupInfos []albGroupHealth `json:"ServerGroupInfos"`
	} `json:"ListenerHealthStatus"`
	RuleHealthStatus []struct {
		RuleID           string           `json:"RuleId"`
		ServerGroupInfos []albGroupHealth `json:"ServerGroupInfos"`
	} `json:"RuleHealthStatus"`
}

// albGroupHealth is one ServerGroupInfos element.
type albGroupHealth struct {
	ServerGroupID      string `json:"ServerGroupId"`
	HealthCheckEnabled onOff  `json:"HealthCheckEnabled"` // "on" / "off"
	ActionType         string `json:"ActionType"`
	NonNormalServers   []struct {
		ServerID string  `json:"ServerId"`
		ServerIP string  `json:"ServerIp"`
		Port     flexInt `json:"Port"`
		Status   string  `json:"Status"` // Initial, Unhealthy, Unused, Unavailable
		Reason   struct {
			ReasonCode       string `json:"ReasonCode"`
			ActualResponse   string `json:"ActualResponse"`
			ExpectedResponse string `json:"ExpectedResponse"`
		} `json:"Reason"`
	} `json:"NonNormalServers"`
}

// onOff is a switch the API sends as "on"/"off" (ALB's HealthCheckEnabled) or as a
// JSON boolean; absent, it is neither.
type onOff int

const (
	switchUnset onOff = iota
	switchOn
	switchOff
)

// UnmarshalJSON accepts "on", "off", true, false, "true" and "false".
func (s *onOff) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	v := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
	}
	switch strings.ToLower(v) {
	case "on", "true":
		*s = switchOn
	case "off", "false":
		*s = switchOff
	default:
		return fmt.Errorf("%s is neither on nor off", b)
	}
	return nil
}

// albVerdict is ALB's health verdict on one server of the group.
type albVerdict struct {
	health providers.MemberHealth
	detail string
}

// albGroupVerdict is what one GetListenerHealthStatus reading says of a group.
type albGroupVerdict struct {
	listener string                // "" when no listener forwards to the group
	reported bool                  // the listener reports the group
	checks   bool                  // its health check is on
	servers  map[string]albVerdict // non-normal servers by ServerIp:Port
}

// member returns the verdict on the server with this address.
func (v albGroupVerdict) member(address string) (providers.MemberHealth, string) {
	switch {
	case v.listener == "":
		return providers.HealthUnknown, "no listener forwards to the server group"
	case !v.reported:
		return providers.HealthUnknown, "listener " + v.listener + " does not report the server group"
	case !v.checks:
		return providers.HealthUnknown, "health check off (listener " + v.listener + ")"
	}
	if s, ok := v.servers[address]; ok {
		return s.health, s.detail
	}
	return providers.HealthUp, "not among the non-normal servers (listener " + v.listener + ")"
}

// groupHealth reads ALB's health check verdict on a server group's servers with
// one GetListenerHealthStatus call (per 30 entries) on a listener that forwards to
// the group. The listener is found once per group with ListServerGroups
// (ShowRelationEnabled, RelatedListenerIds) and remembered; when the remembered
// listener no longer reports the group, it is looked up again.
func (p *ALB) groupHealth(ctx context.Context, pool string) (albGroupVerdict, error) {
	listener, cached, err := p.listenerFor(ctx, pool, false)
	if err != nil {
		return albGroupVerdict{}, err
	}
	if listener == "" {
		return albGroupVerdict{}, nil
	}
	v, err := p.readListenerHealth(ctx, pool, listener)
	if err != nil || v.reported || !cached {
		return v, err
	}
	// The group was moved off the remembered listener: look again.
	again, _, err := p.listenerFor(ctx, pool, true)
	if err != nil || again == "" || again == listener {
		return albGroupVerdict{listener: again}, err
	}
	return p.readListenerHealth(ctx, pool, again)
}

// listenerFor returns the listener whose health status nonstop reads for a server
// group: remembered (cached true) or, when fresh or unknown, the first of the
// RelatedListenerIds that ListServerGroups names. "" means no listener forwards to
// the group.
func (p *ALB) listenerFor(ctx context.Context, pool string, fresh bool) (listener string, cached bool, err error) {
	p.listenersMu.Lock()
	listener, cached = p.listeners[pool]
	p.listenersMu.Unlock()
	if cached && !fresh {
		return listener, true, nil
	}
	var a albGroupRelations
	if err := p.rpc.call(ctx, func() requests.AcsRequest {
		r := alb.CreateListServerGroupsRequest()
		r.ServerGroupIds = &[]string{pool}
		r.ShowRelationEnabled = requests.NewBoolean(true)
		return r
	}, &a); err != nil {
		return "", false, p.errorf("server group %q: finding the listeners that forward to it: %v", pool, err)
	}
	i := slices.IndexFunc(a.ServerGroups, func(g albRelatedGroup) bool { return g.ServerGroupID == pool })
	if i < 0 {
		return "", false, p.errorf("server group %q: ListServerGroups does not list it", pool)
	}
	g := a.ServerGroups[i]
	ids := slices.Sorted(slices.Values(g.RelatedListenerIDs))
	if len(ids) == 0 {
		if len(g.RelatedLoadBalancerIDs) > 0 || len(g.RelatedRuleIDs) > 0 {
			return "", false, p.errorf("server group %q: ListServerGroups relates it to load balancers %v and rules %v but names no listener (RelatedListenerIds), so its health cannot be read",
				pool, g.RelatedLoadBalancerIDs, g.RelatedRuleIDs)
		}
		p.listenersMu.Lock()
		delete(p.listeners, pool)
		p.listenersMu.Unlock()
		return "", false, nil
	}
	p.listenersMu.Lock()
	p.listeners[pool] = ids[0]
	p.listenersMu.Unlock()
	return ids[0], false, nil
}

// readListenerHealth reads one listener's health status, forwarding rules
// included, and keeps what it says of the server group.
func (p *ALB) readListenerHealth(ctx context.Context, pool, listener string) (albGroupVerdict, error) {
	v := albGroupVerdict{listener: listener, servers: map[string]albVerdict{}}
	var infos []albGroupHealth
	token := ""
	for {
		var a albListenerHealth
		if err := p.rpc.call(ctx, func() requests.AcsRequest {
			r := alb.CreateGetListenerHealthStatusRequest()
			r.ListenerId = listener
			r.IncludeRule = requests.NewBoolean(true)
			r.MaxResults = requests.NewInteger(albHealthPageSize)
			r.NextToken = token
			return r
		}, &a); err != nil {
			return albGroupVerdict{}, p.errorf("server group %q: health (listener %s): %v", pool, listener, err)
		}
		for _, l := range a.ListenerHealthStatus {
			infos = append(infos, l.ServerGroupInfos...)
		}
		for _, r := range a.RuleHealthStatus {
			infos = append(infos, r.ServerGroupInfos...)
		}
		if a.NextToken == "" || a.NextToken == token {
			break
		}
		token = a.NextToken
	}
	for _, info := range infos {
		if info.ServerGroupID != pool {
			continue
		}
		v.reported = true
		if info.HealthCheckEnabled != switchOff {
			v.checks = true
		}
		for _, s := range info.NonNormalServers {
			got := albServerVerdict(s.Status, s.Reason.ReasonCode, s.Reason.ActualResponse, s.Reason.ExpectedResponse, listener)
			addr := joinAddress(s.ServerIP, int(s.Port))
			if prev, ok := v.servers[addr]; !ok || (got.health == providers.HealthDown && prev.health != providers.HealthDown) {
				v.servers[addr] = got
			}
		}
	}
	return v, nil
}

// albServerVerdict maps a NonNormalServers status: Unavailable (health check off)
// is unknown; Initial (not checked yet), Unhealthy, Unused (weight 0, not checked)
// and any status the documentation does not list are down.
func albServerVerdict(status, reason, actual, expected, listener string) albVerdict {
	detail := status
	if reason != "" {
		detail += ": " + reason
		if actual != "" || expected != "" {
			detail += fmt.Sprintf(" (got %s, expected %s)", actual, expected)
		}
	}
	detail += " (listener " + listener + ")"
	if strings.EqualFold(status, "Unavailable") {
		return albVerdict{providers.HealthUnknown, detail}
	}
	return albVerdict{providers.HealthDown, detail}
}
