package views

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/nonstop-release/nonstop/planner"
)

// NoDriftMessage is the whole human rendering of an empty drift report.
const NoDriftMessage = "No drift. Live state matches the configuration."

// RenderDrift writes a drift report grouped by service:
// `~ instance a/127.0.0.1:18081 version: expected "1.5.0", actual "1.4.2"`.
func RenderDrift(w io.Writer, items []planner.DriftItem) error {
	bw := bufio.NewWriter(w)
	if len(items) == 0 {
		fmt.Fprintln(bw, NoDriftMessage)
		return bw.Flush()
	}
	fmt.Fprintf(bw, "Drift: %s from the configuration.\n", plural(len(items), "difference", "differences"))
	last := ""
	for i, it := range items {
		if i == 0 || it.Service != last {
			fmt.Fprintf(bw, "\n  %s\n", it.Service)
			last = it.Service
		}
		fmt.Fprintf(bw, "    %s %s %s%s\n", driftSymbol(it), it.Object, it.Address, driftDescription(it))
	}
	return bw.Flush()
}

// driftReport is the JSON rendering of a drift report (drift -json).
type driftReport struct {
	Drift bool                `json:"drift"`
	Items []planner.DriftItem `json:"items"`
}

// RenderDriftJSON writes a drift report as indented JSON followed by a newline:
// {"drift": ..., "items": [...]}, with "items" an empty list when there is no drift.
func RenderDriftJSON(w io.Writer, items []planner.DriftItem) error {
	if items == nil {
		items = []planner.DriftItem{}
	}
	return writeJSON(w, driftReport{Drift: len(items) > 0, Items: items})
}

// RenderDriftMarkdown renders a drift report as a markdown table under a summary line.
func RenderDriftMarkdown(items []planner.DriftItem) string {
	if len(items) == 0 {
		return "**Drift:** none. Live state matches the configuration.\n"
	}
	services := map[string]bool{}
	for _, it := range items {
		services[it.Service] = true
	}
	var b strings.Builder
	fmt.Fprintf(&b, "**Drift:** %s in %s.\n\n", plural(len(items), "difference", "differences"),
		plural(len(services), "service", "services"))
	b.WriteString("| | Service | Object | Address | Field | Expected | Actual |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, it := range items {
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | `%s` | `%s` |\n", driftSymbol(it),
			mdCell(it.Service), it.Object, mdCell(it.Address), it.Field,
			mdCell(driftValue(it.Expected)), mdCell(driftValue(it.Actual)))
	}
	return b.String()
}

func driftSymbol(it planner.DriftItem) string {
	if it.Field == "present" {
		if it.Expected == true {
			return "-"
		}
		return "+"
	}
	return "~"
}

func driftDescription(it planner.DriftItem) string {
	if it.Field == "present" {
		if it.Expected == true {
			return ": missing"
		}
		return ": not in the configuration"
	}
	return fmt.Sprintf(" %s: expected %s, actual %s", it.Field, driftValue(it.Expected), driftValue(it.Actual))
}

// driftValue renders an expected or actual value; a bound such as "> 0" is printed bare.
func driftValue(v any) string {
	if s, ok := v.(string); ok && strings.HasPrefix(s, "> ") {
		return s
	}
	return renderValue(v)
}

// mdCell escapes text for a markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
