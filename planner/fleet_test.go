package planner

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// randomFleet builds a configuration of 1–4 services with 2–3 groups of 1–4
// instances, random strategies, balancers and routes, and a random live state:
// mixed versions, disabled or unhealthy instances, weight-0 or drained members,
// hidden versions (some known from state); about a third of the services hold
// an in-flight time (drain.in_flight).
func randomFleet(r *rand.Rand) (*lang.Config, *Live, Options) {
	cfg := &lang.Config{Services: map[string]*lang.Service{}, Providers: map[lang.ProviderRef]*lang.Provider{}}
	live := &Live{Services: map[string]*LiveService{}}
	opts := Options{KnownVersions: map[string]map[string]string{}}
	nacos := lang.ProviderRef{Kind: "nacos", Name: "prod"}
	kinds := []lang.ProviderRef{{Kind: "nginx", Name: "edge"}, {Kind: "haproxy", Name: "lb"}, {Kind: "f5", Name: "dc1"}}
	port := 10000
	for si := range 1 + r.Intn(4) {
		name := fmt.Sprintf("svc%d", si)
		prop := time.Second
		svc := &lang.Service{Name: name, Version: "2.0.0", MinAvailable: r.Intn(3), Analyses: map[string]*lang.Analysis{},
			Drain: lang.Drain{Propagation: &prop, Timeout: 10 * time.Second}}
		if r.Intn(5) > 0 {
			svc.Registry = &lang.Registry{Provider: nacos, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}
		}
		if r.Intn(2) == 0 {
			svc.Verify = &lang.Verify{}
		}
		for gi := range 2 + r.Intn(2) {
			g := &lang.Group{Name: string(rune('a' + gi))}
			for range 1 + r.Intn(4) {
				port++
				g.Instances = append(g.Instances, lang.Address{Host: "127.0.0.1", Port: port})
			}
			svc.Groups = append(svc.Groups, g)
		}
		for bi, k := range r.Perm(len(kinds))[:1+r.Intn(2)] {
			b := &lang.Balancer{Name: fmt.Sprintf("lb%d", bi), Provider: kinds[k], Pool: name + "_pool"}
			if r.Intn(3) > 0 {
				w := 1 + r.Intn(3)
				b.Weight = &w
			}
			svc.Balancers = append(svc.Balancers, b)
		}
		if port%3 == 0 { // without drawing from r, so the fleets stay those of the seed
			svc.Drain.InFlight = 2 * time.Second
		}
		svc.Strategy = randomStrategy(r)
		if r.Intn(4) == 0 {
			svc.Routes = []*lang.Route{{Name: "beta", Version: "2.0.0", Match: lang.RouteMatch{Header: map[string]string{"X-Beta": "1"}}}}
		}
		if si > 0 && r.Intn(2) == 0 {
			svc.DependsOn = []string{fmt.Sprintf("service.svc%d", r.Intn(si))}
		}
		cfg.Services[name] = svc
		cfg.ServiceNames = append(cfg.ServiceNames, name)
		live.Services[name], opts.KnownVersions[name] = randomLive(r, svc)
	}
	return cfg, live, opts
}

// randomStrategy picks rolling (by group, count or percent), blue-green (with or
// without standby) or canary with 1–3 steps.
func randomStrategy(r *rand.Rand) *lang.Strategy {
	switch r.Intn(6) {
	case 0:
		return &lang.Strategy{Kind: lang.Rolling, Batch: lang.Batch{Count: 1 + r.Intn(2)}}
	case 1:
		return &lang.Strategy{Kind: lang.Rolling, Batch: lang.Batch{Percent: 25 * (1 + r.Intn(2))}}
	case 2:
		return &lang.Strategy{Kind: lang.Rolling, Batch: lang.Batch{ByGroup: true}}
	case 3:
		return &lang.Strategy{Kind: lang.BlueGreen, KeepStandby: r.Intn(2) == 0}
	}
	st := &lang.Strategy{Kind: lang.Canary}
	w := 0
	for range 1 + r.Intn(3) {
		w += 1 + r.Intn(40)
		st.Steps = append(st.Steps, lang.CanaryStep{Weight: w, Pause: time.Minute, Analysis: []string{"errors"}})
	}
	if r.Intn(2) == 0 {
		st.Steps = append(st.Steps, lang.CanaryStep{Weight: 100})
	}
	return st
}

// randomLive makes the live state of one service: mostly serving, sometimes not.
func randomLive(r *rand.Rand, svc *lang.Service) (*LiveService, map[string]string) {
	ls := &LiveService{Name: svc.Name, Instances: map[string]providers.Instance{}, Balancers: map[string][]providers.Member{}}
	known := map[string]string{}
	versions := []string{"1.0.0", "1.0.0", "2.0.0", "1.9.0"}
	for _, g := range svc.Groups {
		gv := versions[r.Intn(len(versions))]
		for _, a := range g.Instances {
			addr := a.String()
			v := gv
			if r.Intn(5) == 0 {
				v = versions[r.Intn(len(versions))]
			}
			drained := r.Intn(6) == 0
			if svc.Registry != nil && r.Intn(12) > 0 {
				inst := providers.Instance{Service: svc.Name, Address: addr, Enabled: !drained && r.Intn(8) > 0,
					Healthy: r.Intn(10) > 0, Weight: 1, Version: v, VersionKnown: true}
				if !inst.Enabled && r.Intn(2) == 0 {
					inst.Version, inst.VersionKnown = "", false
					if r.Intn(2) == 0 {
						known[addr] = v
					}
				}
				ls.Instances[addr] = inst
			} else if r.Intn(2) == 0 {
				known[addr] = v
			}
			for _, b := range svc.Balancers {
				m := providers.Member{Pool: b.Pool, Address: addr, Weight: 1, State: providers.StateReady}
				if b.Weight != nil && r.Intn(4) > 0 {
					m.Weight = *b.Weight
				}
				switch {
				case drained && b.Provider.Kind == "haproxy":
					m.State = providers.StateDrain
					n := r.Intn(2)
					m.Sessions = &n
				case drained || r.Intn(10) == 0:
					m.Weight = 0
				}
				ls.Balancers[b.Name] = append(ls.Balancers[b.Name], m)
			}
		}
	}
	return ls, known
}

// liveOf turns a model back into the live state a refresh would see.
func liveOf(models map[string]*serviceModel) *Live {
	live := &Live{Services: map[string]*LiveService{}}
	for name, m := range models {
		ls := &LiveService{Name: name, Instances: map[string]providers.Instance{},
			Balancers: map[string][]providers.Member{}, Routes: map[string][]providers.Route{}}
		for _, im := range m.insts {
			if m.registry && im.registered {
				ls.Instances[im.addr] = providers.Instance{Service: name, Address: im.addr, Enabled: im.enabled,
					Healthy: im.healthy, Weight: im.regWeight, Version: im.version, VersionKnown: im.known}
			}
			for bi, mm := range im.members {
				ls.Balancers[m.bals[bi].name] = append(ls.Balancers[m.bals[bi].name],
					providers.Member{Pool: m.bals[bi].pool, Address: im.addr, Weight: mm.weight, State: mm.state})
			}
		}
		for _, b := range m.bals {
			for _, rt := range b.routes {
				ls.Routes[b.name] = append(ls.Routes[b.name], *rt)
			}
		}
		live.Services[name] = ls
	}
	return live
}
