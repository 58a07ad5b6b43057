package command

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// planReport is what plan prints: the plan and, with -base, the configuration
// change from the base and the drift the plan repairs.
type planReport struct {
	where reportWhere
	plan  *planner.Plan
	head  *lang.Config

	hasBase bool
	base    string       // the -base revision
	baseCfg *lang.Config // nil: the configuration did not exist at base
	config  []lang.ConfigChange
	repair  []planner.Change
	drift   []planner.DriftItem
}

// loadBase loads the configuration of dir as committed at ref, with the same
// variables as the head. A directory that did not exist at ref is a new
// configuration: the base is nil and every service is created.
func (m *Meta) loadBase(dir, ref string, vars VarFlags) (*lang.Config, diags.Diagnostics) {
	if _, _, err := lang.GitDirTree(dir, ref); errors.Is(err, lang.ErrNoDirAtRef) {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Warning, "A new configuration",
			fmt.Sprintf("%s does not exist at %s: every service is reported as created.", dir, ref))}
	}
	cfg, ds := lang.LoadGitRef(dir, ref, vars.LoadOptions(m.Getenv))
	if cfg != nil {
		m.Redactor.Add(cfg.SensitiveValues()...)
	}
	if ds.HasErrors() {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "Cannot read the base configuration",
			fmt.Sprintf("plan -base %s reads the configuration as committed at %s to show what the change does: %s", ref, ref, diagsText(ds)))}
	}
	return cfg, ds
}

