package views

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// NoChangesMessage is the whole human rendering of a plan with nothing to do.
const NoChangesMessage = "No changes. Live state matches the configuration."

// RenderPlan writes the plan the way a reviewer reads it in a terminal: the changes
// grouped by service, the numbered steps grouped by service, the summary and the
// estimated wall time. The output depends only on the plan.
func RenderPlan(w io.Writer, p *planner.Plan) error {
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
	fmt.Fprint(bw, estimateText(p.Summary))
	return bw.Flush()
}

// planSummaryLine returns "Plan: 2 instances to upgrade, 4 weight changes, 1 route change."
func planSummaryLine(s planner.Summary) string {
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
func changeLines(p *planner.Plan) []string {
	var order []string
	byService := map[string][]string{}
	for _, c := range p.Changes {
		if c.Action == planner.NoOp || c.Action == "" {
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

func changeLine(c planner.Change) string {
	words := []string{c.Action.Symbol(), c.Service, c.Address}
	if c.Field != "" {
		words = append(words, c.Field)
	}
	render := renderValue
	if c.Object == "route" && c.Field == "match" {
		render = renderRouteMatch
	}
	switch c.Action {
	case planner.Create:
		words = append(words, render(c.After))
	case planner.Delete:
		if c.Before != nil {
			words = append(words, render(c.Before))
		}
	default:
		words = append(words, render(c.Before), "->", render(c.After))
	}
	return strings.Join(words, " ")
}

// renderRouteMatch prints a route's match as the steps do (`client_ip=[10.8.0.0/16]
// query={id>=5000000}`), whether the plan was made in memory (a
// providers.RouteMatch) or read from a plan file (its JSON object).
func renderRouteMatch(v any) string {
	var m providers.RouteMatch
	b, err := json.Marshal(v)
	if v == nil || err != nil || json.Unmarshal(b, &m) != nil {
		return renderValue(v)
	}
	return routeMatchText(m)
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

// RenderPlanJSON writes the plan in its own JSON encoding (the plan file's plan),
// indented, followed by a newline.
func RenderPlanJSON(w io.Writer, p *planner.Plan) error { return writeJSON(w, p) }

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
