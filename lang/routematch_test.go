package lang

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNumericRoutes checks how numeric comparisons decode: bounds normalised to
// [GTE, LT), gt and lte shifted by one, strings converted, comparisons sorted by
// source and name next to the header values and client IPs.
func TestNumericRoutes(t *testing.T) {
	cfg := loadValid(t, "routes_numeric.ns.hcl")
	got := map[string]RouteMatch{}
	for _, name := range []string{"orders", "accounts"} {
		for _, r := range cfg.Services[name].Routes {
			got[r.Name] = r.Match
		}
	}
	want := map[string]RouteMatch{
		"new-records":   {Numbers: []NumberMatch{{Source: "query", Name: "id", GTE: 5000000}}},
		"early-records": {Numbers: []NumberMatch{{Source: "query", Name: "id", GTE: 1, LT: 1000}}},
		"tenants":       {Numbers: []NumberMatch{{Source: "header", Name: "X-Tenant-Id", GTE: 100, LT: 200}}},
		"beta-low-uids": {ClientIP: []string{"10.8.0.0/16"}, Header: map[string]string{"X-Beta": "1"},
			Numbers: []NumberMatch{{Source: "cookie", Name: "uid", GTE: 1000, LT: 2000}, {Source: "header", Name: "X-Shard", LT: 8}}},
	}
	if diff := cmp.Diff(want, got, cmpConfig...); diff != "" {
		t.Errorf("route matches (-want +got):\n%s", diff)
	}
	n := got["beta-low-uids"].Numbers[0]
	if n.DeclRange.Start.Line != 83 || n.DeclRange.Filename == "" {
		t.Errorf("comparison range %s, want line 83 of the file", n.DeclRange)
	}
	for m, s := range map[NumberMatch]string{
		{Source: "query", Name: "id", GTE: 5}:        "query id>=5",
		{Source: "cookie", Name: "uid", LT: 7}:       "cookie uid<7",
		{Source: "header", Name: "X", GTE: 1, LT: 3}: "header 1<=X<3",
	} {
		if m.String() != s {
			t.Errorf("%+v prints %q, want %q", m, m.String(), s)
		}
	}
}

// TestNumericRoutesFromVariables checks comparisons given by expressions, not
// literally: a whole map from a variable, and a comparison object from a local.
func TestNumericRoutesFromVariables(t *testing.T) {
	src := []byte(`
variable "ranges" {
  type    = map(object({ gte = number }))
  default = { id = { gte = 42 } }
}
locals {
  tenants = { lt = 10 }
}
service "s" {
  version = "1.0.0"
  group "a" { instances = ["127.0.0.1:1"] }
  group "b" { instances = ["127.0.0.1:2"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
  route "r" {
    match {
      query  = var.ranges
      header = merge({ "X-Beta" = 1 }, { "X-Tenant" = local.tenants })
    }
    version = "2.0.0"
  }
}
`)
	cfg, d := LoadFiles("", map[string][]byte{"a.ns.hcl": src}, LoadOptions{Getenv: testEnv})
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	want := RouteMatch{Header: map[string]string{"X-Beta": "1"},
		Numbers: []NumberMatch{{Source: "header", Name: "X-Tenant", LT: 10}, {Source: "query", Name: "id", GTE: 42}}}
	if diff := cmp.Diff(want, cfg.Services["s"].Routes[0].Match, cmpConfig...); diff != "" {
		t.Errorf("match (-want +got):\n%s", diff)
	}
}
