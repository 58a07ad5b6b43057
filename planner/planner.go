package planner

import (
	"fmt"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// Options tunes MakePlan.
type Options struct {
	// Targets are the service names to plan (-target service.NAME); empty means all.
	Targets []string
	// Commit is the git commit recorded in Prior.
	Commit string
	// KnownVersions maps service -> address -> the version nonstop last deployed there
	// (from state). It is used when the registry hides an instance's version.
	KnownVersions map[string]map[string]string
}

// MakePlan diffs the configuration against the live state and returns the ordered,
// safe plan that moves the one to the other. (It cannot be called Plan: that is the
// name of the type it returns.) A plan that the safety replay rejects is not
// returned: the diagnostics say which step would break what.
func MakePlan(cfg *lang.Config, live *Live, opts Options) (*Plan, diags.Diagnostics) {
	var ds diags.Diagnostics
	if live == nil {
		live = &Live{}
	}
	names, tds := planTargets(cfg, opts.Targets)
	ds = ds.Append(tds)
	if ds.HasErrors() {
		return nil, ds
	}

	drafts := make([]*serviceDraft, 0, len(names))
	for _, name := range names {
		svc := cfg.Services[name]
		start := newServiceModel(svc, live.Services[name], opts.KnownVersions[name])
		sds := checkMembership(start)
		if !sds.HasErrors() {
			sds = sds.Append(precheck(start))
		}
		ds = ds.Append(sds)
		if sds.HasErrors() {
			continue
		}
		d, bds := buildService(cfg, start)
		ds = ds.Append(bds)
		if !bds.HasErrors() {
			drafts = append(drafts, d)
		}
	}
	if ds.HasErrors() {
		return nil, ds
	}

	steps, after, ods := assemble(drafts)
	ds = ds.Append(ods)
	if ds.HasErrors() {
		return nil, ds
	}
	p := &Plan{FormatVersion: FormatVersion, Steps: steps}

	starts := make(map[string]*serviceModel, len(drafts))
	for _, d := range drafts {
		starts[d.start.name] = d.start
	}
	finals, sds := replay(starts, p, after)
	ds = ds.Append(sds)
	if ds.HasErrors() {
		return nil, ds
	}
	for _, d := range drafts {
		p.Changes = append(p.Changes, diffService(d.start, finals[d.start.name])...)
	}
	p.Summary = summarize(p, after)
	p.Prior = Prior{Objects: Fingerprints(liveSubset(live, names)), ConfigHash: cfg.Hash, Commit: opts.Commit}
	return p, ds
}

// planTargets resolves Options.Targets to service names in declaration order.
func planTargets(cfg *lang.Config, targets []string) ([]string, diags.Diagnostics) {
	if len(targets) == 0 {
		return cfg.ServiceNames, nil
	}
	var ds diags.Diagnostics
	want := map[string]bool{}
	for _, t := range targets {
		name := trimService(t)
		if _, ok := cfg.Services[name]; !ok {
			ds = ds.Append(diags.Sourceless(diags.Error, "Invalid target",
				fmt.Sprintf("There is no service %q in the configuration; declared services are: %s.",
					name, strings.Join(cfg.ServiceNames, ", "))))
			continue
		}
		want[name] = true
	}
	var names []string
	for _, n := range cfg.ServiceNames {
		if want[n] {
			names = append(names, n)
		}
	}
	return names, ds
}

// liveSubset returns the live state of the named services only.
func liveSubset(live *Live, names []string) *Live {
	out := &Live{Services: make(map[string]*LiveService, len(names))}
	for _, n := range names {
		if ls := live.Services[n]; ls != nil {
			out.Services[n] = ls
		}
	}
	return out
}

// checkMembership reports declared instances that a balancer pool does not hold:
// nonstop changes members' weights and states but does not add members to pools.
func checkMembership(m *serviceModel) diags.Diagnostics {
	var ds diags.Diagnostics
	for bi, b := range m.bals {
		var missing []string
		for _, im := range m.insts {
			if !im.members[bi].present {
				missing = append(missing, im.addr)
			}
		}
		if len(missing) > 0 {
			ds = ds.Append(diags.Errorf(rangeOf(m.svc.Balancers[bi].DeclRange), "Instance missing from balancer pool",
				"Service %s declares %s, but pool %q of %s has no such member. nonstop changes the weights "+
					"and states of existing members and does not add members; add them to the pool first.",
				m.name, strings.Join(missing, ", "), b.pool, b.provider))
		}
	}
	return ds
}
