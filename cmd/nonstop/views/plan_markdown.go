package views

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// DefaultMarkdownMaxChars keeps a markdown part under GitHub's 65,536-character limit
// on a comment body.
const DefaultMarkdownMaxChars = 65000

// minMarkdownMaxChars is the smallest part size RenderPlanMarkdown honours; smaller
// requests are raised to it so a part always has room for its headers.
const minMarkdownMaxChars = 1000

// RenderPlanMarkdown renders the plan as pull-request comments. The first line of the
// first part is the summary ("**Plan:** ..."); the changes (a diff code block, with
// "~" shown as "!" so GitHub colours updates) and the numbered steps follow in
// collapsible <details> blocks. When the text does not fit in maxChars (0 means
// DefaultMarkdownMaxChars) it is split into parts, each shorter than maxChars and
// headed "(part 2 of 3)"; a code block cut by a split is closed at the end of one part
// and reopened at the start of the next.
func RenderPlanMarkdown(p *planner.Plan, maxChars int) []string {
	return RenderPlanReportMarkdown(PlanReport{Plan: p}, maxChars)
}

// PlanReport is what a pull-request comment about a plan shows: the plan and,
// in pull-request mode (plan -base), the configuration change base → head and
// the drift the plan repairs, apart from the changes it makes.
type PlanReport struct {
	// Marker returns the hidden first line of part k of n ("" for a report
	// that is not split), by which CI finds the comment it posted before; nil
	// means none.
	Marker func(part string) string
	// Header is the visible line above the summary: directory, workspace and
	// commit. "" means none.
	Header string
	Plan   *planner.Plan
	// Base is the base revision of a pull-request plan ("" otherwise); Config
	// the configuration's changes from it, by meaning.
	Base   string
	Config []lang.ConfigChange
	// Repair are the plan's changes that put back objects changed outside
	// nonstop (drift from the base configuration that the head keeps), and
	// Drift the drift from the base that no change of the plan puts back. The
	// other changes of the plan are what the configuration change does.
	Repair []planner.Change
	Drift  []planner.DriftItem
}

// RenderPlanReportMarkdown renders a plan report as pull-request comments, like
// RenderPlanMarkdown: each part starts with the marker, then the header; the
// first part has the summary lines (the plan's, then the configuration change
// and the drift repair counts), the others a "(continued)" line; then the
// sections, collapsible: the configuration change base → head, the changes to
// live systems, the drift repair, the steps (canary traffic steps with the new
// version's share of traffic).
func RenderPlanReportMarkdown(r PlanReport, maxChars int) []string {
	if maxChars <= 0 {
		maxChars = DefaultMarkdownMaxChars
	}
	maxChars = max(maxChars, minMarkdownMaxChars)
	p := r.Plan
	if p == nil {
		p = &planner.Plan{}
	}
	summary := "**Plan:** " + NoChangesMessage
	if p.HasChanges() {
		summary = "**Plan:**" + strings.TrimPrefix(planSummaryLine(p.Summary), "Plan:") + estimateMarkdown(p.Summary)
	}
	var extra []string
	if r.Base != "" {
		extra = append(extra, fmt.Sprintf("**Configuration:** %s from `%s`.", plural(len(r.Config), "change", "changes"), r.Base))
		if n := len(r.Repair) + len(r.Drift); n > 0 {
			extra = append(extra, fmt.Sprintf("**Drift repair:** %s changed outside nonstop (listed apart below; the plan puts back what it can).",
				plural(n, "object", "objects")))
		} else {
			extra = append(extra, "**Drift:** none: nothing was changed outside nonstop.")
		}
	}
	preamble := func(part string) string {
		var b strings.Builder
		if r.Marker != nil {
			b.WriteString(r.Marker(part) + "\n")
		}
		if r.Header != "" {
			b.WriteString(r.Header + "\n")
		}
		return b.String()
	}
	header := func(k, n int) string {
		part := ""
		if n > 1 {
			part = fmt.Sprintf("%d/%d", k, n)
		}
		lines := summary
		switch {
		case n == 1:
		case k == 1:
			lines = fmt.Sprintf("%s _(part 1 of %d)_", summary, n)
		default:
			return preamble(part) + fmt.Sprintf("**Plan (continued)** _(part %d of %d)_\n\n", k, n)
		}
		if len(extra) > 0 {
			lines += "\n" + strings.Join(extra, "\n")
		}
		return preamble(part) + lines + "\n\n"
	}
	sections := reportSections(r, p)
	if len(sections) == 0 {
		return []string{strings.TrimRight(header(1, 1), "\n") + "\n"}
	}

	// A header's length depends on the number of parts: split again, reserving room
	// for the headers of the last split, until the room reserved is enough.
	headerRoom := func(n int) int { return max(len(header(1, n)), len(header(n, n))) }
	reserve := headerRoom(1)
	var bodies []string
	for {
		bodies = splitMarkdownBodies(sections, maxChars-1-reserve)
		if need := headerRoom(len(bodies)); need > reserve {
			reserve = need
			continue
		}
		break
	}
	parts := make([]string, len(bodies))
	for i, body := range bodies {
		parts[i] = header(i+1, len(bodies)) + body
	}
	return parts
}

