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
	testClock(alb.rpc)
	n := 0
	alb.clientToken = func() string { n++; return fmt.Sprintf("nonstop-token-%d", n) }
	alb.settleInterval = time.Millisecond
	alb.settleTimeout = 200 * time.Millisecond
	return alb
}

const sgp = "sgp-atstuj3rtop****"

func TestALB(t *testing.T) {
	list := reply{"ListServerGroupServers", 200, "alb/list_server_group_servers.json"}
	update := reply{"UpdateServerGroupServersAttribute", 200, "alb/update_server_group_servers_attribute.json"}
	configuring := reply{"ListServerGroupServers", 200, "alb/list_configuring.json"}
	members := []providers.Member{
		{Pool: sgp, Address: "192.168.1.21:8080", Weight: 100, State: providers.StateReady},
		{Pool: sgp, Address: "192.168.1.22:8080", Weight: 0, State: providers.StateDrain},
		{Pool: sgp, Address: "192.168.1.23:8080", Weight: 30, State: providers.StateReady},
	}
	cases := map[string]balancerCase{
		"alb_pool": {replies: []reply{list}, op: poolOp(sgp), want: members},
		"alb_pool_paged": {
			replies: []reply{
				{"ListServerGroupServers", 200, "alb/list_server_group_servers_page1.json"},
				{"ListServerGroupServers", 200, "alb/list_server_group_servers_page2.json"},
			},
			op:   poolOp(sgp),
			want: members,
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
