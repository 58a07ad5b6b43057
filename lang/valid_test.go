package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// cmpConfig compares decoded configuration while ignoring source ranges,
// unevaluated expressions and the evaluation context.
var cmpConfig = []cmp.Option{
	cmpopts.IgnoreTypes(hcl.Range{}),
	cmpopts.IgnoreInterfaces(struct{ hcl.Expression }{}),
	cmpopts.IgnoreUnexported(Service{}),
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
	cmp.Comparer(func(a, b cty.Type) bool { return a.Equals(b) }),
}

// loadValid loads one testdata/valid file and fails the test on any diagnostic.
func loadValid(t *testing.T, name string) *Config {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata/valid", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, d := LoadFiles("testdata/valid", map[string][]byte{name: src}, LoadOptions{Getenv: testEnv})
	if len(d) > 0 {
		t.Fatalf("diagnostics loading %s:\n%s", name, d.Error())
	}
	return cfg
}

// TestValid loads every valid configuration without a single diagnostic.
func TestValid(t *testing.T) {
	paths, err := filepath.Glob("testdata/valid/*.ns.hcl")
	if err != nil || len(paths) < 4 {
		t.Fatalf("found %d valid configurations (%v), want at least 4", len(paths), err)
	}
	for _, p := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(p), ".ns.hcl"), func(t *testing.T) {
			cfg := loadValid(t, filepath.Base(p))
			if len(cfg.Services) == 0 || len(cfg.ServiceNames) != len(cfg.Services) {
				t.Errorf("services %v, names %v", cfg.Services, cfg.ServiceNames)
			}
			if len(cfg.Hash) != 64 {
				t.Errorf("hash %q is not a hex SHA-256", cfg.Hash)
			}
		})
	}
}

func intp(n int) *int                     { return &n }
func durp(d time.Duration) *time.Duration { return &d }
func strs(ss ...string) cty.Value         { return cty.ListVal(ctyStrings(ss)) }
func addr(host string, port int) Address  { return Address{Host: host, Port: port} }
func addrs(port ...int) (out []Address) {
	for _, p := range port {
		out = append(out, addr("127.0.0.1", p))
	}
	return out
}

func ctyStrings(ss []string) []cty.Value {
	out := make([]cty.Value, len(ss))
	for i, s := range ss {
		out[i] = cty.StringVal(s)
	}
	return out
}

