package executor

import (
	"context"
	"fmt"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// runStep runs one step and returns the objects it wrote, each with the step that
// restores it.
func (x *execution) runStep(ctx context.Context, st *planner.Step) ([]write, error) {
	switch st.Kind {
	case planner.BalancerSetWeight:
		return x.setMemberWeight(ctx, st)
	case planner.BalancerSetState:
		return x.setMemberState(ctx, st)
	case planner.BalancerSwitch:
		return x.switchMembers(ctx, st)
	case planner.RegistrySetEnabled, planner.RegistrySetWeight:
		return x.setInstance(ctx, st)
	case planner.RouteSet:
		return x.putRoute(ctx, st)
	case planner.RouteDelete:
		return x.deleteRoute(ctx, st)
	case planner.GatewayPublish:
		return x.publishGateway(ctx, st)
	case planner.WaitPropagation:
		return nil, x.waitPropagation(ctx, st)
	case planner.WaitDrain:
		return nil, x.waitDrain(ctx, st)
	case planner.WaitServing:
		return nil, x.waitServing(ctx, st)
	case planner.Pause:
		return nil, x.pause(ctx, st)
	case planner.Deploy:
		return nil, x.deploy(ctx, st)
	case planner.WaitHealthy:
		return nil, x.waitHealthy(ctx, st)
	case planner.Verify:
		return nil, x.verify(ctx, st)
	case planner.GateAnalysis:
		return nil, x.gate(ctx, st)
	}
	return nil, fmt.Errorf("unknown step kind %q", st.Kind)
}

// instance returns the service of an instance step and the per-instance values its
// deploy, health and verify expressions see.
func (x *execution) instance(st *planner.Step) (*lang.Service, lang.InstanceVars, error) {
	svc, err := x.service(st.Service)
	if err != nil {
		return nil, lang.InstanceVars{}, err
	}
	addr, err := lang.ParseAddress(st.Args.Address)
	if err != nil {
		return nil, lang.InstanceVars{}, fmt.Errorf("step address: %v", err)
	}
	group := st.Args.Group
	if group == "" {
		group = groupOf(svc, addr)
	}
	version := st.Args.Version
	if version == "" {
		version = svc.Version
	}
	return svc, lang.InstanceVars{Address: addr, Group: group, Version: version, Service: svc.Name}, nil
}

// groupOf finds the group that declares an address.
func groupOf(svc *lang.Service, addr lang.Address) string {
	for _, g := range svc.Groups {
		for _, a := range g.Instances {
			if a == addr {
				return g.Name
			}
		}
	}
	return ""
}

// withArgs returns a copy of st, renamed as its inverse, with its args changed by fn.
func withArgs(st *planner.Step, fn func(*planner.StepArgs)) planner.Step {
	inv := planner.Step{ID: st.ID + ".undo", Kind: st.Kind, Service: st.Service, Target: st.Target, Args: st.Args}
	fn(&inv.Args)
	return inv
}
