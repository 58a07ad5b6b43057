package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

const planHelp = `
Usage: nonstop plan [options] [DIR]

  Reads the live state of the services declared in DIR (default: the current
  directory) from their registry and load balancers, diffs it against the
  configuration and prints the ordered, safe plan that would move the one to
  the other: the changes a reviewer reads, then the numbered steps. It changes
  nothing; "nonstop apply" runs the steps.

  A plan that would break a safety rule (a pool left with no serving member, an
  instance deployed while it takes traffic) is an error, not a warning.

  -out FILE saves the plan, with what it was made from, for "nonstop apply FILE"
  and "nonstop show FILE". -format markdown prints a pull-request comment: the
  summary line first, details collapsible; a plan too long for one comment is
  split into parts separated by a line "<!-- nonstop:part -->".

Exit codes:
  0  the plan was made (with -detailed-exitcode: and it changes nothing)
  1  an error: the configuration, a provider, an unsafe plan, or a wrong flag
  2  with -detailed-exitcode only: the plan was made and it has changes
`

// markdownPartSeparator separates the parts of a markdown plan split to fit PR comments.
const markdownPartSeparator = "<!-- nonstop:part -->"

var planCommand = &Command{
	Name:     "plan",
	Synopsis: "Show the steps a release would take",
	Help:     planHelp,
	Run:      runPlan,
}

func runPlan(m *Meta, args []string) int {
	fs := m.FlagSet("plan", planHelp)
	jsonOut := fs.Bool("json", false, "print the plan as JSON (the same as -format json)")
	format := fs.String("format", "", "output `format`: human (default), json or markdown")
	out := fs.String("out", "", "save the plan to `FILE` for apply and show")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when the plan has changes, 0 when it has none")
	var vars VarFlags
	vars.Register(fs)
	var lf liveFlags
	lf.Register(fs)
	if code, done := m.Parse(fs, args); done {
		return code
	}
	fmtName, ok := m.outputFormat(*format, *jsonOut, "human", "json", "markdown")
	if !ok {
		return 1
	}
	cfg, dir, ds, ok := m.loadLiveConfig(fs, vars, &lf)
	if !ok {
		return 1
	}
	plan, pds := m.makePlan(cfg, dir, &lf)
	ds = ds.Append(pds)
	m.ShowDiagnostics(ds, Sources(cfg, dir))
	if ds.HasErrors() {
		return 1
	}

	if *out != "" {
		if err := planner.WritePlanFile(*out, plan, cfg); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot save the plan: %v\n", err)
			return 1
		}
		m.Logger("plan").Debug("plan saved", "file", *out)
	}
	if err := m.renderPlan(plan, fmtName); err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot write the plan: %v\n", err)
		return 1
	}
	if *out != "" && fmtName == "human" && plan.HasChanges() {
		fmt.Fprintf(m.Stdout, "\nSaved the plan to %s. To run exactly these steps: nonstop apply %s\n", *out, *out)
	}
	if *detailed && plan.HasChanges() {
		return 2
	}
	return 0
}

// makePlan refreshes the live state and plans against it (operation.Plan),
// recording the git commit of the configuration directory.
func (m *Meta) makePlan(cfg *lang.Config, dir string, lf *liveFlags) (*planner.Plan, diags.Diagnostics) {
	return operation.Plan(context.Background(), operation.Options{
		Config:      cfg,
		Dir:         dir,
		Targets:     lf.Targets,
		Parallelism: lf.Parallelism,
		Logger:      m.log,
	})
}

// renderPlan prints the plan in a format: human, json or markdown.
func (m *Meta) renderPlan(plan *planner.Plan, format string) error {
	switch format {
	case "json":
		return views.RenderPlanJSON(m.Stdout, plan)
	case "markdown":
		parts := views.RenderPlanMarkdown(plan, 0)
		_, err := fmt.Fprint(m.Stdout, strings.Join(parts, "\n"+markdownPartSeparator+"\n"))
		return err
	}
	return views.RenderPlan(m.Stdout, plan)
}
