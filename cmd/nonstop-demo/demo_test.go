package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/lang"

	// The provider kinds the examples use.
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)

// TestExamplesMatchTheirFleet loads every example and checks that the fleet
// `make demo EXAMPLE=NAME` starts for it has its service, registry group, groups
// (with as many instances as the defaults) and balancer pools, that the fleet's
// version is not the release, and that every variable the fleet sets exists.
func TestExamplesMatchTheirFleet(t *testing.T) {
	for name, ex := range examples {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "examples", name)
			cfg, ds := lang.LoadDir(dir, lang.LoadOptions{})
			if ds.HasErrors() {
				t.Fatalf("load: %v", ds.Err())
			}
			svc := cfg.Services[ex.service]
			if svc == nil {
				t.Fatalf("no service %q", ex.service)
			}
			group := ex.registryGroup
			if group == "" {
				group = "DEFAULT_GROUP"
			}
			if svc.Registry == nil || svc.Registry.Group != group {
				t.Errorf("registry %+v, want group %s", svc.Registry, group)
			}
			var got, want []string
			for _, g := range svc.Groups {
				got = append(got, g.Name+"="+itoa(len(g.Instances)))
			}
			for _, g := range ex.groups {
				want = append(want, g.Name+"="+itoa(g.Size))
			}
			if !slices.Equal(got, want) {
				t.Errorf("groups %v, want %v", got, want)
			}
			pools := map[string]string{}
			for _, b := range svc.Balancers {
				pools[b.Provider.Kind] = b.Pool
			}
			if pools["nginx"] != ex.nginxPool || pools["haproxy"] != ex.haproxy || len(pools) != len(slices.DeleteFunc([]string{ex.nginxPool, ex.haproxy}, func(s string) bool { return s == "" })) {
				t.Errorf("pools %v, want nginx %q haproxy %q", pools, ex.nginxPool, ex.haproxy)
			}
			if svc.Version != ex.to || ex.from == ex.to {
				t.Errorf("version %s, fleet from %s to %s", svc.Version, ex.from, ex.to)
			}
			text, err := os.ReadFile(filepath.Join(dir, "main.ns.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			declared := demo.DeclaredVariables(text)
			need := []string{"nacos", "polaris", "deploy_env"}
			if ex.nginxPool != "" {
				need = append(need, "upstreams_file", "nginx_test", "nginx_reload")
			}
			if ex.haproxy != "" {
				need = append(need, "haproxy_api")
			}
			for _, g := range ex.groups {
				need = append(need, "group_"+g.Name)
			}
			if ex.analysis {
				need = append(need, "analysis_url")
			}
			for v := range ex.vars {
				need = append(need, v)
			}
			for _, v := range need {
				if !declared[v] {
					t.Errorf("variable %s is not declared", v)
				}
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestStoryConfigs renders every phase's configuration of examples/demo and
// loads it.
func TestStoryConfigs(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "examples", "demo", "main.ns.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range storyPhases("http://127.0.0.1:9/api/v1/query") {
		out := text
		if p.strategy != "" {
			if out, err = demo.WithStrategy(text, p.strategy, p.extra); err != nil {
				t.Fatalf("%s: %v", p.title, err)
			}
		}
		if p.standbyFirst {
			if out, err = declareFirst(out, "b"); err != nil {
				t.Fatalf("%s: %v", p.title, err)
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.ns.hcl"), out, 0o644); err != nil {
			t.Fatal(err)
		}
		vars := append([]string{"order_version=" + p.to, "haproxy_routes_map=/tmp/r.map"}, p.vars...)
		cfg, ds := lang.LoadDir(dir, lang.LoadOptions{Vars: vars})
		if ds.HasErrors() {
			t.Fatalf("%s: %v\n%s", p.title, ds.Err(), out)
		}
		svc := cfg.Services[storyService]
		if p.standbyFirst && svc.Groups[0].Name != "b" {
			t.Errorf("%s: groups start with %s, want b", p.title, svc.Groups[0].Name)
		}
		if p.beta && (len(svc.Routes) != 1 || len(svc.Analyses) != 1) {
			t.Errorf("%s: %d routes, %d analyses, want 1 and 1", p.title, len(svc.Routes), len(svc.Analyses))
		}
	}
}

func TestFilterLine(t *testing.T) {
	for _, c := range []struct {
		in, out string
		keep    bool
	}{
		{"   12. deploy order-service/a/127.0.0.1:1 1.0.0 -> 1.1.0", "", false},
		{"Steps:", "", false},
		{"  # order-service", "", false},
		{"2026-12-01T18:16:11Z info  deploy order-service/a/127.0.0.1:1: Starting...", "", false},
		{"2026-12-01T18:16:11Z info  deploy order-service/a/127.0.0.1:1: Complete after 1s", "18:16:11  deploy order-service/a/127.0.0.1:1: Complete after 1s", true},
		{"2026-12-01T18:16:11Z warn  order-service: rolling back", "18:16:11  WARN order-service: rolling back", true},
		{"Plan: 4 instances to upgrade", "Plan: 4 instances to upgrade", true},
	} {
		out, keep := filterLine(c.in)
		if out != c.out || keep != c.keep {
			t.Errorf("filterLine(%q) = %q, %t; want %q, %t", c.in, out, keep, c.out, c.keep)
		}
	}
}

func TestDeclareFirst(t *testing.T) {
	in := "service \"s\" {\n  group \"a\" { instances = var.group_a }\n  group \"b\" { instances = var.group_b }\n}\n"
	out, err := declareFirst([]byte(in), "b")
	if err != nil {
		t.Fatal(err)
	}
	want := "service \"s\" {\n  group \"b\" { instances = var.group_b }\n  group \"a\" { instances = var.group_a }\n}\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if _, err := declareFirst([]byte(in), "c"); err == nil {
		t.Error("an undeclared group is not an error")
	}
}
