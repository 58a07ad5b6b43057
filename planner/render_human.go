package planner

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// NoChangesMessage is the whole human rendering of a plan with nothing to do.
const NoChangesMessage = "No changes. Live state matches the configuration."

// RenderHuman writes the plan the way a reviewer reads it in a terminal: the changes
// grouped by service, the numbered steps grouped by service, the summary and the
// estimated wall time. The output depends only on the plan.
func RenderHuman(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	if !p.HasChanges() {
		fmt.Fprintln(bw, NoChangesMessage)
		return bw.Flush()
	}
	if lines := changeLines(p); len(lines) > 0 {
		fmt.Fprintln(bw, "nonstop will make these changes:")
		fmt.Fprintln(bw)
		for _, l := range lines {
			fmt.Fprintf(bw, "  %s\n", l)
		}
		fmt.Fprintln(bw)
	}
	if len(p.Steps) > 0 {
		fmt.Fprintln(bw, "Steps:")
		for _, sec := range stepSections(p) {
			fmt.Fprintln(bw)
			fmt.Fprintf(bw, "  # %s\n", sec.service)
			for _, l := range sec.lines {
				fmt.Fprintf(bw, "  %s\n", l)
			}
		}
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, planSummaryLine(p.Summary))
	fmt.Fprintf(bw, "Estimated wall time: %s (waits on the critical path)\n", time.Duration(p.Summary.EstimatedWall))
	return bw.Flush()
}

// planSummaryLine returns "Plan: 2 instances to upgrade, 4 weight changes, 1 route change."
func planSummaryLine(s Summary) string {
	parts := []string{
		plural(s.Upgrades, "instance", "instances") + " to upgrade",
		plural(s.WeightChanges, "weight change", "weight changes"),
		plural(s.RouteChanges, "route change", "route changes"),
	}
	if s.OtherChanges > 0 {
		parts = append(parts, plural(s.OtherChanges, "other change", "other changes"))
	}
	return "Plan: " + strings.Join(parts, ", ") + "."
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// changeLines returns one line per change that does something, grouped by service in
// the order services first appear: `~ order-service a/127.0.0.1:18081 version "1.4.2" -> "1.5.0"`.
func changeLines(p *Plan) []string {
	var order []string
	byService := map[string][]string{}
	for _, c := range p.Changes {
		if c.Action == NoOp || c.Action == "" {
			continue
		}
		if _, seen := byService[c.Service]; !seen {
			order = append(order, c.Service)
		}
		byService[c.Service] = append(byService[c.Service], changeLine(c))
	}
	var out []string
	for _, svc := range order {
		out = append(out, byService[svc]...)
	}
	return out
}

func changeLine(c Change) string {
	words := []string{c.Action.Symbol(), c.Service, c.Address}
	if c.Field != "" {
		words = append(words, c.Field)
	}
	switch c.Action {
	case Create:
		words = append(words, renderValue(c.After))
	case Delete:
		if c.Before != nil {
			words = append(words, renderValue(c.Before))
		}
	default:
		words = append(words, renderValue(c.Before), "->", renderValue(c.After))
	}
	return strings.Join(words, " ")
}

// renderValue prints a change's value: strings quoted, numbers plain, anything else
// as compact JSON.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case fmt.Stringer:
		return strconv.Quote(x.String())
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// stepSection is the steps of one service, numbered in plan order.
type stepSection struct {
	service string
	lines   []string
}

// stepSections numbers the steps (services in order of first appearance, steps in
// plan order within a service) and renders `N. kind target args`. A step that does
// not simply follow the line above it names what it waits for: "(after 3, 7)".
func stepSections(p *Plan) []stepSection {
	var order []string
	byService := map[string][]Step{}
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
func stepDeps(s Step, prev string, number map[string]int) string {
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
func stepText(s Step) string {
	words := []string{string(s.Kind)}
	if s.Target != "" {
		words = append(words, s.Target)
	}
	return strings.Join(append(words, stepArgsSummary(s)...), " ")
}

func stepArgsSummary(s Step) []string {
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
		if s.Kind == RouteSet {
			out = append(out, "version="+r.Version, renderRouteMatch(r.Match.ClientIP, r.Match.Header))
		}
	}
	if len(a.Analysis) > 0 {
		out = append(out, "analysis="+strings.Join(a.Analysis, ","))
	}
	if a.Duration != 0 {
		d := time.Duration(a.Duration).String()
		if s.Kind == WaitDrain || s.Kind == WaitServing {
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
	return out
}
