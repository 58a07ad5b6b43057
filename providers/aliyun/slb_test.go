package aliyun

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

func newTestSLB(t *testing.T, f *fakeAPI) *SLB {
	t.Helper()
	p, err := NewSLB(providers.Settings{Name: "web", Attrs: map[string]cty.Value{
		"region":            cty.StringVal("cn-hangzhou"),
		"access_key_id":     cty.StringVal(testKeyID),
		"access_key_secret": cty.StringVal(testKeySecret),
		"endpoint":          cty.StringVal(f.srv.URL),
	}})
	if err != nil {
		t.Fatal(err)
	}
	slb := p.(*SLB)
	return slb
}

// balancerCase is one table entry shared by the SLB and ALB tests: the scripted
// answers, the operation, and the members (for Pool) or error it must give.
type balancerCase struct {
	replies []reply
	op      func(ctx context.Context, b providers.Balancer) ([]providers.Member, error)
	want    []providers.Member
	wantErr string
}

func poolOp(pool string) func(context.Context, providers.Balancer) ([]providers.Member, error) {
	return func(ctx context.Context, b providers.Balancer) ([]providers.Member, error) { return b.Pool(ctx, pool) }
}

func weightOp(pool, addr string, w int) func(context.Context, providers.Balancer) ([]providers.Member, error) {
	return func(ctx context.Context, b providers.Balancer) ([]providers.Member, error) {
		return nil, b.SetMemberWeight(ctx, pool, addr, w)
	}
}

func stateOp(pool, addr string, s providers.MemberState) func(context.Context, providers.Balancer) ([]providers.Member, error) {
	return func(ctx context.Context, b providers.Balancer) ([]providers.Member, error) {
		return nil, b.SetMemberState(ctx, pool, addr, s)
	}
}

func runBalancerCase(t *testing.T, name string, tc balancerCase, b providers.Balancer, f *fakeAPI) {
	t.Helper()
	got, err := tc.op(context.Background(), b)
	gotErr := ""
	if err != nil {
		gotErr = err.Error()
	}
	if gotErr != tc.wantErr {
		t.Errorf("error:\n got %q\nwant %q", gotErr, tc.wantErr)
	}
	if d := cmp.Diff(tc.want, got); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}
	f.done(t, name)
}

const rsp = "rsp-cige6j5e7p"

