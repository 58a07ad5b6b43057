package aliyun

import (
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

func TestRegistered(t *testing.T) {
	for _, kind := range []string{KindSLB, KindALB} {
		if _, ok := providers.Lookup(kind); !ok {
			t.Errorf("kind %s is not registered", kind)
		}
	}
}

func TestNew(t *testing.T) {
	attrs := func(region, id, secret, endpoint string) map[string]cty.Value {
		return map[string]cty.Value{
			"region": cty.StringVal(region), "access_key_id": cty.StringVal(id),
			"access_key_secret": cty.StringVal(secret), "endpoint": cty.StringVal(endpoint),
		}
	}
	cases := map[string]struct {
		kind     string
		attrs    map[string]cty.Value
		env      [2]string
		endpoint string // wanted endpoint
		keyID    string
		wantErr  string
	}{
		"slb default endpoint": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", ""), endpoint: "https://slb.aliyuncs.com", keyID: "id"},
		"alb default endpoint": {kind: KindALB, attrs: attrs("cn-shanghai", "id", "secret", ""), endpoint: "https://alb.cn-shanghai.aliyuncs.com", keyID: "id"},
		"endpoint override":    {kind: KindALB, attrs: attrs("cn-shanghai", "id", "secret", "http://127.0.0.1:8080/"), endpoint: "http://127.0.0.1:8080", keyID: "id"},
		"keys from environment": {kind: KindSLB, attrs: attrs("cn-shanghai", "", "", ""), env: [2]string{"env-id", "env-secret"},
			endpoint: "https://slb.aliyuncs.com", keyID: "env-id"},
		"attribute wins over environment": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", ""), env: [2]string{"env-id", "env-secret"},
			endpoint: "https://slb.aliyuncs.com", keyID: "id"},
		"no keys": {kind: KindSLB, attrs: attrs("cn-shanghai", "", "", ""),
			wantErr: "aliyun_slb.lb: access_key_id and access_key_secret are required (or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET in the environment): Alibaba Cloud answers no unsigned request"},
		"no region": {kind: KindALB, attrs: attrs("", "id", "secret", ""),
			wantErr: `aliyun_alb.lb: region is required (a region ID such as "cn-shanghai")`},
		"endpoint with path": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", "https://slb.aliyuncs.com/api"),
			wantErr: `aliyun_slb.lb: endpoint: "https://slb.aliyuncs.com/api" must be the endpoint address only, like https://slb.aliyuncs.com`},
		"endpoint not a url": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", "slb.aliyuncs.com"),
			wantErr: `aliyun_slb.lb: endpoint: "slb.aliyuncs.com" must be an http:// or https:// URL with a host`},
		"unknown attribute": {kind: KindSLB, attrs: map[string]cty.Value{"zone": cty.StringVal("x")},
			wantErr: "aliyun_slb.lb: zone: unknown attribute"},
		"wrong type": {kind: KindSLB, attrs: map[string]cty.Value{"region": cty.NumberIntVal(1)},
			wantErr: "aliyun_slb.lb: region: must be a string"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(envKeyID, tc.env[0])
			t.Setenv(envKeySecret, tc.env[1])
			f, _ := providers.Lookup(tc.kind)
			p, err := f.New(providers.Settings{Name: "lb", Attrs: tc.attrs})
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var rpc *rpcClient
			switch p := p.(type) {
			case *SLB:
				rpc = p.rpc
			case *ALB:
				rpc = p.rpc
			}
			if p.Kind() != tc.kind || p.Name() != "lb" {
				t.Errorf("provider %s.%s", p.Kind(), p.Name())
			}
			if got := rpc.endpoint.String(); got != tc.endpoint {
				t.Errorf("endpoint %s, want %s", got, tc.endpoint)
			}
			if rpc.keyID != tc.keyID {
				t.Errorf("access key id %q, want %q", rpc.keyID, tc.keyID)
			}
		})
	}
}
