package planner

import (
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// DriftItem is one difference between live state and the configuration's steady state.
type DriftItem struct {
	Service string `json:"service"`
	// Object is "instance" (registry), "member" (balancer) or "route".
	Object string `json:"object"`
	// Address names the object like a Change does: "a/127.0.0.1:18081",
	// "nginx.edge/order_backend/127.0.0.1:18081", "nginx.edge/order_backend/beta-testers".
	Address string `json:"address"`
	// Field is "present", "version", "enabled", "weight", "state" or "match".
	// A missing object is Field "present", Expected true, Actual false; an object
	// the configuration does not declare (a hand-made route) is the reverse.
	Field    string `json:"field"`
	Expected any    `json:"expected"`
	Actual   any    `json:"actual"`
}

// Drift compares live state with the steady state the configuration describes, with
// no release in progress, and returns every difference in configuration order.
// Services absent from live (not refreshed) are skipped. The rules:
//
//   - A declared instance must be registered (when the service has a registry) and be
//     a member of every balancer pool whose members were read.
//   - A serving instance runs the service's version or the version of one of its
//     routes (the instances a route sends requests to); a version the registry hides
//     is not compared. It is enabled with a registry weight above zero (the
//     configuration sets no registry weight). Its balancer members are "ready" (an
//     empty state counts as ready) at the balancer's configured weight, or at any
//     weight above zero when the balancer sets none.
//   - Blue-green with keep_standby: a group none of whose instances takes traffic
//     (no ready member with weight > 0, and not enabled with weight > 0 in the
//     registry) is the standby while another group serves. Its instances must exist
//     but their version, weights and states are not compared.
//   - On balancers whose routes were read, each declared route exists with its
//     version and match; a route in the pool that no service sharing the pool declares
//     is reported once, under the first such service.
//
// Extra pool members and extra registry instances are not drift: pools and registries
// may hold members nonstop does not manage.
func Drift(cfg *lang.Config, live *Live) []DriftItem {
	if cfg == nil || live == nil {
		return nil
	}
	declared := declaredRoutesByPool(cfg)
	reportedExtra := map[string]bool{}
	var items []DriftItem
	for _, name := range cfg.ServiceNames {
		svc, ls := cfg.Services[name], live.Services[name]
		if svc == nil || ls == nil {
			continue
		}
		d := serviceDrift{svc: svc, live: ls}
		d.instances()
		d.routes(declared, reportedExtra)
		d.gateways()
		items = append(items, d.items...)
	}
	return items
}

// serviceDrift collects the drift of one service.
type serviceDrift struct {
	svc   *lang.Service
	live  *LiveService
	items []DriftItem
}

func (d *serviceDrift) add(object, address, field string, expected, actual any) {
	d.items = append(d.items, DriftItem{Service: d.svc.Name, Object: object, Address: address,
		Field: field, Expected: expected, Actual: actual})
}

func (d *serviceDrift) instances() {
	standby := d.standbyGroups()
	versions := map[string]bool{d.svc.Version: true}
	for _, r := range d.svc.Routes {
		versions[r.Version] = true
	}
	for _, g := range d.svc.Groups {
		for _, addr := range g.Instances {
			a := addr.String()
			serving := !standby[g.Name]
			if d.svc.Registry != nil {
				d.registryInstance(g.Name+"/"+a, a, serving, versions)
			}
			for _, b := range d.svc.Balancers {
				members, read := d.live.Balancers[b.Name]
				if !read {
					continue
				}
				d.balancerMember(b, members, a, serving)
			}
		}
	}
}

func (d *serviceDrift) registryInstance(address, a string, serving bool, versions map[string]bool) {
	inst, ok := d.live.Instances[a]
	switch {
	case !ok:
		d.add("instance", address, "present", true, false)
		return
	case !serving:
		return
	}
	if inst.VersionKnown && !versions[inst.Version] {
		d.add("instance", address, "version", d.svc.Version, inst.Version)
	}
	if !inst.Enabled {
		d.add("instance", address, "enabled", true, false)
	}
	if inst.Weight <= 0 {
		d.add("instance", address, "weight", "> 0", inst.Weight)
	}
}

func (d *serviceDrift) balancerMember(b *lang.Balancer, members []providers.Member, a string, serving bool) {
	address := b.Provider.String() + "/" + b.Pool + "/" + a
	m, ok := findMember(members, a)
	switch {
	case !ok:
		d.add("member", address, "present", true, false)
		return
	case !serving:
		return
	}
	if m.State != providers.StateReady && m.State != "" {
		d.add("member", address, "state", string(providers.StateReady), string(m.State))
	}
	switch {
	case b.Weight != nil && m.Weight != *b.Weight:
		d.add("member", address, "weight", *b.Weight, m.Weight)
	case b.Weight == nil && m.Weight == 0:
		d.add("member", address, "weight", "> 0", m.Weight)
	}
}

// standbyGroups returns the groups of a blue-green keep_standby service that take no
// traffic while another group does.
func (d *serviceDrift) standbyGroups() map[string]bool {
	st := d.svc.Strategy
	if st == nil || st.Kind != lang.BlueGreen || !st.KeepStandby {
		return nil
	}
	idle := map[string]bool{}
	anyServing := false
	for _, g := range d.svc.Groups {
		serving := false
		for _, addr := range g.Instances {
			serving = serving || d.takesTraffic(addr.String())
		}
		if len(g.Instances) > 0 && !serving {
			idle[g.Name] = true
		}
		anyServing = anyServing || serving
	}
	if !anyServing {
		return nil
	}
	return idle
}

// takesTraffic reports whether live state sends requests to the instance at a.
func (d *serviceDrift) takesTraffic(a string) bool {
	for _, b := range d.svc.Balancers {
		if m, ok := findMember(d.live.Balancers[b.Name], a); ok && m.Weight > 0 && (m.State == providers.StateReady || m.State == "") {
			return true
		}
	}
	if d.svc.Registry == nil {
		return false
	}
	inst, ok := d.live.Instances[a]
	return ok && inst.Enabled && inst.Weight > 0
}

func (d *serviceDrift) routes(declared map[poolKey]map[string]bool, reportedExtra map[string]bool) {
	for _, b := range d.svc.Balancers {
		liveRoutes, read := d.live.Routes[b.Name]
		if !read {
			continue
		}
		prefix := b.Provider.String() + "/" + b.Pool + "/"
		byName := map[string]providers.Route{}
		for _, r := range liveRoutes {
			byName[r.Name] = r
		}
		for _, want := range d.svc.Routes {
			got, ok := byName[want.Name]
			if !ok {
				d.add("route", prefix+want.Name, "present", true, false)
				continue
			}
			if got.Version != want.Version {
				d.add("route", prefix+want.Name, "version", want.Version, got.Version)
			}
			wantMatch := providers.MatchOf(want.Match).String()
			if gotMatch := got.Match.String(); gotMatch != wantMatch {
				d.add("route", prefix+want.Name, "match", wantMatch, gotMatch)
			}
		}
		key := poolKey{provider: b.Provider, pool: b.Pool}
		for _, r := range liveRoutes {
			if declared[key][r.Name] || reportedExtra[prefix+r.Name] {
				continue
			}
			reportedExtra[prefix+r.Name] = true
			d.add("route", prefix+r.Name, "present", false, true)
		}
	}
}

// declaredRoutesByPool maps each pool to the route names the services using it declare.
func declaredRoutesByPool(cfg *lang.Config) map[poolKey]map[string]bool {
	out := map[poolKey]map[string]bool{}
	for _, svc := range cfg.Services {
		for _, b := range svc.Balancers {
			key := poolKey{provider: b.Provider, pool: b.Pool}
			if out[key] == nil {
				out[key] = map[string]bool{}
			}
			for _, r := range svc.Routes {
				out[key][r.Name] = true
			}
		}
	}
	return out
}

func findMember(members []providers.Member, address string) (providers.Member, bool) {
	for _, m := range members {
		if m.Address == address {
			return m, true
		}
	}
	return providers.Member{}, false
}
