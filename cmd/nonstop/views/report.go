package views

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor"
)

// Report is what a release report tells: the releases of one apply and the
// timeline the apply recorded.
type Report struct {
	// ApplyID identifies the apply, "" when unknown (apply -report).
	ApplyID string
	// Commit and By are the commit the plan was made at and who ran the apply;
	// empty ones are taken from the timeline.
	Commit string
	By     string
	// Started and Finished bound the apply; zero ones are taken from the timeline.
	Started  time.Time
	Finished time.Time
	// Outcome is the apply's summary ("Apply complete: ..."); "" takes the
	// timeline's.
	Outcome  string
	Failed   bool
	Releases []ReportRelease
	// Timeline is what the apply recorded; nil when it recorded none (an apply
	// interrupted before it ended, or made by an older nonstop).
	Timeline *executor.Timeline
}

// ReportRelease is one service's release.
type ReportRelease struct {
	Service string
	From    string
	To      string
	// Result is success, failed, rolled_back, interrupted, or an executor outcome.
	Result string
}

// Geometry of the report's charts, in SVG user units.
const (
	rpWidth   = 1200
	rpLabel   = 300 // the label column
	rpRight   = 24
	rpLane    = 16
	rpBar     = 12
	rpAxis    = 24
	rpShareH  = 80
	rpServeH  = 56
	rpMinBarW = 3
)

// Colours of step kinds and groups.
var (
	kindColours = map[string]string{
		"deploy": "#4c78a8", "wait.healthy": "#72b7b2", "verify": "#72b7b2",
		"wait.propagation": "#bab0ac", "wait.drain": "#bab0ac", "wait.serving": "#9ecae9",
		"balancer.set_weight": "#f58518", "balancer.set_state": "#f58518", "balancer.switch": "#f58518",
		"registry.set_enabled": "#54a24b", "registry.set_weight": "#54a24b",
		"route.set": "#b279a2", "route.delete": "#b279a2",
		"gate.analysis": "#eeca3b", "pause": "#9d755d",
	}
	groupColours = []string{"#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b", "#9d755d"}
)

// WriteReport writes the release report: one self-contained HTML page (inline
// CSS, SVG and a little script; nothing fetched from the network) with each step
// as a bar on a time axis per service, group and instance, each balancer pool's
// and registry's share of traffic weight and serving members per group over
// time as nonstop read them back, the gates' values, the failures and
// rollbacks, the commit and who ran the apply.
func WriteReport(w io.Writer, r Report) error {
	tl := r.Timeline
	if tl != nil {
		if r.Commit == "" {
			r.Commit = tl.Commit
		}
		if r.By == "" {
			r.By = tl.By
		}
		if r.Started.IsZero() {
			r.Started = tl.Started
		}
		if r.Finished.IsZero() {
			r.Finished = tl.Started.Add(time.Duration(tl.EndMS) * time.Millisecond)
		}
		if r.Outcome == "" {
			r.Outcome, r.Failed = tl.Outcome, r.Failed || tl.Failed
		}
		if len(r.Releases) == 0 {
			for _, s := range tl.Services {
				r.Releases = append(r.Releases, ReportRelease{Service: s.Name, From: s.From, To: s.To})
			}
		}
	}
	for _, rel := range r.Releases {
		if rel.Result != "" && rel.Result != "success" && rel.Result != "applied" {
			r.Failed = true
		}
	}
	var b strings.Builder
	rp := &reportPage{r: r, b: &b}
	rp.page()
	_, err := io.WriteString(w, b.String())
	return err
}

type reportPage struct {
	r Report
	b *strings.Builder
	// scale: the time axis.
	totalMS int64
	pxPerMS float64
}

func (p *reportPage) printf(format string, args ...any) { fmt.Fprintf(p.b, format, args...) }

// esc escapes text for HTML and SVG.
func esc(s string) string { return html.EscapeString(s) }