func TestSLB(t *testing.T) {
	describe := reply{"DescribeVServerGroupAttribute", 200, "slb/describe_vserver_group_attribute.json"}
	health := reply{"DescribeHealthStatus", 200, "slb/describe_health_status.json"}
	cases := map[string]balancerCase{
		"slb_pool": {
			replies: []reply{describe, health},
			op:      poolOp(rsp),
			want: []providers.Member{
				{Pool: rsp, Address: "192.168.1.11:80", Weight: 100, State: providers.StateReady, Health: providers.HealthUp, HealthDetail: "normal (listener http:80)"},
				{Pool: rsp, Address: "192.168.1.12:80", Weight: 0, State: providers.StateDrain, Health: providers.HealthDown, HealthDetail: "abnormal (listener http:80)"},
				// normal on listener 80, health check off on listener 8080: up
				{Pool: rsp, Address: "192.168.1.13:8080", Weight: 50, State: providers.StateReady, Health: providers.HealthUp, HealthDetail: "normal (listener http:80)"},
			},
		},
		"slb_pool_healthy": {
			replies: []reply{describe, {"DescribeHealthStatus", 200, "slb/describe_health_status_normal.json"}},
			op:      poolOp(rsp),
			want: []providers.Member{
				{Pool: rsp, Address: "192.168.1.11:80", Weight: 100, State: providers.StateReady, Health: providers.HealthUp, HealthDetail: "normal (listener http:80)"},
				{Pool: rsp, Address: "192.168.1.12:80", Weight: 0, State: providers.StateDrain, Health: providers.HealthUp, HealthDetail: "normal (listener http:80)"},
				{Pool: rsp, Address: "192.168.1.13:8080", Weight: 50, State: providers.StateReady, Health: providers.HealthUp, HealthDetail: "normal (listener http:80)"},
			},
		},
		"slb_pool_no_health_check": {
			replies: []reply{describe, {"DescribeHealthStatus", 200, "slb/describe_health_status_unavailable.json"}},
			op:      poolOp(rsp),
			want: []providers.Member{
				{Pool: rsp, Address: "192.168.1.11:80", Weight: 100, State: providers.StateReady, Health: providers.HealthUnknown, HealthDetail: "unavailable (listener tcp:80)"},
				{Pool: rsp, Address: "192.168.1.12:80", Weight: 0, State: providers.StateDrain, Health: providers.HealthUnknown, HealthDetail: "unavailable (listener tcp:80)"},
				{Pool: rsp, Address: "192.168.1.13:8080", Weight: 50, State: providers.StateReady, Health: providers.HealthUnknown, HealthDetail: "unavailable (listener tcp:80)"},
			},
		},
		"slb_pool_health_error": {
			replies: []reply{describe, {"DescribeHealthStatus", 403, "slb/error_forbidden.json"}},
			op:      poolOp(rsp),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p": health of load balancer lb-jfakd****: DescribeHealthStatus: Forbidden.RAM: User not authorized to operate on the specified resource, or this API doesn't support RAM. (request id 7A3C9F1D-2B4E-4C6A-8D0F-1E2A3B4C5D6E)`,
		},
		"slb_pool_no_load_balancer_id": {
			replies: []reply{{"DescribeVServerGroupAttribute", 200, "slb/describe_vserver_group_attribute_no_lb.json"}},
			op:      poolOp(rsp),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p": DescribeVServerGroupAttribute named no LoadBalancerId, so its health cannot be read`,
		},
		"slb_pool_quoted_numbers": {
			// the older documented answers: quoted numbers, and health entries that
			// name the server by ServerId only
			replies: []reply{
				{"DescribeVServerGroupAttribute", 200, "slb/describe_vserver_group_attribute_quoted.json"},
				{"DescribeHealthStatus", 200, "slb/describe_health_status_quoted.json"},
			},
			op: poolOp(rsp),
			want: []providers.Member{
				{Pool: rsp, Address: "192.168.1.11:80", Weight: 100, State: providers.StateReady, Health: providers.HealthUp, HealthDetail: "normal (listener 80)"},
				{Pool: rsp, Address: "192.168.1.12:90", Weight: 0, State: providers.StateDrain, Health: providers.HealthDown, HealthDetail: "abnormal (listener 80)"},
			},
		},
		"slb_pool_no_server_ip": {
			replies: []reply{{"DescribeVServerGroupAttribute", 200, "slb/describe_vserver_group_attribute_no_ip.json"}},
			op:      poolOp(rsp),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p": backend server vm-233 port 80 has no ServerIp in the answer; nonstop matches members by IP address and port`,
		},
		"slb_pool_api_error": {
			replies: []reply{{"DescribeVServerGroupAttribute", 400, "slb/error_invalid_parameter.json"}},
			op:      poolOp("rsp-missing"),
			wantErr: `aliyun_slb.web: vServer group "rsp-missing": DescribeVServerGroupAttribute: InvalidParameter: The specified parameter "VServerGroupId" is not valid. (request id 5C5C4E1F-8B2C-4B5C-A0E4-3E1B5B6C7D8E)`,
		},
		"slb_pool_gateway_error": {
			replies: []reply{{"DescribeVServerGroupAttribute", 502, "slb/error_gateway.html"}},
			op:      poolOp(rsp),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p": DescribeVServerGroupAttribute: HTTP 502: <html>`,
		},
		"slb_set_weight": {
			replies: []reply{describe, {"SetVServerGroupAttribute", 200, "slb/set_vserver_group_attribute_50.json"}},
			op:      weightOp(rsp, "192.168.1.11:80", 50),
		},
		"slb_set_weight_eni": {
			replies: []reply{describe, {"SetVServerGroupAttribute", 200, "slb/set_vserver_group_attribute_50.json"}},
			op:      weightOp(rsp, "192.168.1.13:8080", 50),
		},
		"slb_set_weight_not_applied": {
			replies: []reply{describe, {"SetVServerGroupAttribute", 200, "slb/set_vserver_group_attribute_50.json"}},
			op:      weightOp(rsp, "192.168.1.11:80", 30),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" member 192.168.1.11:80 (vm-233): asked for weight 30, SLB answered weight 50`,
		},
		"slb_set_weight_signature_error": {
			replies: []reply{describe, {"SetVServerGroupAttribute", 400, "slb/error_signature.json"}},
			op:      weightOp(rsp, "192.168.1.11:80", 50),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" member 192.168.1.11:80 (vm-233): set weight 50: SetVServerGroupAttribute: SignatureDoesNotMatch: Specified signature is not matched with our calculation. (request id 0B2D4C5E-1F2A-4B3C-9D8E-7F6A5B4C3D2E)`,
		},
		"slb_set_weight_out_of_range": {
			op:      weightOp(rsp, "192.168.1.11:80", 101),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" member 192.168.1.11:80: weight 101 cannot be expressed: Alibaba Cloud server weights go from 0 to 100`,
		},
		"slb_set_weight_unknown_address": {
			replies: []reply{describe},
			op:      weightOp(rsp, "192.168.1.99:80", 50),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" has no backend server with address 192.168.1.99:80`,
		},
		"slb_set_weight_bad_address": {
			op:      weightOp(rsp, "192.168.1.11", 50),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" member 192.168.1.11: address "192.168.1.11" is not host:port`,
		},
		"slb_drain": {
			replies: []reply{describe, {"SetVServerGroupAttribute", 200, "slb/set_vserver_group_attribute_0.json"}},
			op:      stateOp(rsp, "192.168.1.11:80", providers.StateDrain),
		},
		"slb_maint_already_zero": {
			replies: []reply{describe},
			op:      stateOp(rsp, "192.168.1.12:80", providers.StateMaint),
		},
		"slb_ready_nonzero": {
			replies: []reply{describe},
			op:      stateOp(rsp, "192.168.1.11:80", providers.StateReady),
		},
		"slb_ready_zero": {
			replies: []reply{describe},
			op:      stateOp(rsp, "192.168.1.12:80", providers.StateReady),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" member 192.168.1.12:80: cannot make it ready: its weight is 0 and the load balancer has no administrative state to restore a weight from; set a weight from 1 to 100 instead`,
		},
		"slb_down": {
			op:      stateOp(rsp, "192.168.1.11:80", providers.StateDown),
			wantErr: `aliyun_slb.web: vServer group "rsp-cige6j5e7p" member 192.168.1.11:80: the load balancer cannot force a server down (only its health check marks servers unhealthy); use drain or maint, which set weight 0`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakeAPI(t, tc.replies...)
			runBalancerCase(t, name, tc, newTestSLB(t, f), f)
		})
	}
}
