package views

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// stepSection is the steps of one service, numbered in plan order.
type stepSection struct {
	service string
	lines   []string
}

// stepSections numbers the steps (services in order of first appearance, steps in
// plan order within a service) and renders `N. kind target args`. A step that does
// not simply follow the line above it names what it waits for: "(after 3, 7)".
func stepSections(p *planner.Plan) []stepSection {
	var order []string
	byService := map[string][]planner.Step{}
	for _, s := range p.Steps {
		if _, seen := byService[s.Service]; !seen {
			order = append(order, s.Service)
		}
		byService[s.Service] = append(byService[s.Service], s)
	}
	number := map[string]int{}
	n := 0
	for _, svc := range order {
		for _, s := range byService[svc] {
			n++
			number[s.ID] = n
		}
	}
	width := len(strconv.Itoa(n))
	var out []stepSection
	for _, svc := range order {
		sec := stepSection{service: svc}
		if svc == "" {
			sec.service = "(all services)"
		}
		prev := ""
		for _, s := range byService[svc] {
			line := fmt.Sprintf("%*d. %s", width, number[s.ID], stepText(s))
			if deps := stepDeps(s, prev, number); deps != "" {
				line += " " + deps
			}
			sec.lines = append(sec.lines, line)
			prev = s.ID
		}
		out = append(out, sec)
	}
	return out
}

// stepDeps returns "(after 3, 7)" unless the step waits only for prev.
func stepDeps(s planner.Step, prev string, number map[string]int) string {
	if len(s.After) == 0 || (len(s.After) == 1 && s.After[0] == prev) {
		return ""
	}
	refs := make([]string, 0, len(s.After))
	for _, id := range s.After {
		if n, ok := number[id]; ok {
			refs = append(refs, strconv.Itoa(n))
		} else {
			refs = append(refs, id)
		}
	}
	return "(after " + strings.Join(refs, ", ") + ")"
}

// stepText renders "kind target args", e.g.
// "balancer.set_weight nginx.edge/order_backend/127.0.0.1:18081 weight=0".
func stepText(s planner.Step) string {
	words := []string{string(s.Kind)}
	if s.Target != "" {
		words = append(words, s.Target)
	}
	return strings.Join(append(words, stepArgsSummary(s)...), " ")
}

func stepArgsSummary(s planner.Step) []string {
	a := s.Args
	var out []string
	if a.Weight != nil {
		out = append(out, "weight="+strconv.Itoa(*a.Weight))
	}
	if a.RegistryWeight != nil {
		out = append(out, "weight="+strconv.FormatFloat(*a.RegistryWeight, 'f', -1, 64))
	}
	if len(a.Weights) > 0 {
		addrs := make([]string, 0, len(a.Weights))
		for addr := range a.Weights {
			addrs = append(addrs, addr)
		}
		sort.Strings(addrs)
		for i, addr := range addrs {
			addrs[i] = addr + "=" + strconv.Itoa(a.Weights[addr])
		}
		out = append(out, "weights="+strings.Join(addrs, ","))
	}
	if a.State != "" {
		out = append(out, "state="+string(a.State))
	}
	if a.Enabled != nil {
		out = append(out, "enabled="+strconv.FormatBool(*a.Enabled))
	}
	switch {
	case a.FromVersion != "" && a.Version != "":
		out = append(out, a.FromVersion, "->", a.Version)
	case a.Version != "":
		out = append(out, "version="+a.Version)
	}
	if r := a.Route; r != nil {
		if s.Target == "" {
			out = append(out, "route="+r.Name)
		}
		if s.Kind == planner.RouteSet {
			out = append(out, "version="+r.Version, routeMatchText(r.Match))
		}
	}
	if g := a.Gateway; g != nil {
		out = append(out, gatewayArgsText(g)...)
	}
	if len(a.Analysis) > 0 {
		out = append(out, "analysis="+strings.Join(a.Analysis, ","))
	}
	if s.Kind == planner.WaitDrain && a.InFlight != 0 {
		return append(out, inFlightDrainText(a)...)
	}
	if a.Duration != 0 {
		d := time.Duration(a.Duration).String()
		if s.Kind == planner.WaitDrain || s.Kind == planner.WaitServing {
			d = "up to " + d
		}
		out = append(out, d)
	}
	if a.UntilResumed {
		out = append(out, "until resumed")
	}
	if len(a.Members) > 0 {
		out = append(out, "("+plural(len(a.Members), "member", "members")+")")
	}
	if len(a.Close) > 0 {
		out = append(out, "then closes the sessions left on "+plural(len(a.Close), "long-lived member", "long-lived members"))
	}
	return out
}

// inFlightDrainText renders a wait.drain that holds an in-flight time:
// "10s in flight", then the members whose sessions it waits for and its bound,
// "(1 member up to 5m0s)", and the long-lived members it closes.
func inFlightDrainText(a planner.StepArgs) []string {
	out := []string{time.Duration(a.InFlight).String() + " in flight"}
	if len(a.Members) > 0 {
		out = append(out, "("+plural(len(a.Members), "member", "members")+" up to "+time.Duration(a.Duration).String()+")")
	}
	if len(a.Close) > 0 {
		out = append(out, "then closes the sessions left on "+plural(len(a.Close), "long-lived member", "long-lived members"))
	}
	return out
}

// routeMatchText prints a route match canonically (CIDRs sorted, header names
// canonicalised, comparisons by source): `client_ip=[10.8.0.0/16] header={X-Canary=1}
// query={id>=5000000}`, or "any". It is the form drift reports a route's match in.
func routeMatchText(m providers.RouteMatch) string { return m.String() }
