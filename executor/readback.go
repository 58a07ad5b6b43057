package executor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// InstanceView is what every path that routes to an instance shows, read back from
// the live systems after a pause or a rollback (not what nonstop last wrote).
type InstanceView struct {
	// Paths describes each path: "registry nacos.prod: disabled",
	// "haproxy.lb/web: state drain, weight 1, health up: DRAIN L7OK".
	Paths []string
	// Serving is true when any path routes new requests to the instance as that
	// path sees it: enabled and healthy in the registry, or a member the balancer
	// itself reports serving.
	Serving bool
}

// readBack reads the registry and every balancer pool of a service once and
// describes each declared instance. A read that fails is reported in the paths.
func (x *execution) readBack(ctx context.Context, svc *lang.Service) map[string]*InstanceView {
	views := map[string]*InstanceView{}
	var addrs []string
	for _, g := range svc.Groups {
		for _, a := range g.Instances {
			addrs = append(addrs, a.String())
			views[a.String()] = &InstanceView{}
		}
	}
	if svc.Registry != nil {
		ref := svc.Registry.Provider.String()
		r, key, err := x.registryOf(&planner.Step{Service: svc.Name})
		var list []providers.Instance
		if err == nil {
			list, err = r.Instances(ctx, key)
		}
		for _, a := range addrs {
			v := views[a]
			switch in, found := instanceAt(list, a); {
			case err != nil:
				v.Paths = append(v.Paths, fmt.Sprintf("registry %s: cannot read (%v)", ref, err))
			case !found:
				v.Paths = append(v.Paths, fmt.Sprintf("registry %s: not registered", ref))
			case in.Enabled && in.Healthy:
				v.Serving = true
				v.Paths = append(v.Paths, fmt.Sprintf("registry %s: enabled", ref))
			case in.Enabled:
				v.Paths = append(v.Paths, fmt.Sprintf("registry %s: enabled but unhealthy", ref))
			default:
				v.Paths = append(v.Paths, fmt.Sprintf("registry %s: disabled", ref))
			}
		}
	}
	for _, bal := range svc.Balancers {
		ref := bal.Provider.String()
		b, err := x.balancer(ref)
		var members []providers.Member
		if err == nil {
			members, err = b.Pool(ctx, bal.Pool)
		}
		for _, a := range addrs {
			v := views[a]
			m, found := memberAt(members, a)
			switch {
			case err != nil:
				v.Paths = append(v.Paths, fmt.Sprintf("%s/%s: cannot read (%v)", ref, bal.Pool, err))
			case !found:
				v.Paths = append(v.Paths, fmt.Sprintf("%s/%s: not a member", ref, bal.Pool))
			default:
				v.Serving = v.Serving || m.Serving()
				v.Paths = append(v.Paths, fmt.Sprintf("%s/%s: %s", ref, bal.Pool, memberText(m)))
			}
		}
	}
	return views
}

// instanceAt finds the instance with an address.
func instanceAt(list []providers.Instance, addr string) (providers.Instance, bool) {
	for _, in := range list {
		if in.Address == addr {
			return in, true
		}
	}
	return providers.Instance{}, false
}

// outOfTrafficLive lists, sorted, the addresses among addrs that no path serves.
func outOfTrafficLive(views map[string]*InstanceView, addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if v := views[a]; v != nil && !v.Serving && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// describeViews renders views of addrs, one line per instance.
func describeViews(views map[string]*InstanceView, addrs []string) string {
	var b strings.Builder
	for _, a := range addrs {
		if v := views[a]; v != nil {
			fmt.Fprintf(&b, "\n  %s: %s", a, strings.Join(v.Paths, "; "))
		}
	}
	return b.String()
}
