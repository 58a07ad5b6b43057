package aliyun

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

func newTestALB(t *testing.T, f *fakeAPI) *ALB {
	t.Helper()
	p, err := NewALB(providers.Settings{Name: "api", Attrs: map[string]cty.Value{
		"region":            cty.StringVal("cn-shanghai"),
		"access_key_id":     cty.StringVal(testKeyID),
		"access_key_secret": cty.StringVal(testKeySecret),
		"endpoint":          cty.StringVal(f.srv.URL),
	}})
	if err != nil {
		t.Fatal(err)
	}
	alb := p.(*ALB)
	n := 0
	alb.clientToken = func() string { n++; return fmt.Sprintf("nonstop-token-%d", n) }
	alb.settleInterval = time.Millisecond
	alb.settleTimeout = 200 * time.Millisecond
	return alb
}

const (
	sgp = "sgp-atstuj3rtop****"
	lsn = "lsn-o4u54y73wq7b******"
)

func TestALB(t *testing.T) {
	list := reply{"ListServerGroupServers", 200, "alb/list_server_group_servers.json"}
	update := reply{"UpdateServerGroupServersAttribute", 200, "alb/update_server_group_servers_attribute.json"}
	configuring := reply{"ListServerGroupServers", 200, "alb/list_configuring.json"}
	related := reply{"ListServerGroups", 200, "alb/list_server_groups_related.json"}
	health := reply{"GetListenerHealthStatus", 200, "alb/get_listener_health_status.json"}
	// members are the servers of list_server_group_servers.json with their health
	// in get_listener_health_status.json: 21 is not among the non-normal servers
	// (the unhealthy 192.168.1.21:8080 there is another group's), 22 (weight 0) is
	// Unused under the listener's default action, 23 Unhealthy under a rule.
	members := []providers.Member{
		{Pool: sgp, Address: "192.168.1.21:8080", Weight: 100, State: providers.StateReady,
			Health: providers.HealthUp, HealthDetail: "not among the non-normal servers (listener " + lsn + ")"},
		{Pool: sgp, Address: "192.168.1.22:8080", Weight: 0, State: providers.StateDrain,
			Health: providers.HealthDown, HealthDetail: "Unused (listener " + lsn + ")"},
		{Pool: sgp, Address: "192.168.1.23:8080", Weight: 30, State: providers.StateReady,
			Health: providers.HealthDown, HealthDetail: "Unhealthy: RESPONSE_MISMATCH (got 302, expected HTTP_2xx) (listener " + lsn + ")"},
	}
	withHealth := func(h providers.MemberHealth, details ...string) []providers.Member {
		out := make([]providers.Member, len(members))
		for i, m := range members {
			m.Health, m.HealthDetail = h, details[i]
			out[i] = m
		}
		return out
	}
	upDetail := "not among the non-normal servers (listener " + lsn + ")"
	cases := map[string]balancerCase{
		"alb_pool": {replies: []reply{list, related, health}, op: poolOp(sgp), want: members},
		"alb_pool_paged": {
			replies: []reply{
				{"ListServerGroupServers", 200, "alb/list_server_group_servers_page1.json"},
				{"ListServerGroupServers", 200, "alb/list_server_group_servers_page2.json"},
				related,
				{"GetListenerHealthStatus", 200, "alb/get_listener_health_status_page1.json"},
				{"GetListenerHealthStatus", 200, "alb/get_listener_health_status_page2.json"},
			},
			op:   poolOp(sgp),
			want: members,
		},
		"alb_pool_healthy": {
			replies: []reply{list, related, {"GetListenerHealthStatus", 200, "alb/get_listener_health_status_healthy.json"}},
			op:      poolOp(sgp),
			want:    withHealth(providers.HealthUp, upDetail, upDetail, upDetail),
		},
		"alb_pool_not_checked_yet": {
			replies: []reply{list, related, {"GetListenerHealthStatus", 200, "alb/get_listener_health_status_initial.json"}},
			op:      poolOp(sgp),
			want: withHealth(providers.HealthDown, "Initial (listener "+lsn+")", "Unused (listener "+lsn+")",
				"Initial (listener "+lsn+")"),
		},
		"alb_pool_health_check_off": {
			replies: []reply{list, related, {"GetListenerHealthStatus", 200, "alb/get_listener_health_status_off.json"}},
			op:      poolOp(sgp),
			want: withHealth(providers.HealthUnknown, "health check off (listener "+lsn+")", "health check off (listener "+lsn+")",
				"health check off (listener "+lsn+")"),
		},
		"alb_pool_no_listener": {
			replies: []reply{list, {"ListServerGroups", 200, "alb/list_server_groups_unattached.json"}},
			op:      poolOp(sgp),
			want: withHealth(providers.HealthUnknown, "no listener forwards to the server group", "no listener forwards to the server group",
				"no listener forwards to the server group"),
		},
		"alb_pool_listener_not_reporting": {
			// a fresh lookup names the listener, which does not report the group:
			// nothing is remembered to look up again
			replies: []reply{list, related, {"GetListenerHealthStatus", 200, "alb/get_listener_health_status_other_group.json"}},
			op:      poolOp(sgp),
			want: withHealth(providers.HealthUnknown, "listener "+lsn+" does not report the server group",
				"listener "+lsn+" does not report the server group", "listener "+lsn+" does not report the server group"),
		},
		"alb_pool_relations_without_listener": {
			replies: []reply{list, {"ListServerGroups", 200, "alb/list_server_groups_no_listener_ids.json"}},
			op:      poolOp(sgp),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****": ListServerGroups relates it to load balancers [alb-o9ulmq5hgn68jk****] and rules [rule-doc1ukgmwuf9e6****] but names no listener (RelatedListenerIds), so its health cannot be read`,
		},
		"alb_pool_relations_error": {
			replies: []reply{list, {"ListServerGroups", 400, "alb/error_incorrect_status.json"}},
			op:      poolOp(sgp),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****": finding the listeners that forward to it: ListServerGroups: IncorrectStatus.ServerGroup: The status of the server group sgp-atstuj3rtop**** is incorrect. (request id A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D)`,
		},
		"alb_pool_health_error": {
			replies: []reply{list, related, {"GetListenerHealthStatus", 404, "alb/error_listener_not_found.json"}},
			op:      poolOp(sgp),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****": health (listener lsn-o4u54y73wq7b******): GetListenerHealthStatus: ResourceNotFound.listener: The specified resource lsn-o4u54y73wq7b****** is not found. (request id 9B0C1D2E-3F4A-4B5C-8D6E-7F8A9B0C1D2E)`,
		},
		"alb_pool_not_found": {
			replies: []reply{{"ListServerGroupServers", 404, "alb/error_not_found.json"}},
			op:      poolOp("sgp-missing"),
			wantErr: `aliyun_alb.api: server group "sgp-missing": ListServerGroupServers: ResourceNotFound.ServerGroup: The specified resource sgp-missing is not found. (request id F3C1D2E4-5A6B-4C7D-8E9F-0A1B2C3D4E5F)`,
		},
		"alb_pool_function_compute": {
			replies: []reply{{"ListServerGroupServers", 200, "alb/list_fc.json"}},
			op:      poolOp(sgp),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****": server acs:fc:cn-hangzhou:123456789:services/svc.LATEST/functions/fn (type Fc) has no IP address and port; nonstop matches members by address`,
		},
		"alb_set_weight": {
			replies: []reply{list, update, configuring, {"ListServerGroupServers", 200, "alb/list_available_50.json"}},
			op:      weightOp(sgp, "192.168.1.21:8080", 50),
		},
		"alb_set_weight_ip_server": {
			replies: []reply{list, update, list},
			op:      weightOp(sgp, "192.168.1.23:8080", 30),
		},
		"alb_set_weight_never_applied": {
			replies: nil, // filled below: configuring until the settle timeout
			op:      weightOp(sgp, "192.168.1.21:8080", 50),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****" member 192.168.1.21:8080 (i-bp1f9kdprbgy9uiu21): weight 50 (job 72dcd26b-f12d-4c27-b3af-18f6aed5****) not applied after 200ms: ALB reports status Configuring, weight 100`,
		},
		"alb_set_weight_incorrect_status": {
			replies: []reply{list, {"UpdateServerGroupServersAttribute", 400, "alb/error_incorrect_status.json"}},
			op:      weightOp(sgp, "192.168.1.21:8080", 50),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****" member 192.168.1.21:8080 (i-bp1f9kdprbgy9uiu21): set weight 50: UpdateServerGroupServersAttribute: IncorrectStatus.ServerGroup: The status of the server group sgp-atstuj3rtop**** is incorrect. (request id A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D)`,
		},
		"alb_set_weight_out_of_range": {
			op:      weightOp(sgp, "192.168.1.21:8080", -1),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****" member 192.168.1.21:8080: weight -1 cannot be expressed: Alibaba Cloud server weights go from 0 to 100`,
		},
		"alb_drain": {
			replies: []reply{list, update, {"ListServerGroupServers", 200, "alb/list_available_0.json"}},
			op:      stateOp(sgp, "192.168.1.21:8080", providers.StateDrain),
		},
		"alb_maint_already_zero": {replies: []reply{list}, op: stateOp(sgp, "192.168.1.22:8080", providers.StateMaint)},
		"alb_ready_nonzero":      {replies: []reply{list}, op: stateOp(sgp, "192.168.1.21:8080", providers.StateReady)},
		"alb_ready_zero": {
			replies: []reply{list},
			op:      stateOp(sgp, "192.168.1.22:8080", providers.StateReady),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****" member 192.168.1.22:8080: cannot make it ready: its weight is 0 and the load balancer has no administrative state to restore a weight from; set a weight from 1 to 100 instead`,
		},
		"alb_down": {
			op:      stateOp(sgp, "192.168.1.21:8080", providers.StateDown),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****" member 192.168.1.21:8080: the load balancer cannot force a server down (only its health check marks servers unhealthy); use drain or maint, which set weight 0`,
		},
		"alb_unknown_address": {
			replies: []reply{list},
			op:      stateOp(sgp, "10.0.0.1:8080", providers.StateDrain),
			wantErr: `aliyun_alb.api: server group "sgp-atstuj3rtop****" has no server with address 10.0.0.1:8080`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t, tc.replies...)
			p := newTestALB(t, f)
			if name == "alb_set_weight_never_applied" {
				p.settleInterval = 50 * time.Millisecond
				f.replies = []reply{list, update}
				for range 40 {
					f.replies = append(f.replies, configuring)
				}
				_, err := tc.op(context.Background(), p)
				if err == nil || err.Error() != tc.wantErr {
					t.Errorf("error:\n got %v\nwant %s", err, tc.wantErr)
				}
				f.mu.Lock()
				f.replies = nil // how many polls fit in the timeout varies
				f.mu.Unlock()
				return
			}
			runBalancerCase(t, name, tc, p, f)
		})
	}
}

