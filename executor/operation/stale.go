package operation

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// StaleError refuses a plan file whose live inputs changed since it was made.
type StaleError struct {
	// Objects describe each change: "shop 127.0.0.1:18082 weight on balancer http
	// changed since the plan was made".
	Objects []string
}

// Error returns "plan is stale: " and the changes, separated by "; ".
func (e *StaleError) Error() string { return "plan is stale: " + strings.Join(e.Objects, "; ") }

// staleObjects compares the fingerprints a plan was made from with the live state
// read now and describes, in the user's terms, every object that changed,
// appeared or went away: "order-service 127.0.0.1:18081 weight changed on
// balancer http since the plan was made". Only services in live are compared.
// versions are candidate versions for naming a changed version.
func staleObjects(prior map[string]string, live *planner.Live, versions ...string) []string {
	now := planner.Fingerprints(live)
	keys := map[string]bool{}
	for k := range prior {
		keys[k] = true
	}
	for k := range now {
		keys[k] = true
	}
	var out []string
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		was, inPrior := prior[key]
		is, inNow := now[key]
		if was == is {
			continue
		}
		ref := parseObjectKey(key)
		ls := live.Services[ref.service]
		if ls == nil {
			continue // not read now: a -target apply of a wider plan
		}
		switch {
		case !inNow:
			out = append(out, ref.String()+" is gone since the plan was made")
		case !inPrior:
			out = append(out, ref.String()+" appeared since the plan was made")
		default:
			field := ref.changedField(ls, was, versions)
			if field == "" {
				out = append(out, ref.String()+" changed since the plan was made")
			} else {
				out = append(out, ref.describeField(field)+" changed since the plan was made")
			}
		}
	}
	return out
}

// objectKey is a parsed fingerprint key: "svc/instance/ADDR",
// "svc/member/BALANCER/ADDR" or "svc/route/BALANCER/NAME".
type objectKey struct {
	service, kind, balancer, name string
}

func parseObjectKey(key string) objectKey {
	parts := strings.SplitN(key, "/", 4)
	k := objectKey{service: parts[0]}
	if len(parts) > 1 {
		k.kind = parts[1]
	}
	switch {
	case k.kind == "instance" && len(parts) >= 3:
		k.name = strings.Join(parts[2:], "/")
	case len(parts) == 4:
		k.balancer, k.name = parts[2], parts[3]
	default:
		k.name = strings.Join(parts[min(2, len(parts)):], "/")
	}
	return k
}

// String names the object: "order-service 127.0.0.1:18081 in the registry".
func (k objectKey) String() string {
	switch k.kind {
	case "instance":
		return fmt.Sprintf("%s %s in the registry", k.service, k.name)
	case "member":
		return fmt.Sprintf("%s %s on balancer %s", k.service, k.name, k.balancer)
	case "route":
		return fmt.Sprintf("%s route %s on balancer %s", k.service, k.name, k.balancer)
	}
	return k.service + " " + k.name
}

// describeField names one field of the object: "order-service 127.0.0.1:18081
// weight on balancer http".
func (k objectKey) describeField(field string) string {
	switch k.kind {
	case "instance":
		return fmt.Sprintf("%s %s %s in the registry", k.service, k.name, field)
	case "member":
		return fmt.Sprintf("%s %s %s on balancer %s", k.service, k.name, field, k.balancer)
	}
	return fmt.Sprintf("%s %s", k.String(), field)
}

// changedField finds the one field whose earlier value makes the live object hash
// to the fingerprint the plan recorded, by trying the values it could have had.
// It returns "" when no single field explains the change.
func (k objectKey) changedField(ls *planner.LiveService, was string, versions []string) string {
	switch k.kind {
	case "member":
		for _, m := range ls.Balancers[k.balancer] {
			if m.Address == k.name {
				return memberField(k, m, was)
			}
		}
	case "instance":
		if in, ok := ls.Instances[k.name]; ok {
			return instanceField(k, in, was, versions)
		}
	}
	return ""
}

// candidate is one guess at an object's earlier state, with the field it changes.
type candidate struct {
	field string
	live  *planner.Live
}

func memberField(k objectKey, m providers.Member, was string) string {
	var cs []candidate
	try := func(field string, mod func(*providers.Member)) {
		c := m
		mod(&c)
		cs = append(cs, candidate{field, &planner.Live{Services: map[string]*planner.LiveService{
			k.service: {Name: k.service, Balancers: map[string][]providers.Member{k.balancer: {c}}}}}})
	}
	for _, st := range []providers.MemberState{providers.StateReady, providers.StateDrain, providers.StateMaint, providers.StateDown, ""} {
		try("state", func(c *providers.Member) { c.State = st })
	}
	for w := range 1001 {
		try("weight", func(c *providers.Member) { c.Weight = w })
	}
	return matchCandidate(cs, was)
}

func instanceField(k objectKey, in providers.Instance, was string, versions []string) string {
	var cs []candidate
	try := func(field string, mod func(*providers.Instance)) {
		c := in
		c.Metadata = cloneMap(in.Metadata)
		mod(&c)
		cs = append(cs, candidate{field, &planner.Live{Services: map[string]*planner.LiveService{
			k.service: {Name: k.service, Instances: map[string]providers.Instance{k.name: c}}}}})
	}
	try("enabled", func(c *providers.Instance) { c.Enabled = !c.Enabled })
	try("health", func(c *providers.Instance) { c.Healthy = !c.Healthy })
	for w := range 1001 {
		try("weight", func(c *providers.Instance) { c.Weight = float64(w) })
	}
	sort.Strings(versions)
	for _, v := range versions {
		try("version", func(c *providers.Instance) {
			c.Version, c.VersionKnown = v, true
			if c.Metadata == nil {
				c.Metadata = map[string]string{}
			}
			c.Metadata["version"] = v
		})
	}
	return matchCandidate(cs, was)
}

// matchCandidate returns the field of the first candidate whose fingerprint is was.
func matchCandidate(cs []candidate, was string) string {
	for _, c := range cs {
		for _, fp := range planner.Fingerprints(c.live) {
			if fp == was {
				return c.field
			}
		}
	}
	return ""
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// knownVersions returns the versions the plan, the configuration and the state
// mention: the candidates for naming a changed version.
func knownVersions(cfg *lang.Config, st *state.State, p *planner.Plan) []string {
	seen := map[string]bool{}
	for _, svc := range cfg.Services {
		seen[svc.Version] = true
	}
	for _, byAddr := range st.Deployed {
		for _, v := range byAddr {
			seen[v] = true
		}
	}
	for _, s := range p.Steps {
		seen[s.Args.Version], seen[s.Args.FromVersion] = true, true
	}
	for _, c := range p.Changes {
		if c.Field == "version" {
			if s, ok := c.Before.(string); ok {
				seen[s] = true
			}
			if s, ok := c.After.(string); ok {
				seen[s] = true
			}
		}
	}
	delete(seen, "")
	return slices.Sorted(maps.Keys(seen))
}
