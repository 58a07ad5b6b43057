package lang

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

const diffBase = `variable "order_version" {
  type    = string
  default = "1.4.2"
}

provider "nacos" "prod" {
  addresses = ["10.0.0.1:8848"]
  password  = "old-secret"
}

provider "nginx" "edge" {
  upstreams_file = "u.conf"
}

service "order" {
  version = var.order_version

  registry {
    provider = nacos.prod
  }

  group "a" { instances = ["10.0.1.1:8080"] }
  group "b" { instances = ["10.0.1.2:8080"] }

  balancer "http" {
    provider = nginx.edge
    pool     = "order"
    weight   = 1
  }

  strategy "canary" {
    step {
      weight = 5
      pause  = "2m"
    }
    step { weight = 100 }
  }

  deploy { command = ["./deploy.sh", instance.address, version] }
}

service "legacy" {
  version = "0.9"
  group "a" { instances = ["10.0.2.1:8080"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
`

// diffHead bumps the version through the variable's default, adds an instance to
// group b, raises the balancer weight, adds a canary step and a route, changes the
// registry's addresses and password, and removes service legacy.
var diffHead = strings.NewReplacer(
	`default = "1.4.2"`, `default = "1.5.0"`,
	`addresses = ["10.0.0.1:8848"]`, `addresses = ["10.0.0.2:8848"]`,
	`password  = "old-secret"`, `password  = "new-secret"`,
	`group "b" { instances = ["10.0.1.2:8080"] }`, `group "b" { instances = ["10.0.1.2:8080", "10.0.1.3:8080"] }`,
	"    weight   = 1\n", "    weight   = 2\n",
	"    step { weight = 100 }\n", "    step { weight = 25 }\n    step { weight = 100 }\n",
	"  deploy { command = [\"./deploy.sh\"", "  route \"beta\" {\n    match { header = { \"X-Beta\" = \"1\" } }\n    version = \"1.5.0\"\n  }\n\n  deploy { command = [\"./deploy.sh\"",
).Replace(diffBase)

func loadDiffConfig(t *testing.T, src string) *Config {
	t.Helper()
	cfg, ds := LoadFiles("deploy", map[string][]byte{"main.ns.hcl": []byte(src)}, LoadOptions{Getenv: func(string) (string, bool) { return "", false }})
	if ds.HasErrors() {
		t.Fatalf("load: %v", ds)
	}
	return cfg
}

func TestDiffConfigsByMeaning(t *testing.T) {
	base, head := loadDiffConfig(t, diffBase), loadDiffConfig(t, strings.Replace(diffHead, `service "legacy" {
  version = "0.9"
  group "a" { instances = ["10.0.2.1:8080"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
`, "", 1))
	var got []string
	for _, c := range DiffConfigs(base, head) {
		got = append(got, c.String())
	}
	want := []string{
		`~ service order version "1.4.2" → "1.5.0" (deploy/main.ns.hcl:3)`,
		`~ service order group b [10.0.1.2:8080] → [10.0.1.2:8080, 10.0.1.3:8080] (deploy/main.ns.hcl:23)`,
		`~ service order balancer http weight 1 → 2 (deploy/main.ns.hcl:28)`,
		`~ service order strategy canary 5% pause 2m → 100% → canary 5% pause 2m → 25% → 100% (deploy/main.ns.hcl:36)`,
		`+ service order route beta version "1.5.0" match header={X-Beta=1} (deploy/main.ns.hcl:40)`,
		`- service legacy version "0.9" (deploy/main.ns.hcl:42 (base))`,
		`~ provider nacos.prod addresses ["10.0.0.1:8848"] → ["10.0.0.2:8848"] (deploy/main.ns.hcl:7)`,
		`~ provider nacos.prod password (sensitive value) → (sensitive value, changed) (deploy/main.ns.hcl:8)`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DiffConfigs (-want +got):\n%s", d)
	}
	for _, line := range got {
		if strings.Contains(line, "secret") {
			t.Errorf("a sensitive value is shown: %s", line)
		}
	}
	if d := DiffConfigs(base, base); len(d) != 0 {
		t.Errorf("a configuration differs from itself: %v", d)
	}
}

// TestDiffConfigsWhere: a version set by -var points at the setting (no line of
// the files changed); a new configuration lists its services as created.
func TestDiffConfigsWhere(t *testing.T) {
	base := loadDiffConfig(t, diffBase)
	head := loadDiffConfig(t, diffBase)
	head.Services["order"].Version = "2.0.0" // as -var order_version=2.0.0 would
	got := DiffConfigs(base, head)
	if len(got) != 1 || got[0].String() != `~ service order version "1.4.2" → "2.0.0" (deploy/main.ns.hcl:16)` {
		t.Errorf("DiffConfigs = %v", got)
	}
	created := DiffConfigs(nil, base)
	if len(created) != 4 || created[0].String() != `+ service order version "1.4.2" (deploy/main.ns.hcl:15)` {
		t.Errorf("DiffConfigs from nothing = %v", created)
	}
}

func TestInsertedLines(t *testing.T) {
	a := strings.Split("a\nb\nc\nd\ne", "\n")
	b := strings.Split("a\nB\nc\nx\nd\ne\nf", "\n")
	if d := cmp.Diff(map[int]bool{2: true, 4: true, 7: true}, insertedLines(a, b)); d != "" {
		t.Errorf("insertedLines (-want +got):\n%s", d)
	}
}

func TestParseVariableValue(t *testing.T) {
	v, err := ParseVariableValue(cty.List(cty.String), `["a", "b"]`)
	if err != nil || !v.RawEquals(cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})) {
		t.Errorf("list = %#v, %v", v, err)
	}
	if v, err := ParseVariableValue(cty.String, "1.0"); err != nil || !v.RawEquals(cty.StringVal("1.0")) {
		t.Errorf("string = %#v, %v", v, err)
	}
	if _, err := ParseVariableValue(cty.Number, "x"); err == nil {
		t.Error("a number variable took \"x\"")
	}
}
