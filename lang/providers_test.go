package lang

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

// TestProviderAttrs checks that every attribute of every kind is present, with
// defaults filled in, and that the sensitive ones are marked.
func TestProviderAttrs(t *testing.T) {
	cfg := loadValid(t, "language_example.ns.hcl")
	str := cty.StringVal
	want := map[ProviderRef]*Provider{
		{"nacos", "prod"}: {Ref: ProviderRef{"nacos", "prod"}, Class: ClassRegistry, Attrs: map[string]cty.Value{
			"addresses": strs("127.0.0.1:8848"), "namespace": str("public"), "username": str(""), "password": str(""),
			"propagation": str("30s"), "flavor": str("nacos"), "polaris_address": str(""), "timeout": str("5s"),
		}, Sensitive: map[string]bool{"password": true}},
		{"nginx", "edge"}: {Ref: ProviderRef{"nginx", "edge"}, Class: ClassBalancer, Attrs: map[string]cty.Value{
			"upstreams_file": str("/etc/nginx/conf.d/nonstop.conf"), "test": strs("nginx", "-t"), "reload": strs("nginx", "-s", "reload"),
		}},
		{"haproxy", "lb"}: {Ref: ProviderRef{"haproxy", "lb"}, Class: ClassBalancer, Attrs: map[string]cty.Value{
			"runtime_api": str("unix:///run/haproxy/admin.sock"), "routes_map": str(""), "routes_ip_map": str(""), "timeout": str("5s"),
		}},
		{"f5", "dc1"}: {Ref: ProviderRef{"f5", "dc1"}, Class: ClassBalancer, Attrs: map[string]cty.Value{
			"url": str("https://bigip.example.internal"), "username": str(""), "password": str(""),
			"partition": str("Common"), "insecure_skip_verify": cty.False,
		}, Sensitive: map[string]bool{"password": true}},
		{"aliyun_slb", "web"}: {Ref: ProviderRef{"aliyun_slb", "web"}, Class: ClassBalancer, Attrs: map[string]cty.Value{
			"region": str("cn-shanghai"), "access_key_id": str(""), "access_key_secret": str(""), "endpoint": str(""),
		}, Sensitive: map[string]bool{"access_key_id": true, "access_key_secret": true}},
	}
	if diff := cmp.Diff(want, cfg.Providers, cmpConfig...); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	for kind, ps := range ProviderSchemas {
		for name, as := range ps.Attributes {
			if !as.Required && as.Default == cty.NilVal {
				t.Errorf("%s.%s is optional but has no default", kind, name)
			}
		}
	}
}

// TestSensitive checks redaction of provider attributes and the list of
// sensitive values (providers, state, variables), longest first.
func TestSensitive(t *testing.T) {
	cfg := loadValid(t, "canary.ns.hcl")
	red := cfg.Providers[ProviderRef{"nacos", "prod"}].Redacted()
	if got := red["password"]; !got.RawEquals(cty.StringVal("(sensitive value)")) {
		t.Errorf("redacted password = %#v", got)
	}
	if got := red["namespace"]; !got.RawEquals(cty.StringVal("payments")) {
		t.Errorf("redacted namespace = %#v", got)
	}
	if got := cfg.Providers[ProviderRef{"nacos", "prod"}].Attrs["password"]; !got.RawEquals(cty.StringVal("nacos-pass")) {
		t.Errorf("Redacted changed the provider's own attrs: password = %#v", got)
	}
	want := []string{"postgres://nonstop:s3cret@127.0.0.1:5432/nonstop", "nacos-pass", "tok-123456"}
	if diff := cmp.Diff(want, cfg.SensitiveValues()); diff != "" {
		t.Errorf("SensitiveValues (-want +got):\n%s", diff)
	}
	bg := loadValid(t, "blue_green.ns.hcl")
	want = []string{"f5-default-pass", "LTAI-test-id", "test-secret"}
	if diff := cmp.Diff(want, bg.SensitiveValues()); diff != "" {
		t.Errorf("SensitiveValues (-want +got):\n%s", diff)
	}
}

// TestNonstopBlock checks required_version and the state backends.
func TestNonstopBlock(t *testing.T) {
	tests := map[string]*Nonstop{
		"canary.ns.hcl": {RequiredVersion: ">= 0.1.0, < 1.0.0", State: &StateBackend{
			Kind: "postgres", Attrs: map[string]cty.Value{"dsn": cty.StringVal("postgres://nonstop:s3cret@127.0.0.1:5432/nonstop"), "workspace": cty.StringVal("default")},
			Sensitive: map[string]bool{"dsn": true},
		}},
		"language_example.ns.hcl": {RequiredVersion: ">= 0.1.0", State: &StateBackend{
			Kind: "local", Attrs: map[string]cty.Value{"path": cty.StringVal(".nonstop")},
		}},
		"minimal.ns.hcl": {State: &StateBackend{
			Kind: "local", Attrs: map[string]cty.Value{"path": cty.StringVal(".nonstop")},
		}},
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			if diff := cmp.Diff(want, loadValid(t, file).Nonstop, cmpConfig...); diff != "" {
				t.Errorf("nonstop (-want +got):\n%s", diff)
			}
		})
	}
}
