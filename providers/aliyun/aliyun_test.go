package aliyun

import (
	"testing"
	"time"

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
	attrs := func(region, id, secret, endpoint string, more ...string) map[string]cty.Value {
		m := map[string]cty.Value{
			"region": cty.StringVal(region), "access_key_id": cty.StringVal(id),
			"access_key_secret": cty.StringVal(secret), "endpoint": cty.StringVal(endpoint),
		}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i]] = cty.StringVal(more[i+1])
		}
		return m
	}
	cases := map[string]struct {
		kind     string
		attrs    map[string]cty.Value
		env      [2]string
		endpoint string // wanted endpoint
		creds    string // wanted credential source
		keyID    string // of a static source
		timeout  time.Duration
		wantErr  string
	}{
		"slb default endpoint": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", ""),
			endpoint: "https://slb.aliyuncs.com", creds: "static_ak", keyID: "id", timeout: 30 * time.Second},
		"alb default endpoint": {kind: KindALB, attrs: attrs("cn-shanghai", "id", "secret", ""),
			endpoint: "https://alb.cn-shanghai.aliyuncs.com", creds: "static_ak", keyID: "id", timeout: 30 * time.Second},
		"endpoint override": {kind: KindALB, attrs: attrs("cn-shanghai", "id", "secret", "http://127.0.0.1:8080/"),
			endpoint: "http://127.0.0.1:8080", creds: "static_ak", keyID: "id", timeout: 30 * time.Second},
		"timeout": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", "", "timeout", "5s"),
			endpoint: "https://slb.aliyuncs.com", creds: "static_ak", keyID: "id", timeout: 5 * time.Second},
		"security token": {kind: KindSLB, attrs: attrs("cn-shanghai", "STS.id", "secret", "", "security_token", "token"),
			endpoint: "https://slb.aliyuncs.com", creds: "static_sts", keyID: "STS.id", timeout: 30 * time.Second},
		// No key in the block: the chain is asked at the first call, not here
		// (it would find the environment's).
		"no keys: default chain": {kind: KindSLB, attrs: attrs("cn-shanghai", "", "", ""), env: [2]string{"env-id", "env-secret"},
			endpoint: "https://slb.aliyuncs.com", creds: "default chain", timeout: 30 * time.Second},
		"no keys anywhere": {kind: KindALB, attrs: attrs("cn-shanghai", "", "", ""),
			endpoint: "https://alb.cn-shanghai.aliyuncs.com", creds: "default chain", timeout: 30 * time.Second},
		"half a key: the other half from the environment": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "", ""), env: [2]string{"env-id", "env-secret"},
			endpoint: "https://slb.aliyuncs.com", creds: "static_ak", keyID: "id", timeout: 30 * time.Second},
		"attribute wins over environment": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", ""), env: [2]string{"env-id", "env-secret"},
			endpoint: "https://slb.aliyuncs.com", creds: "static_ak", keyID: "id", timeout: 30 * time.Second},
		"half a key, nothing in the environment": {kind: KindSLB, attrs: attrs("cn-shanghai", "", "secret", ""),
			wantErr: "aliyun_slb.lb: access_key_id and access_key_secret go together (or set neither and let the default credential chain find them): one is set, the other is empty and ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET is not in the environment"},
		"token without key": {kind: KindALB, attrs: attrs("cn-shanghai", "", "", "", "security_token", "token"),
			wantErr: "aliyun_alb.lb: security_token is the STS token of an AccessKey: set access_key_id and access_key_secret with it"},
		"no region": {kind: KindALB, attrs: attrs("", "id", "secret", ""),
			wantErr: `aliyun_alb.lb: region is required (a region ID such as "cn-shanghai")`},
		"endpoint with path": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", "https://slb.aliyuncs.com/api"),
			wantErr: `aliyun_slb.lb: endpoint: "https://slb.aliyuncs.com/api" must be the endpoint address only, like https://slb.aliyuncs.com`},
		"endpoint not a url": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", "slb.aliyuncs.com"),
			wantErr: `aliyun_slb.lb: endpoint: "slb.aliyuncs.com" must be an http:// or https:// URL with a host`},
		"zero timeout": {kind: KindSLB, attrs: attrs("cn-shanghai", "id", "secret", "", "timeout", "0s"),
			wantErr: "aliyun_slb.lb: timeout: must be positive"},
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
			if got := rpc.creds.kind(); got != tc.creds {
				t.Errorf("credentials %s, want %s", got, tc.creds)
			}
			if rpc.creds.static != nil && rpc.creds.static.id != tc.keyID {
				t.Errorf("access key id %q, want %q", rpc.creds.static.id, tc.keyID)
			}
			if rpc.timeout != tc.timeout {
				t.Errorf("timeout %s, want %s", rpc.timeout, tc.timeout)
			}
		})
	}
}
