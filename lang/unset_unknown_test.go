package lang

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

// unsetSecrets is a configuration whose secrets, state DSN and even version and
// addresses come from variables without defaults, as validate sees it in CI.
const unsetSecrets = `
nonstop {
  state "postgres" { dsn = var.state_dsn }
}
variable "state_dsn" {
  type      = string
  sensitive = true
}
variable "nacos_password" { sensitive = true }
variable "f5_password" { type = string }
variable "aliyun_key_id" { type = string }
variable "aliyun_key_secret" { type = string }
variable "version" { type = string }
variable "hosts" { type = list(string) }
variable "weight" { type = number }
locals {
  password = "${var.nacos_password}"
}
provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
  username  = "nacos"
  password  = local.password
}
provider "f5" "dc1" {
  url      = "https://bigip.example.internal"
  username = "admin"
  password = var.f5_password
}
provider "aliyun_slb" "web" {
  region            = "cn-shanghai"
  access_key_id     = var.aliyun_key_id
  access_key_secret = var.aliyun_key_secret
}
service "web" {
  version  = var.version
  registry { provider = nacos.prod }
  group "a" { instances = var.hosts }
  group "b" { instances = ["127.0.0.1:18082"] }
  balancer "f5" {
    provider = f5.dc1
    pool     = "web"
    weight   = var.weight
  }
  balancer "slb" {
    provider = aliyun_slb.web
    pool     = "rsp-1"
  }
  strategy "rolling" { batch = "group" }
  deploy { command = ["./deploy.sh", instance.host, version] }
}
`

// TestUnsetUnknown checks that with UnsetUnknown (validate) variables without a
// value are unknown, not errors, while plan and apply keep requiring them.
func TestUnsetUnknown(t *testing.T) {
	files := map[string][]byte{"main.ns.hcl": []byte(unsetSecrets)}
	noEnv := func(string) (string, bool) { return "", false }

	cfg, ds := LoadFiles("", files, LoadOptions{Getenv: noEnv, UnsetUnknown: true})
	if len(ds) > 0 {
		t.Fatalf("validate reported:\n%s", ds.Error())
	}
	if v := cfg.Variables["state_dsn"].Value; v.IsKnown() || !v.Type().Equals(cty.String) {
		t.Errorf("var.state_dsn = %#v, want an unknown string", v)
	}
	if got := cfg.SensitiveValues(); len(got) != 0 {
		t.Errorf("sensitive values %q from unknown variables", got)
	}

	_, ds = LoadFiles("", files, LoadOptions{Getenv: noEnv})
	var unset []string
	for _, d := range ds.Errs() {
		if d.Summary != "Required variable not set" {
			t.Errorf("unexpected error: %s", d.Error())
		}
		unset = append(unset, strings.Fields(d.Detail)[2])
	}
	if len(unset) != 8 {
		t.Errorf("plan reported %d unset variables (%v), want 8", len(unset), unset)
	}

	// A value that is set is still checked.
	_, ds = LoadFiles("", files, LoadOptions{Getenv: noEnv, UnsetUnknown: true, Vars: []string{"weight=heavy"}})
	if len(ds.Errs()) != 1 || ds.Errs()[0].Summary != "Invalid value for variable" {
		t.Errorf("a bad -var with UnsetUnknown: %v", ds.Error())
	}
}