// markdownSection is a collapsible block holding one code block of lines.
type markdownSection struct {
	title string // "Changes (5)"
	lang  string // the code block's language: "diff", "text"
	lines []string
}

// ChangeLines renders changes one a line, as the plan shows them:
// `~ order-service a/127.0.0.1:18081 version "1.4.2" -> "1.5.0"`.
func ChangeLines(changes []planner.Change) []string {
	return changeLines(&planner.Plan{Changes: changes})
}

// diffLines shows "~" as "!", which GitHub colours in a diff block.
func diffLines(lines []string) []string {
	for i, l := range lines {
		if strings.HasPrefix(l, "~") {
			lines[i] = "!" + l[1:]
		}
	}
	return lines
}

func reportSections(r PlanReport, p *planner.Plan) []markdownSection {
	var secs []markdownSection
	if r.Base != "" && len(r.Config) > 0 {
		lines := make([]string, len(r.Config))
		for i, c := range r.Config {
			lines[i] = c.String()
		}
		secs = append(secs, markdownSection{title: fmt.Sprintf("Configuration change, %s → head (%d)", r.Base, len(lines)), lang: "diff", lines: diffLines(lines)})
	}
	repair := map[planner.Change]bool{}
	for _, c := range r.Repair {
		repair[comparableChange(c)] = true
	}
	release := *p
	release.Changes = nil
	for _, c := range p.Changes {
		if !repair[comparableChange(c)] {
			release.Changes = append(release.Changes, c)
		}
	}
	title := "Changes"
	if r.Base != "" {
		title = "Changes to live systems"
	}
	if lines := changeLines(&release); len(lines) > 0 {
		secs = append(secs, markdownSection{title: fmt.Sprintf("%s (%d)", title, len(lines)), lang: "diff", lines: diffLines(lines)})
	}
	if r.Base != "" && len(r.Repair)+len(r.Drift) > 0 {
		var lines []string
		for _, l := range changeLines(&planner.Plan{Changes: r.Repair}) {
			lines = append(lines, l)
		}
		for _, it := range r.Drift {
			lines = append(lines, fmt.Sprintf("%s %s %s %s%s (not repaired by this plan)", driftSymbol(it), it.Service, it.Object, it.Address, driftDescription(it)))
		}
		secs = append(secs, markdownSection{title: fmt.Sprintf("Drift repair: objects changed outside nonstop (%d)", len(lines)), lang: "diff", lines: diffLines(lines)})
	}
	if len(p.Steps) > 0 {
		shares := trafficShares(p)
		var lines []string
		for i, sec := range stepSections(p) {
			if i > 0 {
				lines = append(lines, "")
			}
			lines = append(lines, "# "+sec.service)
			for _, l := range sec.lines {
				lines = append(lines, l+shares[stepNumber(l)])
			}
		}
		secs = append(secs, markdownSection{title: fmt.Sprintf("Steps (%d)", len(p.Steps)), lang: "text", lines: lines})
	}
	return secs
}

// comparableChange is a change with its values as text, usable as a map key.
func comparableChange(c planner.Change) planner.Change {
	c.Before, c.After = fmt.Sprint(c.Before), fmt.Sprint(c.After)
	return c
}

