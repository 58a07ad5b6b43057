package nacos

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/providers"
)

func TestDecodeConfig(t *testing.T) {
	str := cty.StringVal
	local := cty.ListVal([]cty.Value{str("127.0.0.1:8848")})
	tests := map[string]struct {
		attrs   map[string]cty.Value
		want    Config
		wantErr string
	}{
		"defaults": {
			attrs: map[string]cty.Value{"addresses": local},
			want: Config{Addresses: []string{"127.0.0.1:8848"}, Namespace: "public",
				Propagation: 30 * time.Second, Flavor: "nacos", Timeout: 5 * time.Second},
		},
		"null attributes take defaults": {
			attrs: map[string]cty.Value{"addresses": local, "namespace": cty.NullVal(cty.String), "username": cty.NullVal(cty.String)},
			want: Config{Addresses: []string{"127.0.0.1:8848"}, Namespace: "public",
				Propagation: 30 * time.Second, Flavor: "nacos", Timeout: 5 * time.Second},
		},
		"everything": {
			attrs: map[string]cty.Value{
				"addresses":   cty.TupleVal([]cty.Value{str("http://10.0.0.1:8848/nacos"), str("10.0.0.2:8848")}),
				"namespace":   str("prod"),
				"username":    str("nacos"),
				"password":    str("pw"),
				"propagation": str("2s"),
				"flavor":      str("polaris"),
				"timeout":     cty.NumberIntVal(3),
			},
			want: Config{Addresses: []string{"10.0.0.1:8848", "10.0.0.2:8848"}, Namespace: "prod",
				Username: "nacos", Password: "pw", Propagation: 2 * time.Second, Flavor: "polaris",
				PolarisAddress: "10.0.0.1:8090", Timeout: 3 * time.Second},
		},
		"explicit polaris address": {
			attrs: map[string]cty.Value{"addresses": local, "flavor": str("polaris"), "polaris_address": str("http://127.0.0.1:9090/")},
			want: Config{Addresses: []string{"127.0.0.1:8848"}, Namespace: "public", Propagation: 30 * time.Second,
				Flavor: "polaris", PolarisAddress: "127.0.0.1:9090", Timeout: 5 * time.Second},
		},
		"one address as a string": {
			attrs: map[string]cty.Value{"addresses": str("10.0.0.9:8848")},
			want: Config{Addresses: []string{"10.0.0.9:8848"}, Namespace: "public",
				Propagation: 30 * time.Second, Flavor: "nacos", Timeout: 5 * time.Second},
		},
		"bad flavor":        {attrs: map[string]cty.Value{"addresses": local, "flavor": str("consul")}, wantErr: `flavor "consul" is not one of "nacos" or "polaris"`},
		"bad duration":      {attrs: map[string]cty.Value{"addresses": local, "propagation": str("soon")}, wantErr: `propagation "soon" is not a positive duration like "30s" or "5m"`},
		"bad address":       {attrs: map[string]cty.Value{"addresses": cty.ListVal([]cty.Value{str("nacos")})}, wantErr: `addresses[0] "nacos" is not host:port`},
		"no addresses":      {attrs: map[string]cty.Value{"addresses": cty.ListValEmpty(cty.String)}, wantErr: "addresses must list at least one host:port"},
		"addresses absent":  {attrs: map[string]cty.Value{}, wantErr: "addresses is required"},
		"password alone":    {attrs: map[string]cty.Value{"addresses": local, "password": str("pw")}, wantErr: "password is set but username is not"},
		"namespace not str": {attrs: map[string]cty.Value{"addresses": local, "namespace": cty.True}, wantErr: "namespace must be a string, not bool"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := decodeConfig(tc.attrs)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decodeConfig (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewNamesTheProvider checks that a bad block's error names the provider.
func TestNewNamesTheProvider(t *testing.T) {
	_, err := New(providers.Settings{Name: "prod", Attrs: map[string]cty.Value{
		"addresses": cty.ListVal([]cty.Value{cty.StringVal("127.0.0.1:8848")}), "flavor": cty.StringVal("x")}})
	if err == nil || err.Error() != `nacos.prod: flavor "x" is not one of "nacos" or "polaris"` {
		t.Fatalf("error = %v", err)
	}
}

// TestDecodeCatalog decodes a page of real Nacos 2.x's console listing (the shape
// CatalogController.instanceList returns; this machine has no real Nacos to ask).
func TestDecodeCatalog(t *testing.T) {
	raw, err := os.ReadFile("testdata/catalog_instances.json")
	if err != nil {
		t.Fatal(err)
	}
	list, count, err := decodeCatalogPage(raw)
	if err != nil {
		t.Fatal(err)
	}
	svc := providers.ServiceKey{Service: "order-service", Group: "DEFAULT_GROUP"}
	var got []providers.Instance
	for _, in := range list {
		got = append(got, fromNacos(in, svc))
	}
	base := providers.Instance{Service: "order-service", Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}
	a, b, c := base, base, base
	a.Address, a.Enabled, a.Weight, a.Healthy = "127.0.0.1:18081", true, 1, true
	a.Metadata = map[string]string{"version": "1.4.2", "preserved.register.source": "SPRING_CLOUD"}
	a.Version, a.VersionKnown = "1.4.2", true
	b.Address, b.Enabled, b.Weight, b.Healthy = "127.0.0.1:18082", false, 0.5, false
	b.Metadata, b.Version, b.VersionKnown = map[string]string{"version": "1.5.0"}, "1.5.0", true
	c.Address, c.Enabled, c.Weight, c.Healthy = "127.0.0.1:18083", true, 1, true
	want := []providers.Instance{a, b, c}
	if count != 3 {
		t.Errorf("count = %d, want 3", count)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestInstanceFormSendsEveryField checks the PUT form of flavor nacos: every field,
// metadata whole.
func TestInstanceFormSendsEveryField(t *testing.T) {
	n := NewWithConfig("t", Config{Addresses: []string{"127.0.0.1:8848"}, Namespace: "prod"}, nil)
	form, err := n.instanceForm(providers.ServiceKey{Service: "order-service", Group: "G1"}, nacosInstance{
		IP: "10.0.0.1", Port: 8080, Weight: 2.5, Healthy: true, Enabled: false, Ephemeral: true,
		ClusterName: "EAST", Metadata: map[string]string{"version": "1.4.2", "zone": "a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"serviceName": "G1@@order-service", "groupName": "G1", "namespaceId": "prod", "clusterName": "EAST",
		"ip": "10.0.0.1", "port": "8080", "ephemeral": "true", "enabled": "false", "healthy": "true",
		"weight": "2.5", "metadata": `{"version":"1.4.2","zone":"a"}`,
	}
	got := map[string]string{}
	for k := range form {
		got[k] = form.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
}
