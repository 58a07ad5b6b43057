package planner

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// TestDrainByBalancerKind checks how each balancer kind takes a member out of
// traffic in a rolling release: by state (and a wait.drain on its sessions) where
// the LB has a drain state, by weight 0 elsewhere.
func TestDrainByBalancerKind(t *testing.T) {
	tests := map[string]struct {
		provider string
		want     []StepKind // the first group's drain, before its registry write
	}{
		"nginx":   {`provider "nginx" "lb" { upstreams_file = "u.conf" }`, []StepKind{BalancerSetWeight}},
		"haproxy": {`provider "haproxy" "lb" { runtime_api = "tcp://127.0.0.1:9999" }`, []StepKind{BalancerSetState}},
		"f5":      {`provider "f5" "lb" { url = "https://bigip.example.internal" }`, []StepKind{BalancerSetState}},
		"aliyun":  {`provider "aliyun_slb" "lb" { region = "cn-shanghai" }`, []StepKind{BalancerSetWeight}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			kind := map[string]string{"nginx": "nginx", "haproxy": "haproxy", "f5": "f5", "aliyun": "aliyun_slb"}[name]
			src := fmt.Sprintf(`
provider "nacos" "reg" { addresses = ["127.0.0.1:8848"] }
%s
service "svc" {
  version = "2.0.0"
  registry { provider = nacos.reg }
  group "a" { instances = ["127.0.0.1:1001"] }
  group "b" { instances = ["127.0.0.1:1002"] }
  balancer "web" {
    provider = %s.lb
    pool     = "web"
  }
  strategy "rolling" { batch = "group" }
  drain {
    propagation = "2s"
    timeout     = "10s"
  }
  deploy { command = ["true"] }
}
`, tt.provider, kind)
			cfg, ds := lang.LoadFiles(t.TempDir(), map[string][]byte{"main.ns.hcl": []byte(src)}, lang.LoadOptions{})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			live := &Live{Services: map[string]*LiveService{"svc": {Name: "svc",
				Instances: map[string]providers.Instance{}, Balancers: map[string][]providers.Member{}}}}
			for _, addr := range []string{"127.0.0.1:1001", "127.0.0.1:1002"} {
				live.Services["svc"].Instances[addr] = providers.Instance{Service: "svc", Address: addr, Enabled: true,
					Weight: 1, Healthy: true, Version: "1.0.0", VersionKnown: true}
				live.Services["svc"].Balancers["web"] = append(live.Services["svc"].Balancers["web"],
					providers.Member{Pool: "web", Address: addr, Weight: 1, State: providers.StateReady})
			}
			p, ds := MakePlan(cfg, live, Options{})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			var got []StepKind
			drainWait := false
			for _, s := range p.Steps {
				if s.Kind == RegistrySetEnabled {
					break
				}
				got = append(got, s.Kind)
			}
			for _, s := range p.Steps {
				drainWait = drainWait || s.Kind == WaitDrain
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("drain steps (-want +got):\n%s", d)
			}
			byState := tt.want[0] == BalancerSetState
			if drainWait != byState {
				t.Errorf("wait.drain in plan = %v, want %v", drainWait, byState)
			}
			if d := CheckSafety(cfg, live, p); d.HasErrors() {
				t.Errorf("unsafe plan: %v", d)
			}
		})
	}
}