func (p *reportPage) page() {
	r := p.r
	var services []string
	for _, rel := range r.Releases {
		services = append(services, rel.Service)
	}
	title := "nonstop release report"
	if len(services) > 0 {
		title += ": " + strings.Join(services, ", ")
	}
	p.printf("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	p.printf("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p.printf("<meta name=\"generator\" content=\"nonstop\">\n<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(title), reportCSS)
	p.header(title)
	p.releases()
	if r.Timeline == nil {
		p.printf("<p class=\"note\" id=\"no-timeline\">No timeline was recorded for this release: the apply was interrupted before it ended, " +
			"or it was made by a nonstop that did not record timelines, or it is older than the releases the state keeps timelines for.</p>\n")
	} else {
		p.scale()
		p.timeline()
		p.traffic()
		p.gates()
		p.marks()
		p.stepTable()
	}
	p.printf("<footer>Written by nonstop. This page is self-contained: it loads nothing from the network.</footer>\n")
	p.printf("<script>%s</script>\n</body>\n</html>\n", reportJS)
}

func (p *reportPage) header(title string) {
	r := p.r
	outcome := r.Outcome
	for strings.HasPrefix(outcome, "Apply failed: Apply failed: ") { // the executor's summary already says so
		outcome = strings.TrimPrefix(outcome, "Apply failed: ")
	}
	if outcome == "" {
		outcome = "Outcome unknown"
	}
	cls := "ok"
	if r.Failed {
		cls = "bad"
	}
	p.printf("<header>\n<h1>%s</h1>\n<p class=\"outcome %s\" id=\"outcome\">%s</p>\n<dl class=\"meta\">\n", esc(title), cls, esc(outcome))
	item := func(k, v, id string) {
		if v == "" {
			v = "unknown"
		}
		p.printf("<div><dt>%s</dt><dd id=\"%s\">%s</dd></div>\n", esc(k), id, esc(v))
	}
	if r.ApplyID != "" {
		item("apply", r.ApplyID, "apply-id")
	}
	item("commit", r.Commit, "commit")
	item("run by", r.By, "run-by")
	started := ""
	if !r.Started.IsZero() {
		started = r.Started.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	item("started", started, "started")
	took := ""
	if !r.Started.IsZero() && !r.Finished.IsZero() && !r.Finished.Before(r.Started) {
		took = r.Finished.Sub(r.Started).Round(100 * time.Millisecond).String()
	}
	item("took", took, "took")
	p.printf("</dl>\n</header>\n")
}

func (p *reportPage) releases() {
	p.printf("<section id=\"releases\">\n<h2>Releases</h2>\n<table>\n<thead><tr><th>service</th><th>from</th><th>to</th><th>result</th><th>steps</th></tr></thead>\n<tbody>\n")
	for _, rel := range p.r.Releases {
		done, failed, rolled := 0, 0, 0
		if tl := p.r.Timeline; tl != nil {
			for _, s := range tl.Steps {
				if s.Service != rel.Service {
					continue
				}
				switch {
				case s.Rollback:
					rolled++
				case s.Result == executor.StepDone:
					done++
				default:
					failed++
				}
			}
		}
		steps := fmt.Sprintf("%d done", done)
		if failed > 0 {
			steps += fmt.Sprintf(", %d failed or interrupted", failed)
		}
		if rolled > 0 {
			steps += fmt.Sprintf(", %d rollback", rolled)
		}
		result := rel.Result
		if result == "" {
			result = "unknown"
		}
		p.printf("<tr><td>%s</td><td>%s</td><td>%s</td><td><span class=\"badge %s\">%s</span></td><td>%s</td></tr>\n",
			esc(rel.Service), esc(dash(rel.From)), esc(dash(rel.To)), badgeClass(result), esc(strings.ReplaceAll(result, "_", " ")), esc(steps))
	}
	p.printf("</tbody>\n</table>\n</section>\n")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func badgeClass(result string) string {
	switch result {
	case "success", "applied", "pass", executor.StepDone:
		return "ok"
	case "rolled_back", "paused", "no_data", "interrupted", "running":
		return "warn"
	case "unknown":
		return ""
	}
	return "bad"
}

// scale sets the time axis: from the apply's start to its end or the last
// thing recorded.
func (p *reportPage) scale() {
	tl := p.r.Timeline
	end := tl.EndMS
	for _, s := range tl.Steps {
		end = max(end, s.EndMS)
	}
	for _, s := range tl.Traffic {
		for _, smp := range s.Samples {
			end = max(end, smp.U)
		}
	}
	p.totalMS = max(end, 1000)
	p.pxPerMS = float64(rpWidth-rpLabel-rpRight) / float64(p.totalMS)
}

func (p *reportPage) x(ms int64) float64 { return rpLabel + float64(ms)*p.pxPerMS }

// offset renders milliseconds since the start: "+1.2s", "+1m5s".
func offset(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Minute {
		return fmt.Sprintf("+%.1fs", d.Seconds())
	}
	return "+" + d.Round(time.Second).String()
}

// tickLabel renders an axis tick: "0s", "30s", "1m30s", "0.5s".
func tickLabel(ms int64) string {
	d := time.Duration(ms) * time.Millisecond
	if d%time.Second != 0 {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.String()
}

// tickStep picks a round interval giving at most 12 ticks.
func tickStep(total int64) int64 {
	for _, s := range []int64{100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000, 1800000, 3600000} {
		if total/s <= 12 {
			return s
		}
	}
	return 7200000
}

// axis draws the time axis at y with grid lines down to bottom.
func (p *reportPage) axis(y, bottom float64) {
	step := tickStep(p.totalMS)
	p.printf("<g class=\"axis\">")
	for t := int64(0); t <= p.totalMS; t += step {
		x := p.x(t)
		p.printf("<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, y, x, bottom)
		p.printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>", x, y-6, tickLabel(t))
	}
	p.printf("</g>\n")
}

// markLines draws the rollbacks, pauses and failures as vertical lines from y0
// to y1, labelled when label is set.
func (p *reportPage) markLines(y0, y1 float64, service string, label bool) {
	tl := p.r.Timeline
	type mark struct {
		x                       float64
		cls, kind, title, label string
	}
	var marks []mark
	for _, m := range tl.Marks {
		if service != "" && m.Service != service && m.Service != "" {
			continue
		}
		cls, text := "", ""
		switch m.Kind {
		case executor.EventRollbackStart:
			cls, text = "mark-rollback", "rollback "+m.Service
		case executor.EventRollbackComplete:
			cls, text = "mark-rolledback", "rolled back "+m.Service
		case executor.EventRollbackErrored:
			cls, text = "mark-failed", "rollback failed "+m.Service
		case executor.EventServicePaused:
			cls, text = "mark-paused", "paused "+m.Service
		default:
			continue
		}
		marks = append(marks, mark{p.x(m.T), cls, m.Kind, offset(m.T) + " " + m.Message, text})
	}
	for _, s := range tl.Steps {
		if s.Result != executor.StepFailed || (service != "" && s.Service != service) {
			continue
		}
		marks = append(marks, mark{p.x(s.EndMS), "mark-failed", "step_errored", offset(s.EndMS) + " " + s.ID + " failed: " + s.Error, s.ID + " failed"})
	}
	slices.SortStableFunc(marks, func(a, b mark) int { return cmp64(int64(a.x*10), int64(b.x*10)) })
	// Each label goes on the first of four lines where it does not overlap the
	// last label there; near the right edge it goes left of its line.
	var ends []float64
	for _, m := range marks {
		p.printf("<g class=\"mark %s\" data-mark=\"%s\"><title>%s</title><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
			m.cls, esc(m.kind), esc(m.title), m.x, y0, m.x, y1)
		if label {
			w := float64(len(m.label))*6 + 6
			tx, x0, x1, anchor := m.x+3, m.x+3, m.x+3+w, ""
			if x1 > rpWidth {
				tx, x0, x1, anchor = m.x-3, m.x-3-w, m.x-3, ` text-anchor="end"`
			}
			line := -1
			for i, e := range ends {
				if e < x0 {
					line = i
					break
				}
			}
			switch {
			case line >= 0:
			case len(ends) < 4:
				line = len(ends)
				ends = append(ends, 0)
			default:
				line = 0
			}
			ends[line] = x1
			p.printf("<text x=\"%.1f\" y=\"%.1f\"%s>%s</text>", tx, y0+10+float64(line)*12, anchor, esc(m.label))
		}
		p.printf("</g>\n")
	}
}

// row is one line of the step chart: a service, a group or an instance.
type row struct {
	level int // 0 service, 1 group, 2 instance
	label string
	sub   string
	steps []int
	lanes []int // lane of each step
	n     int   // lanes
}

// rows lays the steps out per service, group and instance.
func (p *reportPage) rows() []*row {
	tl := p.r.Timeline
	var order []string
	groupsOf := map[string][]executor.TimelineGroup{}
	versions := map[string]string{}
	for _, s := range tl.Services {
		order = append(order, s.Name)
		groupsOf[s.Name] = s.Groups
		if s.From != "" || s.To != "" {
			versions[s.Name] = dash(s.From) + " → " + dash(s.To)
		}
	}
	for _, s := range tl.Steps {
		if !slices.Contains(order, s.Service) {
			order = append(order, s.Service)
		}
	}
	var out []*row
	for _, svc := range order {
		groups := slices.Clone(groupsOf[svc])
		svcRow := &row{level: 0, label: svc, sub: versions[svc]}
		groupRows := map[string]*row{}
		instRows := map[string]*row{}
		instOrder := map[string][]string{}
		for _, g := range groups {
			instOrder[g.Name] = slices.Clone(g.Instances)
		}
		for i, s := range tl.Steps {
			if s.Service != svc {
				continue
			}
			switch {
			case s.Address != "":
				g := s.Group
				if g == "" {
					g = "(no group)"
				}
				if !slices.ContainsFunc(groups, func(x executor.TimelineGroup) bool { return x.Name == g }) {
					groups = append(groups, executor.TimelineGroup{Name: g})
				}
				if !slices.Contains(instOrder[g], s.Address) {
					instOrder[g] = append(instOrder[g], s.Address)
				}
				k := g + "|" + s.Address
				if instRows[k] == nil {
					instRows[k] = &row{level: 2, label: s.Address}
				}
				instRows[k].steps = append(instRows[k].steps, i)
			case s.Group != "":
				if !slices.ContainsFunc(groups, func(x executor.TimelineGroup) bool { return x.Name == s.Group }) {
					groups = append(groups, executor.TimelineGroup{Name: s.Group})
				}
				if groupRows[s.Group] == nil {
					groupRows[s.Group] = &row{level: 1, label: "group " + s.Group}
				}
				groupRows[s.Group].steps = append(groupRows[s.Group].steps, i)
			default:
				svcRow.steps = append(svcRow.steps, i)
			}
		}
		out = append(out, svcRow)
		for _, g := range groups {
			var insts []*row
			for _, a := range instOrder[g.Name] {
				if r := instRows[g.Name+"|"+a]; r != nil {
					insts = append(insts, r)
				}
			}
			gr := groupRows[g.Name]
			if gr == nil && len(insts) == 0 {
				continue
			}
			if gr == nil {
				gr = &row{level: 1, label: "group " + g.Name}
			}
			out = append(out, gr)
			out = append(out, insts...)
		}
	}
	for _, r := range out {
		p.lanes(r)
	}
	return out
}

// lanes puts the steps of a row in lanes so that bars never overlap.
func (p *reportPage) lanes(r *row) {
	tl := p.r.Timeline
	slices.SortStableFunc(r.steps, func(a, b int) int {
		if c := cmp64(tl.Steps[a].StartMS, tl.Steps[b].StartMS); c != 0 {
			return c
		}
		return a - b
	})
	minMS := int64(math.Ceil((rpMinBarW + 1) / p.pxPerMS))
	var ends []int64
	r.lanes = make([]int, len(r.steps))
	for i, si := range r.steps {
		s := tl.Steps[si]
		end := max(s.EndMS, s.StartMS+minMS)
		lane := -1
		for l, e := range ends {
			if e <= s.StartMS {
				lane = l
				break
			}
		}
		if lane < 0 {
			lane = len(ends)
			ends = append(ends, 0)
		}
		ends[lane] = end
		r.lanes[i] = lane
	}
	r.n = max(1, len(ends))
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// timeline draws the step chart.
func (p *reportPage) timeline() {
	tl := p.r.Timeline
	rows := p.rows()
	height := float64(rpAxis) + 8
	for _, r := range rows {
		height += float64(r.n*rpLane + 8)
	}
	p.printf("<section id=\"timeline\">\n<h2>Steps</h2>\n")
	p.printf("<p class=\"hint\">Each step is a bar from its start to its end, on the row of the service, group or instance it acts on. " +
		"Red: failed; striped: a rollback step; grey hatching: still running when the apply ended. Hover a bar for its details.</p>\n")
	p.legend()
	p.printf("<svg class=\"chart\" id=\"steps-chart\" viewBox=\"0 0 %d %.0f\" width=\"100%%\" role=\"img\" aria-label=\"steps on a time axis\">\n", rpWidth, height)
	p.printf("%s\n", svgDefs)
	p.axis(rpAxis, height)
	y := float64(rpAxis) + 4
	gateText := map[string][]string{}
	for _, g := range tl.Gates {
		gateText[g.StepID] = append(gateText[g.StepID], gateLine(g))
	}
	for ri, r := range rows {
		h := float64(r.n*rpLane + 8)
		cls := []string{"row-service", "row-group", "row-instance"}[r.level]
		if ri%2 == 1 {
			cls += " zebra"
		}
		p.printf("<g class=\"row %s\"><rect class=\"rowbg\" x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>", cls, y, rpWidth, h)
		indent := []int{6, 18, 30}[r.level]
		p.printf("<text class=\"label\" x=\"%d\" y=\"%.1f\">%s", indent, y+15, esc(r.label))
		if r.sub != "" {
			p.printf("<tspan class=\"sub\" dx=\"8\">%s</tspan>", esc(r.sub))
		}
		p.printf("</text></g>\n")
		for i, si := range r.steps {
			s := tl.Steps[si]
			p.bar(s, si, y+4+float64(r.lanes[i]*rpLane), gateText[s.ID])
		}
		y += h
	}
	p.markLines(rpAxis, height, "", true)
	p.printf("</svg>\n</section>\n")
}

// legend explains the colours of the step chart.
func (p *reportPage) legend() {
	p.printf("<ul class=\"legend\">")
	for _, k := range []struct{ name, colour string }{
		{"deploy", kindColours["deploy"]}, {"health and verify", kindColours["verify"]}, {"waits", kindColours["wait.propagation"]},
		{"wait.serving", kindColours["wait.serving"]}, {"balancer", kindColours["balancer.set_weight"]}, {"registry", kindColours["registry.set_enabled"]},
		{"route", kindColours["route.set"]}, {"gate", kindColours["gate.analysis"]}, {"pause", kindColours["pause"]}, {"failed", "#e45756"},
	} {
		p.printf("<li><span class=\"swatch\" style=\"background:%s\"></span>%s</li>", k.colour, esc(k.name))
	}
	p.printf("</ul>\n")
}

// bar draws one step.
func (p *reportPage) bar(s executor.TimelineStep, index int, y float64, gates []string) {
	x0 := p.x(s.StartMS)
	w := max(float64(rpMinBarW), p.x(s.EndMS)-x0)
	colour := kindColours[s.Kind]
	if colour == "" {
		colour = "#888"
	}
	cls := "bar"
	switch s.Result {
	case executor.StepFailed:
		cls += " failed"
		colour = "#e45756"
	case executor.StepInterrupted:
		cls += " interrupted"
	}
	if s.Rollback {
		cls += " rollback"
	}
	var tip strings.Builder
	fmt.Fprintf(&tip, "%s  %s %s", s.ID, s.Kind, s.Target)
	if s.Detail != "" {
		fmt.Fprintf(&tip, " (%s)", s.Detail)
	}
	fmt.Fprintf(&tip, "\n%s, took %s: %s", offset(s.StartMS), time.Duration(s.EndMS-s.StartMS)*time.Millisecond, s.Result)
	if s.Rollback {
		tip.WriteString(" (rollback)")
	}
	if s.Error != "" {
		tip.WriteString("\n" + s.Error)
	}
	for _, g := range gates {
		tip.WriteString("\n" + g)
	}
	p.printf("<g class=\"%s\" data-step=\"%s\" data-i=\"%d\"><title>%s</title>", cls, esc(s.ID), index, esc(tip.String()))
	p.printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" rx=\"2\" fill=\"%s\"/>", x0, y, w, rpBar, colour)
	if s.Rollback {
		p.printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"url(#stripes)\"/>", x0, y, w, rpBar)
	}
	if s.Result == executor.StepInterrupted {
		p.printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"url(#hatch)\"/>", x0, y, w, rpBar)
	}
	label := shortKind(s.Kind)
	if len(gates) > 0 {
		label = strings.Join(gates, "; ")
	} else if s.Detail != "" && len(s.Detail) < 24 {
		label += " " + s.Detail
	}
	if float64(len(label))*6.2+6 > w {
		label = shortKind(s.Kind)
	}
	if float64(len(label))*6.2+6 <= w {
		p.printf("<text class=\"barlabel\" x=\"%.1f\" y=\"%.1f\">%s</text>", x0+3, y+10, esc(label))
	}
	p.printf("</g>\n")
}

// shortKind drops a step kind's family: "set_weight", "propagation".
func shortKind(kind string) string {
	if _, k, ok := strings.Cut(kind, "."); ok && kind != "gate.analysis" {
		return k
	}
	return kind
}

func gateLine(g executor.GateValue) string {
	switch {
	case g.Value != nil && g.Result == "pass":
		return fmt.Sprintf("%s %g ≤ %g", g.Analysis, *g.Value, g.Max)
	case g.Value != nil:
		return fmt.Sprintf("%s %g > %g", g.Analysis, *g.Value, g.Max)
	case g.Result == "no_data":
		return g.Analysis + ": no data"
	}
	return g.Analysis + ": " + g.Error
}

// traffic draws, per balancer pool and registry, the share of traffic weight
// and the members serving per group, as read back.
func (p *reportPage) traffic() {
	tl := p.r.Timeline
	p.printf("<section id=\"traffic\">\n<h2>Traffic, as nonstop read it back</h2>\n")
	if len(tl.Traffic) == 0 {
		p.printf("<p class=\"note\">No pool or registry was read back during this apply (no wait.serving, wait.drain, " +
			"balancer with health checks, or registry).</p>\n</section>\n")
		return
	}
	p.printf("<p class=\"hint\">Upper band: each group's share of the traffic weight of the members serving (a member serves when the balancer " +
		"or registry routes to it: weight above zero, ready or enabled, and healthy by its checks). Lower band: the members serving per group. " +
		"Solid where nonstop read these values, faded between two reads.</p>\n")
	series := slices.Clone(tl.Traffic)
	slices.SortStableFunc(series, func(a, b executor.TrafficSeries) int {
		if c := strings.Compare(a.Service, b.Service); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	for i, s := range series {
		p.series(i, s)
	}
	p.printf("</section>\n")
}

// groupColour gives a group the colour of its declaration order in its service.
func (p *reportPage) groupColour(service, group string) string {
	for _, s := range p.r.Timeline.Services {
		if s.Name != service {
			continue
		}
		for i, g := range s.Groups {
			if g.Name == group {
				return groupColours[i%len(groupColours)]
			}
		}
	}
	if group == "other" {
		return "#999"
	}
	h := 0
	for _, c := range group {
		h = h*31 + int(c)
	}
	return groupColours[(h%len(groupColours)+len(groupColours))%len(groupColours)]
}

func (p *reportPage) series(n int, s executor.TrafficSeries) {
	name := s.Provider + " / " + s.Pool
	if s.Kind == "registry" {
		name = "registry " + s.Provider + ": " + s.Pool
	}
	var groups []string
	maxMembers := 1
	minServing, minAt := math.MaxInt, int64(0)
	for _, smp := range s.Samples {
		total, serving := 0, 0
		for _, g := range smp.Groups {
			if !slices.Contains(groups, g.Group) {
				groups = append(groups, g.Group)
			}
			total += g.Members
			serving += g.Serving
			maxMembers = max(maxMembers, g.Members)
		}
		if serving < minServing {
			minServing, minAt = serving, smp.T
		}
	}
	slices.Sort(groups)
	summary := fmt.Sprintf("%d reads with a change; fewest members serving: %d (at %s)", len(s.Samples), minServing, offset(minAt))
	cls := "ok"
	if minServing == 0 {
		summary = fmt.Sprintf("NO member serving at %s", offset(minAt))
		cls = "bad"
	}
	p.printf("<figure class=\"series\" id=\"series-%d\" data-series=\"%s\">\n<figcaption><b>%s</b>", n, esc(s.Kind+" "+s.Provider+"/"+s.Pool), esc(name))
	if s.Service != "" {
		p.printf(" <span class=\"sub\">(%s)</span>", esc(s.Service))
	}
	p.printf(" <span class=\"summary %s\">%s</span></figcaption>\n<ul class=\"legend\">", cls, esc(summary))
	for _, g := range groups {
		p.printf("<li><span class=\"swatch\" style=\"background:%s\"></span>group %s</li>", p.groupColour(s.Service, g), esc(g))
	}
	p.printf("</ul>\n")
	top := float64(rpAxis)
	serveTop := top + rpShareH + 14
	height := serveTop + rpServeH + 6
	p.printf("<svg class=\"chart\" viewBox=\"0 0 %d %.0f\" width=\"100%%\" role=\"img\" aria-label=\"traffic of %s\">\n", rpWidth, height, esc(name))
	p.axis(top, height)
	p.printf("<text class=\"label\" x=\"6\" y=\"%.1f\">share of weight</text>", top+rpShareH/2+4)
	p.printf("<text class=\"sub\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">100%%</text>", rpLabel-4, top+10)
	p.printf("<text class=\"sub\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">0%%</text>", rpLabel-4, top+rpShareH)
	p.printf("<text class=\"label\" x=\"6\" y=\"%.1f\">members serving</text>", serveTop+rpServeH/2+4)
	p.printf("<text class=\"sub\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d</text>", rpLabel-4, serveTop+10, maxMembers)
	p.printf("<text class=\"sub\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">0</text>", rpLabel-4, serveTop+rpServeH)
	p.printf("<rect class=\"frame\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>", rpLabel, top, rpWidth-rpLabel-rpRight, rpShareH)
	p.printf("<rect class=\"frame\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>\n", rpLabel, serveTop, rpWidth-rpLabel-rpRight, rpServeH)
	for i, smp := range s.Samples {
		next := smp.U
		if i+1 < len(s.Samples) {
			next = s.Samples[i+1].T
		}
		p.sample(s, smp, next, top, serveTop, maxMembers, groups)
	}
	p.markLines(top, height, s.Service, false)
	p.printf("</svg>\n</figure>\n")
}

// sample draws one sample: solid from its first to its last read, faded until
// the next sample.
func (p *reportPage) sample(s executor.TrafficSeries, smp executor.TrafficSample, next int64, top, serveTop float64, maxMembers int, groups []string) {
	var total float64
	var tip strings.Builder
	fmt.Fprintf(&tip, "%s to %s", offset(smp.T), offset(smp.U))
	for _, g := range smp.Groups {
		total += g.Weight
	}
	for _, g := range smp.Groups {
		share := 0.0
		if total > 0 {
			share = g.Weight / total * 100
		}
		fmt.Fprintf(&tip, "\ngroup %s: %.0f%% of the weight (%g), %d of %d members serving", g.Group, share, g.Weight, g.Serving, g.Members)
	}
	x0 := p.x(smp.T)
	read := max(1.5, p.x(smp.U)-x0)
	held := max(read, p.x(next)-x0)
	p.printf("<g class=\"sample\"><title>%s</title>", esc(tip.String()))
	for _, part := range []struct {
		w   float64
		cls string
	}{{held, "held"}, {read, "read"}} {
		if part.cls == "held" && held <= read {
			continue
		}
		if total <= 0 {
			p.printf("<rect class=\"none %s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"/>", part.cls, x0, top, part.w, rpShareH)
		} else {
			y := top
			for _, g := range smp.Groups {
				h := g.Weight / total * rpShareH
				if h <= 0 {
					continue
				}
				p.printf("<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", part.cls, x0, y, part.w, h, p.groupColour(s.Service, g.Group))
				y += h
			}
		}
	}
	// Members serving: one step line per group, each group a pixel apart so that
	// equal counts stay visible.
	for _, g := range smp.Groups {
		y := serveTop + rpServeH - float64(g.Serving)/float64(maxMembers)*(rpServeH-6) - float64(slices.Index(groups, g.Group))*2
		p.printf("<line class=\"serving\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", x0, y, x0+held, y, p.groupColour(s.Service, g.Group))
	}
	p.printf("</g>\n")
}

// gates lists the values each gate.analysis read.
func (p *reportPage) gates() {
	tl := p.r.Timeline
	if len(tl.Gates) == 0 {
		return
	}
	p.printf("<section id=\"gates\">\n<h2>Gates</h2>\n<table>\n<thead><tr><th>at</th><th>step</th><th>service</th><th>analysis</th><th>value</th><th>max_value</th><th>result</th></tr></thead>\n<tbody>\n")
	for _, g := range tl.Gates {
		value := "no data"
		if g.Value != nil {
			value = fmt.Sprintf("%g", *g.Value)
		} else if g.Error != "" {
			value = g.Error
		}
		p.printf("<tr data-gate=\"%s\"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%g</td><td><span class=\"badge %s\">%s</span></td></tr>\n",
			esc(g.StepID), esc(offset(g.T)), esc(g.StepID), esc(g.Service), esc(g.Analysis), esc(value), g.Max, badgeClass(g.Result), esc(strings.ReplaceAll(g.Result, "_", " ")))
	}
	p.printf("</tbody>\n</table>\n</section>\n")
}

// marks lists the rollbacks, pauses and warnings.
func (p *reportPage) marks() {
	tl := p.r.Timeline
	var failed []executor.TimelineStep
	for _, s := range tl.Steps {
		if s.Result == executor.StepFailed {
			failed = append(failed, s)
		}
	}
	if len(tl.Marks) == 0 && len(failed) == 0 {
		return
	}
	p.printf("<section id=\"events\">\n<h2>Failures, rollbacks, pauses and warnings</h2>\n<ol class=\"events\">\n")
	type line struct {
		t         int64
		cls, text string
	}
	var lines []line
	for _, s := range failed {
		lines = append(lines, line{s.EndMS, "bad", fmt.Sprintf("%s failed (%s %s): %s", s.ID, s.Kind, s.Target, s.Error)})
	}
	for _, m := range tl.Marks {
		cls := "warn"
		switch m.Kind {
		case executor.EventRollbackErrored:
			cls = "bad"
		case executor.EventRollbackComplete:
			cls = "ok"
		}
		lines = append(lines, line{m.T, cls, m.Message})
	}
	slices.SortStableFunc(lines, func(a, b line) int { return cmp64(a.t, b.t) })
	for _, l := range lines {
		p.printf("<li class=\"%s\"><span class=\"at\">%s</span> %s</li>\n", l.cls, esc(offset(l.t)), esc(l.text))
	}
	p.printf("</ol>\n</section>\n")
}

// stepTable lists every step.
func (p *reportPage) stepTable() {
	tl := p.r.Timeline
	p.printf("<section id=\"steps\">\n<h2>Every step</h2>\n<table id=\"step-table\">\n<thead><tr><th>step</th><th>kind</th><th>target</th><th>what</th><th>start</th><th>took</th><th>result</th></tr></thead>\n<tbody>\n")
	for i, s := range tl.Steps {
		result := s.Result
		if s.Rollback {
			result += " (rollback)"
		}
		what := s.Detail
		if s.Error != "" {
			what = strings.TrimSpace(what + " " + s.Error)
		}
		p.printf("<tr data-step-row=\"%s\" data-i=\"%d\"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td><span class=\"badge %s\">%s</span></td></tr>\n",
			esc(s.ID), i, esc(s.ID), esc(s.Kind), esc(s.Target), esc(what), esc(offset(s.StartMS)),
			esc((time.Duration(s.EndMS-s.StartMS) * time.Millisecond).String()), badgeClass(s.Result), esc(result))
	}
	p.printf("</tbody>\n</table>\n</section>\n")
}

const svgDefs = `<defs><pattern id="stripes" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="3" height="6" fill="rgba(255,255,255,0.55)"/></pattern>` +
	`<pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="2" height="4" fill="rgba(0,0,0,0.35)"/></pattern></defs>`

const reportCSS = `
:root{--fg:#1d2330;--muted:#5b6475;--line:#d9dde5;--bg:#fff;--zebra:#f6f7fa;--ok:#2f7d32;--bad:#c62828;--warn:#b26a00}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1240px;padding:20px 20px 40px;font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.outcome{font-weight:600;margin:4px 0 10px}.outcome.ok{color:var(--ok)}.outcome.bad{color:var(--bad)}
dl.meta{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}dl.meta div{display:flex;gap:6px}dt{color:var(--muted)}dd{margin:0;font-family:"DejaVu Sans Mono",monospace}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}th{color:var(--muted);font-weight:600}
td{font-variant-numeric:tabular-nums}#step-table td:nth-child(3),#step-table td:nth-child(1){font-family:"DejaVu Sans Mono",monospace;font-size:12px}#step-table td:nth-child(1),#step-table td:nth-child(2){white-space:nowrap}
.badge{display:inline-block;padding:0 7px;border-radius:9px;background:#e4e7ec;font-size:12px;white-space:nowrap}.badge.ok{background:#e3f2e4;color:var(--ok)}.badge.bad{background:#fde7e7;color:var(--bad)}.badge.warn{background:#fff1dc;color:var(--warn)}
.hint,.note{color:var(--muted);margin:4px 0 8px}.note{padding:8px 12px;background:var(--zebra);border-left:3px solid var(--line)}
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12px;color:var(--muted)}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-2px}
svg.chart{display:block;font:11px "DejaVu Sans",sans-serif;overflow:visible}
.axis text{fill:var(--muted)}.grid{stroke:#eceef2}
.rowbg{fill:transparent}.zebra .rowbg{fill:var(--zebra)}
.row-service .label{font-weight:700;font-size:12px}.row-group .label{font-weight:600}.row-instance .label{font-family:"DejaVu Sans Mono",monospace}
.label{fill:var(--fg)}.sub{fill:var(--muted);color:var(--muted);font-weight:400}
.bar rect:first-of-type{stroke:rgba(0,0,0,.25);stroke-width:.5}.bar.failed rect:first-of-type{stroke:#7f0000;stroke-width:1.5}
.bar.rollback rect:first-of-type{stroke:#5a2d82;stroke-width:1.2;stroke-dasharray:3 2}
.bar:hover rect:first-of-type,.bar.hl rect:first-of-type{stroke:#000;stroke-width:2}
.barlabel{fill:#fff;font-size:10px;pointer-events:none;paint-order:stroke;stroke:rgba(0,0,0,.35);stroke-width:2px}
.mark line{stroke-width:1.5}.mark text{font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px}
.mark-rollback line{stroke:#c62828;stroke-dasharray:5 3}.mark-rollback text{fill:#c62828}
.mark-rolledback line{stroke:#5a2d82;stroke-dasharray:2 2}.mark-rolledback text{fill:#5a2d82}
.mark-failed line{stroke:#c62828}.mark-failed text{fill:#c62828}
.mark-paused line{stroke:#9d755d;stroke-dasharray:4 2}.mark-paused text{fill:#9d755d}
.frame{fill:none;stroke:var(--line)}
.sample .held{opacity:.35}.sample .none{fill:#e45756}.serving{stroke-width:2.5}
figure.series{margin:14px 0 18px}figcaption{margin-bottom:2px}.summary{margin-left:10px;font-size:12px}.summary.ok{color:var(--ok)}.summary.bad{color:var(--bad);font-weight:700}
ol.events{padding-left:20px}ol.events li.bad{color:var(--bad)}ol.events li.warn{color:var(--warn)}ol.events li.ok{color:var(--ok)}.at{font-family:"DejaVu Sans Mono",monospace;color:var(--muted);margin-right:6px}
tr.hl td{background:#fff6c8}
footer{margin-top:30px;color:var(--muted);font-size:12px}
@media print{body{max-width:none}}
`

// reportJS links a bar and its row of the step table: hovering one highlights
// the other, clicking a bar scrolls to its row.
const reportJS = `
(function(){
  function pair(i){return document.querySelectorAll('[data-i="'+i+'"]');}
  document.querySelectorAll('[data-i]').forEach(function(el){
    el.addEventListener('mouseenter',function(){pair(el.dataset.i).forEach(function(x){x.classList.add('hl');});});
    el.addEventListener('mouseleave',function(){pair(el.dataset.i).forEach(function(x){x.classList.remove('hl');});});
    if(el.classList.contains('bar')){el.addEventListener('click',function(){
      var row=document.querySelector('tr[data-i="'+el.dataset.i+'"]'); if(row){row.scrollIntoView({block:'center'});}
    });}
  });
})();
`
