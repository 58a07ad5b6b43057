package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// registryOf returns a service's registry provider and its service key. The step's
// args win over the service's registry block where set.
func (x *execution) registryOf(st *planner.Step) (providers.Registry, providers.ServiceKey, error) {
	svc, err := x.service(st.Service)
	if err != nil {
		return nil, providers.ServiceKey{}, err
	}
	reg := svc.Registry
	if reg == nil {
		reg = &lang.Registry{}
	}
	ref := st.Args.Provider
	if ref == "" || st.Kind == planner.WaitHealthy {
		ref = reg.Provider.String()
	}
	if ref == "." {
		return nil, providers.ServiceKey{}, fmt.Errorf("service %s has no registry", st.Service)
	}
	p, err := x.provider(ref)
	if err != nil {
		return nil, providers.ServiceKey{}, err
	}
	r, ok := p.(providers.Registry)
	if !ok {
		return nil, providers.ServiceKey{}, fmt.Errorf("provider %s is not a registry", ref)
	}
	key := providers.ServiceKey{Service: st.Service, Group: reg.Group, Cluster: reg.Cluster}
	if st.Args.RegistryGroup != "" {
		key.Group = st.Args.RegistryGroup
	}
	if st.Args.RegistryCluster != "" {
		key.Cluster = st.Args.RegistryCluster
	}
	if key.Group == "" {
		key.Group = "DEFAULT_GROUP"
	}
	return x.reads.bound(ref, r), key, nil
}

// instanceKey names a listed instance for a write: the service key, the
// instance's address, and its own cluster when the key names none.
func instanceKey(key providers.ServiceKey, in providers.Instance) providers.InstanceKey {
	ik := providers.InstanceKey{ServiceKey: key, Address: in.Address}
	if ik.Cluster == "" {
		ik.Cluster = in.Cluster
	}
	return ik
}

// findInstance lists a service's instances and returns one by address.
func findInstance(ctx context.Context, r providers.Registry, key providers.ServiceKey, address string) (providers.Instance, bool, error) {
	list, err := r.Instances(ctx, key)
	if err != nil {
		return providers.Instance{}, false, fmt.Errorf("listing instances of %s: %w", key.Service, err)
	}
	for _, in := range list {
		if in.Address == address {
			return in, true, nil
		}
	}
	return providers.Instance{}, false, nil
}

// registryRetry bounds the retries of a registry write: an instance may be
// briefly missing while its application re-registers (Polaris answers "not found
// instances" then), and the writes are idempotent.
const registryRetry = 5 * time.Second

// setInstance runs registry.set_enabled and registry.set_weight, retrying for
// registryRetry.
func (x *execution) setInstance(ctx context.Context, st *planner.Step) ([]write, error) {
	deadline := time.Now().Add(registryRetry)
	for {
		w, err := x.setInstanceOnce(ctx, st)
		if err == nil || ctx.Err() != nil || !time.Now().Before(deadline) {
			return w, err
		}
		x.log.Debug("registry write failed; retrying", "step", st.ID, "error", err)
		if serr := sleep(ctx, 250*time.Millisecond); serr != nil {
			return w, err
		}
	}
}

// setInstanceOnce makes one attempt of setInstance.
func (x *execution) setInstanceOnce(ctx context.Context, st *planner.Step) ([]write, error) {
	r, key, err := x.registryOf(st)
	if err != nil {
		return nil, err
	}
	a := st.Args
	before, ok, err := findInstance(ctx, r, key, a.Address)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s is not registered as an instance of %s (group %s): its registration is lost "+
			"(the application deregistered, or the registry dropped it in an outage); the next apply plans "+
			"'registered false -> true' and redeploys it, after a propagation wait, to register it again",
			a.Address, key.Service, key.Group)
	}
	ik := instanceKey(key, before)
	w := write{address: a.Address, did: *st}
	switch st.Kind {
	case planner.RegistrySetEnabled:
		if a.Enabled == nil {
			return nil, fmt.Errorf("registry.set_enabled has no enabled value")
		}
		if *a.Enabled {
			x.guards.release(st.Service, a.Address)
		}
		if err := r.SetInstanceEnabled(ctx, ik, *a.Enabled); err != nil {
			return nil, fmt.Errorf("setting enabled=%t on %s: %w", *a.Enabled, a.Address, err)
		}
		prev := before.Enabled
		w.key = "enabled|" + r.Kind() + "." + r.Name() + "|" + a.Address
		w.undo = withArgs(st, func(u *planner.StepArgs) { u.Enabled = &prev })
	default:
		if a.RegistryWeight == nil {
			return nil, fmt.Errorf("registry.set_weight has no weight")
		}
		if err := r.SetInstanceWeight(ctx, ik, *a.RegistryWeight); err != nil {
			return nil, fmt.Errorf("setting the registry weight of %s to %g: %w", a.Address, *a.RegistryWeight, err)
		}
		prev := before.Weight
		w.key = "regweight|" + r.Kind() + "." + r.Name() + "|" + a.Address
		w.undo = withArgs(st, func(u *planner.StepArgs) { u.RegistryWeight = &prev })
	}
	return []write{w}, nil
}
