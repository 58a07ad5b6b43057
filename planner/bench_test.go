package planner

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// benchFleet is 1,000 services of 10 instances (two groups of five) behind one
// nginx pool and a registry, every instance one version behind: the worst case for
// MakePlan, which then plans, replays and diffs 10,000 upgrades.
func benchFleet() (*lang.Config, *Live) {
	cfg := &lang.Config{Services: map[string]*lang.Service{}, Hash: "bench"}
	live := &Live{Services: map[string]*LiveService{}}
	nginx := lang.ProviderRef{Kind: "nginx", Name: "edge"}
	nacos := lang.ProviderRef{Kind: "nacos", Name: "prod"}
	prop, weight := 2*time.Second, 1
	strategies := []*lang.Strategy{
		{Kind: lang.Rolling, Batch: lang.Batch{ByGroup: true}},
		{Kind: lang.Rolling, Batch: lang.Batch{Count: 2}},
		{Kind: lang.BlueGreen, KeepStandby: true},
		{Kind: lang.Canary, Steps: []lang.CanaryStep{{Weight: 10, Pause: time.Minute}, {Weight: 100}}},
	}
	for i := range 1000 {
		name := fmt.Sprintf("service-%04d", i)
		svc := &lang.Service{Name: name, Version: "2.0.0", Strategy: strategies[i%len(strategies)],
			Registry:  &lang.Registry{Provider: nacos, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"},
			Balancers: []*lang.Balancer{{Name: "http", Provider: nginx, Pool: name, Weight: &weight}},
			Drain:     lang.Drain{Propagation: &prop, Timeout: time.Minute}, Verify: &lang.Verify{}}
		ls := &LiveService{Name: name, Instances: map[string]providers.Instance{}, Balancers: map[string][]providers.Member{}}
		for g := range 2 {
			grp := &lang.Group{Name: string(rune('a' + g))}
			for j := range 5 {
				a := lang.Address{Host: fmt.Sprintf("10.%d.%d.%d", i/250, i%250, g), Port: 8000 + j}
				grp.Instances = append(grp.Instances, a)
				serving := !(svc.Strategy.Kind == lang.BlueGreen && g == 1)
				ls.Instances[a.String()] = providers.Instance{Service: name, Address: a.String(), Enabled: serving,
					Healthy: true, Weight: 1, Version: "1.0.0", VersionKnown: true}
				ls.Balancers["http"] = append(ls.Balancers["http"], providers.Member{Pool: name, Address: a.String(),
					Weight: map[bool]int{true: 1}[serving], State: providers.StateReady})
			}
			svc.Groups = append(svc.Groups, grp)
		}
		if i > 0 && i%10 != 0 {
			svc.DependsOn = []string{fmt.Sprintf("service-%04d", i-1)}
		}
		cfg.Services[name] = svc
		cfg.ServiceNames = append(cfg.ServiceNames, name)
		live.Services[name] = ls
	}
	return cfg, live
}

// BenchmarkPlan measures MakePlan on 1,000 services × 10 instances: diff, strategy
// steps, ordering and the safety replay. Target: ≤ 50 ms and ≤ 200 MiB per plan.
// Besides ns/op it reports cpu-ns/op, the CPU time of the whole process (every
// thread, the collector included) per plan, which a loaded machine disturbs less.
func BenchmarkPlan(b *testing.B) {
	cfg, live := benchFleet()
	b.ReportAllocs()
	steps := 0
	cpu0 := cpuTime()
	for b.Loop() {
		p, ds := MakePlan(cfg, live, Options{})
		if ds.HasErrors() {
			b.Fatal(ds)
		}
		steps = len(p.Steps)
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(steps), "steps")
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