// TestALBHealthListenerRemembered reads a group's health three times with one
// provider: the first Pool finds the listener with ListServerGroups, the second
// reuses it (one extra call per Pool), and the third, whose remembered listener no
// longer reports the group, looks the listener up again and reads the new one.
func TestALBHealthListenerRemembered(t *testing.T) {
	list := reply{"ListServerGroupServers", 200, "alb/list_server_group_servers.json"}
	f := newFakeAPI(t,
		list, reply{"ListServerGroups", 200, "alb/list_server_groups_related.json"},
		reply{"GetListenerHealthStatus", 200, "alb/get_listener_health_status.json"},
		list, reply{"GetListenerHealthStatus", 200, "alb/get_listener_health_status_healthy.json"},
		list, reply{"GetListenerHealthStatus", 200, "alb/get_listener_health_status_other_group.json"},
		reply{"ListServerGroups", 200, "alb/list_server_groups_moved.json"},
		reply{"GetListenerHealthStatus", 200, "alb/get_listener_health_status_moved.json"},
	)
	p := newTestALB(t, f)
	const lsn2 = "lsn-bp1bpn0kn908w4nbw****"
	want := [][]providers.MemberHealth{
		{providers.HealthUp, providers.HealthDown, providers.HealthDown},
		{providers.HealthUp, providers.HealthUp, providers.HealthUp},
		{providers.HealthDown, providers.HealthUp, providers.HealthUp},
	}
	for i, w := range want {
		ms, err := p.Pool(context.Background(), sgp)
		if err != nil {
			t.Fatalf("Pool %d: %v", i+1, err)
		}
		for j, m := range ms {
			if m.Health != w[j] {
				t.Errorf("Pool %d: %s health %q (%s), want %q", i+1, m.Address, m.Health, m.HealthDetail, w[j])
			}
		}
		if i == 2 && ms[0].HealthDetail != "Unhealthy: CONNECT_FAILED (listener "+lsn2+")" {
			t.Errorf("Pool 3: %s detail %q, want the new listener's", ms[0].Address, ms[0].HealthDetail)
		}
	}
	f.done(t, "alb_health_listener_remembered")
}
