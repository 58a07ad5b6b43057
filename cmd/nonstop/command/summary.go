package command

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/lang"
)

// sortedProviderRefs returns cfg's provider references in "kind.name" order.
func sortedProviderRefs(cfg *lang.Config) []lang.ProviderRef {
	out := make([]lang.ProviderRef, 0, len(cfg.Providers))
	for ref := range cfg.Providers {
		out = append(out, ref)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// writeSummary prints what a configuration releases, one service after another:
//
//	service "order-service" version 1.4.2, strategy rolling (batch: group)
//	  registry nacos.local (group DEFAULT_GROUP, cluster DEFAULT)
//	  group a: 127.0.0.1:18081, 127.0.0.1:18082
//	  balancer http: nginx.edge pool order_backend
func writeSummary(w io.Writer, cfg *lang.Config) {
	fmt.Fprintf(w, "%d service(s), %d provider(s):\n", len(cfg.ServiceNames), len(cfg.Providers))
	for _, ref := range sortedProviderRefs(cfg) {
		fmt.Fprintf(w, "  provider %s (%s)\n", ref, cfg.Providers[ref].Class)
	}
	for _, name := range cfg.ServiceNames {
		s := cfg.Services[name]
		if s == nil {
			continue
		}
		fmt.Fprintf(w, "\nservice %q version %s, strategy %s\n", name, s.Version, strategyText(s.Strategy))
		if r := s.Registry; r != nil {
			fmt.Fprintf(w, "  registry %s (group %s, cluster %s)\n", r.Provider, r.Group, r.Cluster)
		}
		for _, g := range s.Groups {
			addrs := make([]string, len(g.Instances))
			for i, a := range g.Instances {
				addrs[i] = a.String()
			}
			fmt.Fprintf(w, "  group %s: %s\n", g.Name, strings.Join(addrs, ", "))
		}
		for _, b := range s.Balancers {
			weight := "LB default"
			if b.Weight != nil {
				weight = fmt.Sprint(*b.Weight)
			}
			fmt.Fprintf(w, "  balancer %s: %s pool %s (weight %s)\n", b.Name, b.Provider, b.Pool, weight)
		}
		fmt.Fprintf(w, "  min_available %d, on_failure %s\n", s.MinAvailable, s.OnFailure)
	}
}

// strategyText describes a strategy in a few words.
func strategyText(st *lang.Strategy) string {
	if st == nil {
		return "(none)"
	}
	switch st.Kind {
	case lang.Rolling:
		switch {
		case st.Batch.ByGroup:
			return "rolling (batch: group)"
		case st.Batch.Percent > 0:
			return fmt.Sprintf("rolling (batch: %d%%)", st.Batch.Percent)
		default:
			return fmt.Sprintf("rolling (batch: %d)", st.Batch.Count)
		}
	case lang.BlueGreen:
		return fmt.Sprintf("blue_green (keep_standby: %t)", st.KeepStandby)
	case lang.Canary:
		steps := make([]string, len(st.Steps))
		for i, s := range st.Steps {
			steps[i] = fmt.Sprintf("%d%%", s.Weight)
			switch {
			case s.PauseUntilResumed:
				steps[i] += " pause manual"
			case s.Pause > 0:
				steps[i] += " pause " + s.Pause.String()
			}
		}
		return "canary (" + strings.Join(steps, " → ") + ")"
	}
	return string(st.Kind)
}
