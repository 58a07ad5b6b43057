package lang

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
)

// TestGatewayRoutesDecode checks the decoded blocks: the group defaults to
// DEFAULT_GROUP, blocks keep their order, and a registry kind that holds no
// configuration is refused at the provider reference.
func TestGatewayRoutesDecode(t *testing.T) {
	RegisterProviderKind("testregistry", ProviderSchema{Class: ClassRegistry})
	t.Cleanup(func() { delete(ProviderSchemas, "testregistry") })
	src := `provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
}
provider "testregistry" "plain" {}
service "web" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:18081", "127.0.0.1:18082"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  gateway_routes "spring" {
    provider = nacos.prod
    data_id  = "web.routes.json"
    group    = "GATEWAY"
  }
  gateway_routes "nepxion" {
    provider = nacos.prod
    data_id  = "web.routes.json"
  }
  gateway_routes "plain" {
    provider = testregistry.plain
    data_id  = "web.routes.json"
  }
}
`
	cfg, ds := LoadFiles(t.TempDir(), map[string][]byte{"main.ns.hcl": []byte(src)}, LoadOptions{})
	var got []string
	for _, d := range ds.Errs() {
		got = append(got, fmt.Sprintf("%d: %s", d.Subject.Start.Line, d.Summary))
	}
	if diff := cmp.Diff([]string{"20: Provider cannot store configuration"}, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	nacos := ProviderRef{Kind: "nacos", Name: "prod"}
	want := []*GatewayRoutes{
		{Name: "spring", Provider: nacos, DataID: "web.routes.json", Group: "GATEWAY"},
		{Name: "nepxion", Provider: nacos, DataID: "web.routes.json", Group: DefaultConfigGroup},
		{Name: "plain", Provider: ProviderRef{Kind: "testregistry", Name: "plain"}, DataID: "web.routes.json", Group: DefaultConfigGroup},
	}
	if diff := cmp.Diff(want, cfg.Services["web"].GatewayRoutes, cmpopts.IgnoreTypes(hcl.Range{})); diff != "" {
		t.Errorf("gateway_routes (-want +got):\n%s", diff)
	}
}