// diagsText renders diagnostics on one line each, for a message.
func diagsText(ds diags.Diagnostics) string {
	var parts []string
	for _, d := range ds.Errs() {
		t := d.Summary
		if d.Detail != "" {
			t += ": " + strings.TrimSuffix(d.Detail, ".")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "; ")
}

// fill computes the configuration change and the drift repair against live,
// the state the plan was made from.
func (r *planReport) fill(live *planner.Live) {
	r.config = lang.DiffConfigs(r.baseCfg, r.head)
	if r.baseCfg == nil || live == nil {
		return
	}
	r.repair, r.drift = driftRepair(r.baseCfg, r.head, live, r.plan)
}

// driftRepair splits out what was changed outside nonstop: the drift from the
// base configuration that the head configuration still sees, with the same
// expectation (so the pull request does not change it). The plan's changes of
// those objects and fields are its repair; drift that no change puts back is
// returned apart.
func driftRepair(base, head *lang.Config, live *planner.Live, p *planner.Plan) ([]planner.Change, []planner.DriftItem) {
	key := func(svc, object, address, field string) string {
		return svc + "\x00" + object + "\x00" + address + "\x00" + field
	}
	headExpects := map[string]string{}
	for _, it := range planner.Drift(head, live) {
		headExpects[key(it.Service, it.Object, it.Address, it.Field)] = fmt.Sprint(it.Expected)
	}
	outside := map[string]planner.DriftItem{}
	var order []string
	for _, it := range planner.Drift(base, live) {
		k := key(it.Service, it.Object, it.Address, it.Field)
		if e, ok := headExpects[k]; ok && e == fmt.Sprint(it.Expected) {
			outside[k] = it
			order = append(order, k)
		}
	}
	var repair []planner.Change
	repaired := map[string]bool{}
	for _, c := range p.Changes {
		k := key(c.Service, c.Object, c.Address, c.Field)
		if _, ok := outside[k]; ok && c.Action != planner.NoOp {
			repair = append(repair, c)
			repaired[k] = true
		}
	}
	var rest []planner.DriftItem
	for _, k := range order {
		if !repaired[k] {
			rest = append(rest, outside[k])
		}
	}
	return repair, rest
}

// renderPlanReport prints the report in a format: human, json or markdown.
func (m *Meta) renderPlanReport(r planReport, format string) error {
	switch format {
	case "json":
		if !r.hasBase {
			return views.RenderPlanJSON(m.Stdout, r.plan)
		}
		return m.PrintJSON(r.json())
	case "markdown":
		parts := views.RenderPlanReportMarkdown(r.markdown(), 0)
		_, err := fmt.Fprint(m.Stdout, strings.Join(parts, "\n"+markdownPartSeparator+"\n"))
		return err
	}
	if !r.hasBase {
		return views.RenderPlan(m.Stdout, r.plan)
	}
	return r.human(m)
}

// markdown returns the report for views.RenderPlanReportMarkdown.
func (r planReport) markdown() views.PlanReport {
	return views.PlanReport{
		Marker: func(part string) string { return r.where.marker("plan", part) },
		Header: r.where.header("plan") + r.baseNote(),
		Plan:   r.plan, Base: r.base, Config: r.config, Repair: r.repair, Drift: r.drift,
	}
}

// baseNote is " · base `origin/main` (`abc1234…`)" in pull-request mode.
func (r planReport) baseNote() string {
	if !r.hasBase {
		return ""
	}
	note := " · base `" + r.base + "`"
	if r.baseCfg != nil && r.baseCfg.Commit != "" {
		note += " (`" + shortCommit(r.baseCfg.Commit) + "`)"
	}
	return note
}

// planReportJSON is plan -json with -base.
type planReportJSON struct {
	FormatVersion string              `json:"format_version"`
	Base          map[string]string   `json:"base"`
	Head          map[string]string   `json:"head"`
	Configuration []lang.ConfigChange `json:"configuration_changes"`
	Plan          *planner.Plan       `json:"plan"`
	DriftRepair   driftRepairJSON     `json:"drift_repair"`
}

type driftRepairJSON struct {
	Changes    []planner.Change    `json:"changes"`
	Unrepaired []planner.DriftItem `json:"unrepaired"`
}

func (r planReport) json() planReportJSON {
	base := map[string]string{"ref": r.base}
	if r.baseCfg != nil {
		base["commit"] = r.baseCfg.Commit
	}
	out := planReportJSON{
		FormatVersion: jsonFormatVersion,
		Base:          base,
		Head:          map[string]string{"dir": r.where.dir, "workspace": r.where.workspace, "commit": r.where.commit},
		Configuration: r.config,
		Plan:          r.plan,
		DriftRepair:   driftRepairJSON{Changes: r.repair, Unrepaired: r.drift},
	}
	if out.Configuration == nil {
		out.Configuration = []lang.ConfigChange{}
	}
	if out.DriftRepair.Changes == nil {
		out.DriftRepair.Changes = []planner.Change{}
	}
	if out.DriftRepair.Unrepaired == nil {
		out.DriftRepair.Unrepaired = []planner.DriftItem{}
	}
	return out
}

// human prints the report for a terminal: the configuration change, the plan
// without its repair, then the repair.
func (r planReport) human(m *Meta) error {
	w := m.Stdout
	commit := ""
	if r.baseCfg != nil && r.baseCfg.Commit != "" {
		commit = " (" + shortCommit(r.baseCfg.Commit) + ")"
	}
	if len(r.config) == 0 {
		fmt.Fprintf(w, "Configuration: no change from %s%s.\n\n", r.base, commit)
	} else {
		fmt.Fprintf(w, "Configuration change from %s%s:\n\n", r.base, commit)
		for _, c := range r.config {
			fmt.Fprintf(w, "  %s\n", c)
		}
		fmt.Fprintln(w)
	}
	release := *r.plan
	release.Changes = nil
	isRepair := map[string]bool{}
	for _, c := range r.repair {
		isRepair[fmt.Sprintf("%v", c)] = true
	}
	for _, c := range r.plan.Changes {
		if !isRepair[fmt.Sprintf("%v", c)] {
			release.Changes = append(release.Changes, c)
		}
	}
	var b bytes.Buffer
	if err := views.RenderPlan(&b, &release); err != nil {
		return err
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	if len(r.repair)+len(r.drift) > 0 {
		fmt.Fprintf(w, "\nDrift repair: objects changed outside nonstop (the plan above puts back those it changes):\n\n")
		for _, l := range views.ChangeLines(r.repair) {
			fmt.Fprintf(w, "  %s\n", l)
		}
		for _, it := range r.drift {
			fmt.Fprintf(w, "  %s %s %s (not repaired by this plan): expected %v, actual %v\n", it.Service, it.Object, it.Address, it.Expected, it.Actual)
		}
	}
	return nil
}

// planFailed prints, for -format markdown and json, why no plan was made, so
// that a pull-request comment shows the errors too; human output has had them
// on stderr already.
func (m *Meta) planFailed(format string, where reportWhere, ds diags.Diagnostics, sources map[string][]byte) {
	switch format {
	case "json":
		_ = m.PrintJSON(map[string]any{"format_version": jsonFormatVersion, "plan": nil, "diagnostics": diags.JSON(ds)})
	case "markdown":
		var text bytes.Buffer
		diags.RenderHuman(&text, ds, sources, false)
		body := text.String()
		const room = views.DefaultMarkdownMaxChars - 2000
		if len(body) > room {
			body = body[:room] + "\n… (cut; the job log has every error)\n"
		}
		if body == "" {
			body = "The configuration could not be loaded; the job log has the errors.\n"
		}
		n := len(ds.Errs())
		fmt.Fprintf(m.Stdout, "%s\n%s\n**Plan:** failed with %s: no plan was made, so an apply would fail too.\n\n"+
			"<details open><summary>Errors</summary>\n\n````text\n%s````\n\n</details>\n",
			where.marker("plan", ""), where.header("plan"), pluralText(max(n, 1), "error", "errors"), strings.ReplaceAll(body, "````", "'''"))
	}
}

// pluralText is "1 error", "2 errors".
func pluralText(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