// stepNumber returns the number a step line starts with: "12" of " 12. deploy ...".
func stepNumber(line string) string {
	n, _, _ := strings.Cut(strings.TrimSpace(line), ".")
	return n
}

// trafficShares returns, by step number, a note for each balancer.switch step:
// the share of the pool's traffic its weights give the instances deployed
// before it (the new version's), " → 1.5.0 gets 25% of traffic". Canary steps
// read as the percentages they were declared with.
func trafficShares(p *planner.Plan) map[string]string {
	out := map[string]string{}
	deployed := map[string]map[string]string{} // service → address → version
	n := 0
	for _, sec := range stepOrder(p) {
		n++
		s := sec
		switch s.Kind {
		case planner.Deploy:
			if deployed[s.Service] == nil {
				deployed[s.Service] = map[string]string{}
			}
			deployed[s.Service][s.Args.Address] = s.Args.Version
			if s.Args.Address == "" {
				deployed[s.Service][lastSegment(s.Target)] = s.Args.Version
			}
		case planner.BalancerSwitch:
			total, fresh, version := 0, 0, ""
			for addr, w := range s.Args.Weights {
				total += w
				if v, ok := deployed[s.Service][addr]; ok {
					fresh += w
					version = v
				}
			}
			if total > 0 && version != "" {
				out[strconv.Itoa(n)] = fmt.Sprintf(" → %s gets %d%% of traffic", version, int(math.Round(100*float64(fresh)/float64(total))))
			}
		}
	}
	return out
}

// stepOrder returns the steps in the order stepSections numbers them: services
// in order of first appearance, steps in plan order within a service.
func stepOrder(p *planner.Plan) []planner.Step {
	var order []string
	by := map[string][]planner.Step{}
	for _, s := range p.Steps {
		if _, seen := by[s.Service]; !seen {
			order = append(order, s.Service)
		}
		by[s.Service] = append(by[s.Service], s)
	}
	var out []planner.Step
	for _, svc := range order {
		out = append(out, by[svc]...)
	}
	return out
}

// lastSegment returns what follows the last "/" of s.
func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// splitMarkdownBodies lays the sections out into bodies of at most budget bytes. A
// section cut by a split is closed and reopened with a "continued" title.
func splitMarkdownBodies(secs []markdownSection, budget int) []string {
	var (
		bodies []string
		cur    strings.Builder
	)
	flush := func() {
		bodies = append(bodies, cur.String())
		cur.Reset()
	}
	for _, sec := range secs {
		fence := codeFence(sec.lines)
		closing := fence + "\n\n</details>\n\n"
		opening := func(continued bool) string {
			title := sec.title
			if continued {
				title = strings.TrimSuffix(title, ")") + ", continued)"
			}
			return "<details><summary>" + title + "</summary>\n\n" + fence + sec.lang + "\n"
		}
		lineRoom := budget - len(opening(true)) - len(closing) - 1
		open, chunks := false, 0
		for _, line := range sec.lines {
			line = truncateLine(line, lineRoom)
			need := len(line) + 1 + len(closing)
			if !open {
				need += len(opening(chunks > 0))
			}
			if cur.Len()+need > budget && cur.Len() > 0 {
				if open {
					cur.WriteString(closing)
					open = false
				}
				flush()
			}
			if !open {
				cur.WriteString(opening(chunks > 0))
				open = true
				chunks++
			}
			cur.WriteString(line)
			cur.WriteString("\n")
		}
		if open {
			cur.WriteString(closing)
		}
	}
	if cur.Len() > 0 || len(bodies) == 0 {
		flush()
	}
	for i, b := range bodies {
		bodies[i] = strings.TrimRight(b, "\n") + "\n"
	}
	return bodies
}

// codeFence returns a backtick fence longer than any backtick run in lines, so no
// line can close the code block early.
func codeFence(lines []string) string {
	longest := 0
	for _, l := range lines {
		run := 0
		for _, r := range l {
			if r == '`' {
				run++
				longest = max(longest, run)
			} else {
				run = 0
			}
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// truncateLine shortens a line to at most room bytes, on a rune boundary, marking
// the cut with "…".
func truncateLine(line string, room int) string {
	if len(line) <= room {
		return line
	}
	const mark = "…"
	cut := max(room-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return line[:cut] + mark
}
