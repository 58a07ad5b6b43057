package lang

import (
	"fmt"
	"sort"
	"testing"
	"time"

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
			"runtime_api": str("unix:///run/haproxy/admin.sock"), "routes_map": str(""), "routes_ip_map": str(""), "routes_number_map": str(""), "timeout": str("5s"),
		}},
		{"f5", "dc1"}: {Ref: ProviderRef{"f5", "dc1"}, Class: ClassBalancer, Attrs: map[string]cty.Value{
			"url": str("https://bigip.example.internal"), "username": str(""), "password": str(""),
			"partition": str("Common"), "insecure_skip_verify": cty.False,
		}, Sensitive: map[string]bool{"password": true}},
		{"aliyun_slb", "web"}: {Ref: ProviderRef{"aliyun_slb", "web"}, Class: ClassBalancer, Attrs: map[string]cty.Value{
			"region": str("cn-shanghai"), "access_key_id": str(""), "access_key_secret": str(""), "endpoint": str(""),
			"security_token": str(""), "timeout": str("30s"),
		}, Sensitive: map[string]bool{"access_key_id": true, "access_key_secret": true, "security_token": true}},
	}
	if diff := cmp.Diff(want, cfg.Providers, cmpConfig...); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
}

// TestRegisterProviderKind checks that a kind registers once, with a schema that
// can work, and that its blocks are then validated against it: defaults filled
// in, its check run on the attributes the block sets.
func TestRegisterProviderKind(t *testing.T) {
	bad := map[string]ProviderSchema{
		"no class":             {Attributes: map[string]AttrSchema{}},
		"optional, no default": {Class: ClassBalancer, Attributes: map[string]AttrSchema{"a": {Type: cty.String}}},
		"required, a default":  {Class: ClassBalancer, Attributes: map[string]AttrSchema{"a": {Type: cty.String, Required: true, Default: cty.StringVal("x")}}},
		"default of a type":    {Class: ClassBalancer, Attributes: map[string]AttrSchema{"a": {Type: cty.Bool, Default: cty.StringVal("x")}}},
		"bad duration":         {Class: ClassBalancer, Attributes: map[string]AttrSchema{"a": DurationAttr("2h", time.Hour)}},
		"default not in enum":  {Class: ClassBalancer, Attributes: map[string]AttrSchema{"a": EnumAttr("c", "a", "b")}},
		"nacos":                {Class: ClassRegistry}, // registered by providers/nacos
	}
	for name, ps := range bad {
		t.Run(name, func(t *testing.T) {
			kind := "testkind_bad"
			if name == "nacos" {
				kind = name
			}
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterProviderKind(%q) did not panic", kind)
					delete(ProviderSchemas, kind)
				}
			}()
			RegisterProviderKind(kind, ps)
		})
	}

	RegisterProviderKind("testkind", ProviderSchema{
		Class: ClassBalancer,
		Attributes: map[string]AttrSchema{
			"url":   RequiredAttr(cty.String),
			"token": SecretAttr(),
			"wait":  DurationAttr("3s", time.Minute),
			"mode":  EnumAttr("fast", "fast", "slow"),
		},
		Check: func(b *ProviderBlock) {
			b.CheckHTTPURL("url")
			if b.Set("mode") && b.String("mode") == "slow" {
				b.Errorf("mode", "Slow mode", "The mode %q is slow.", b.String("mode"))
			}
		},
	})
	t.Cleanup(func() { delete(ProviderSchemas, "testkind") })
	src := `provider "testkind" "a" {
  url  = "ftp://x"
  mode = "slow"
  wait = "2m"
}
`
	cfg, ds := LoadFiles(t.TempDir(), map[string][]byte{"main.ns.hcl": []byte(src)}, LoadOptions{})
	var got []string
	for _, d := range ds.Errs() {
		got = append(got, fmt.Sprintf("%d: %s", d.Subject.Start.Line, d.Summary))
	}
	sort.Strings(got)
	want := []string{"2: Invalid URL", "3: Slow mode", "4: Duration out of range"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	p := cfg.Providers[ProviderRef{"testkind", "a"}]
	wantAttrs := map[string]cty.Value{"url": cty.StringVal("ftp://x"), "token": cty.StringVal(""),
		"wait": cty.StringVal("3s"), "mode": cty.StringVal("slow")}
	if diff := cmp.Diff(wantAttrs, p.Attrs, cmpConfig...); diff != "" {
		t.Errorf("attrs (-want +got):\n%s", diff)
	}
	if !p.Sensitive["token"] {
		t.Error("token is not sensitive")
	}
}

// TestWithDefaults checks the attributes a factory decodes: absent and null ones
// take the schema's defaults, others are kept as given.
func TestWithDefaults(t *testing.T) {
	ps := ProviderSchema{Class: ClassBalancer, Attributes: map[string]AttrSchema{
		"url": RequiredAttr(cty.String), "wait": DurationAttr("3s", time.Minute), "cmd": StringListAttr("a", "b"),
	}}
	got := ps.WithDefaults(map[string]cty.Value{"wait": cty.NullVal(cty.String), "extra": cty.True})
	want := map[string]cty.Value{"wait": cty.StringVal("3s"), "cmd": strs("a", "b"), "extra": cty.True}
	if diff := cmp.Diff(want, got, cmpConfig...); diff != "" {
		t.Errorf("WithDefaults (-want +got):\n%s", diff)
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