// TestDecodeServices checks every decoded field of the valid configurations' services.
func TestDecodeServices(t *testing.T) {
	tests := map[string]map[string]*Service{
		"language_example.ns.hcl": {
			"order-service": {
				Name: "order-service", Version: "1.4.2",
				Registry: &Registry{Provider: ProviderRef{"nacos", "prod"}, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"},
				Groups: []*Group{
					{Name: "a", Instances: addrs(18081, 18082)},
					{Name: "b", Instances: addrs(18083, 18084)},
				},
				Balancers:    []*Balancer{{Name: "http", Provider: ProviderRef{"nginx", "edge"}, Pool: "order_backend", Weight: intp(1)}},
				MinAvailable: 1,
				Strategy:     &Strategy{Kind: Rolling, Batch: Batch{ByGroup: true}},
				Drain:        Drain{Propagation: durp(30 * time.Second), Timeout: 5 * time.Minute},
				Deploy:       &Deploy{Timeout: 10 * time.Minute},
				Health:       &Health{Expect: 200, Interval: time.Second, Timeout: 60 * time.Second},
				Verify:       &Verify{Expect: 200, Timeout: 10 * time.Second},
				Analyses: map[string]*Analysis{"error-rate": {
					Name: "error-rate", HTTP: "http://127.0.0.1:9090/api/v1/query?query=...", MaxValue: 0.01, NoData: "fail",
				}},
				Routes: []*Route{{Name: "beta-testers", Version: "1.5.0-rc1", Match: RouteMatch{
					ClientIP: []string{"10.8.0.0/16"}, Header: map[string]string{"X-Canary": "1"},
				}}},
				DependsOn: []string{"user-service"},
				OnFailure: "rollback",
			},
			"user-service": {
				Name: "user-service", Version: "2.0.0",
				Registry:  &Registry{Provider: ProviderRef{"nacos", "prod"}, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"},
				Groups:    []*Group{{Name: "a", Instances: addrs(19081)}},
				Strategy:  &Strategy{Kind: Rolling, Batch: Batch{Count: 1}},
				Drain:     Drain{Timeout: 5 * time.Minute},
				Deploy:    &Deploy{Timeout: 10 * time.Minute},
				OnFailure: "rollback",
			},
		},
		"minimal.ns.hcl": {
			"web": {
				Name: "web", Version: "1.0.0",
				Groups:    []*Group{{Name: "a", Instances: addrs(18081, 18082, 18083, 18084)}},
				Balancers: []*Balancer{{Name: "http", Provider: ProviderRef{"nginx", "edge"}, Pool: "web_backend"}},
				Strategy:  &Strategy{Kind: Rolling, Batch: Batch{Percent: 25}},
				Drain:     Drain{Timeout: 5 * time.Minute},
				Deploy:    &Deploy{Timeout: 10 * time.Minute},
				OnFailure: "rollback",
			},
		},
		"canary.ns.hcl": {
			"payments": {
				Name: "payments", Version: "2.3.0",
				Registry: &Registry{Provider: ProviderRef{"nacos", "prod"}, Group: "PAY", Cluster: "DEFAULT"},
				Groups: []*Group{
					{Name: "canary", Instances: []Address{addr("10.0.0.1", 8080), addr("10.0.0.2", 8080)}},
					{Name: "main", Instances: []Address{addr("10.0.0.3", 8080), addr("10.0.0.4", 8080)}},
				},
				Balancers:    []*Balancer{{Name: "http", Provider: ProviderRef{"haproxy", "lb"}, Pool: "payments_be", Weight: intp(10)}},
				MinAvailable: 2,
				Strategy: &Strategy{Kind: Canary, Steps: []CanaryStep{
					{Weight: 5, Pause: 2 * time.Minute},
					{Weight: 50, PauseUntilResumed: true, Analysis: []string{"error-rate", "latency"}},
					{Weight: 100},
				}},
				Drain:  Drain{Timeout: 30 * time.Second},
				Deploy: &Deploy{Timeout: 15 * time.Minute},
				Health: &Health{Expect: 204, Interval: 500 * time.Millisecond, Timeout: 2 * time.Minute},
				Verify: &Verify{Expect: 200, Timeout: 5 * time.Second},
				Analyses: map[string]*Analysis{
					"error-rate": {Name: "error-rate", HTTP: "http://127.0.0.1:9090/api/v1/query?query=errors", MaxValue: 0.01, NoData: "fail"},
					"latency":    {Name: "latency", HTTP: "http://127.0.0.1:9090/api/v1/query?query=p99", MaxValue: 250, NoData: "pause"},
				},
				Routes:    []*Route{{Name: "office", Version: "2.4.0-rc1", Match: RouteMatch{ClientIP: []string{"10.8.3.0/24", "192.168.1.7"}}}},
				OnFailure: "pause",
			},
		},
		"blue_green.ns.hcl": {
			"shop": {
				Name: "shop", Version: "3.1.0",
				Groups: []*Group{
					{Name: "blue", Instances: []Address{addr("127.0.0.1", 18091), addr("::1", 18092)}},
					{Name: "green", Instances: addrs(18093, 18094)},
				},
				Balancers: []*Balancer{
					{Name: "f5", Provider: ProviderRef{"f5", "dc1"}, Pool: "shop_pool"},
					{Name: "slb", Provider: ProviderRef{"aliyun_slb", "web"}, Pool: "rsp-123", Weight: intp(0)},
					{Name: "alb", Provider: ProviderRef{"aliyun_alb", "ws"}, Pool: "sgp-456"},
				},
				Strategy: &Strategy{Kind: BlueGreen, KeepStandby: true},
				Drain:    Drain{Propagation: durp(10 * time.Second), Timeout: 5 * time.Minute, InFlight: 3 * time.Second},
				Deploy:   &Deploy{Timeout: 10 * time.Minute},
				Routes: []*Route{{Name: "beta", Version: "3.2.0-beta", Match: RouteMatch{
					Header: map[string]string{"X-Beta": "yes"},
				}}},
				DependsOn: []string{"catalog"},
				OnFailure: "rollback",
			},
			"catalog": {
				Name: "catalog", Version: "1.0.0",
				Groups:    []*Group{{Name: "only", Instances: addrs(18095, 18096)}},
				Strategy:  &Strategy{Kind: Rolling, Batch: Batch{Count: 1}},
				Drain:     Drain{Timeout: 5 * time.Minute},
				Deploy:    &Deploy{Timeout: 10 * time.Minute},
				OnFailure: "rollback",
			},
		},
	}
	for file, want := range tests {
		t.Run(file, func(t *testing.T) {
			cfg := loadValid(t, file)
			if diff := cmp.Diff(want, cfg.Services, cmpConfig...); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}
