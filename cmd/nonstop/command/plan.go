package command

import (
	"context"
	"fmt"
	"strings"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/executor/operation"
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
  instance deployed while it takes traffic) is an error, not a warning, and so
  is live state that cannot be read: a registry or balancer that does not
  answer as expected fails the plan (exit 1), it never reads as "No changes".

  -out FILE saves the plan, sealed with what it was made from (variables,
  sensitive ones as a hash; endpoints; commit), for "nonstop apply FILE" and
  "nonstop show FILE".

  -base REF (pull-request mode) also reads the configuration as committed at
  REF (the target branch, e.g. origin/main; the clone needs its history:
  fetch-depth: 0) and reports, apart: the configuration change base → head by
  meaning (service versions, groups, weights, routes, strategies, providers,
  each with the file:line that changed it), the live → head plan, and the drift
  it repairs (objects changed outside nonstop: what differs from the base
  configuration where the head does not change it).

  -format markdown prints a pull-request comment: a hidden marker line
  ("<!-- nonstop:plan dir=DIR workspace=NAME -->") by which CI updates its
  comment in place, a header with directory, workspace and commit, the
  summary, then details in collapsible blocks (canary steps with the new
  version's share of traffic). A report too long for one comment is split
  into parts under 65,000 characters, separated by a line
  "<!-- nonstop:part -->", each with its marker ("part=2/3"). A plan that
  fails prints its errors in markdown too (and exits 1), so the pull request
  shows them.

  There is no -refresh=false: live state is the only input of a plan besides
  the configuration (nonstop keeps no copy of it to plan from), so plan
  refuses it and says so.

  Plan looks at the state lock first: while an apply runs, live state is a
  release half done. plan then says which apply (who, since when, which
  release, which step) and exits 3 at once, or with -lock-timeout waits up to
  that long for it to finish. -lock=false does not look.

Exit codes:
  0  the plan was made (with -detailed-exitcode: and it changes nothing)
  1  an error: the configuration, a provider that could not be read, an
     unsafe plan, or a wrong flag
  2  with -detailed-exitcode only: the plan was made and it has changes
  3  an apply is in progress (and did not finish within -lock-timeout): no
     plan was made
`

// refreshFalse is plan's answer to -refresh=false.
var refreshFalse = diags.Sourceless(diags.Error, "-refresh=false is not supported",
	"Terraform can plan from the state it stored, without reading the real resources; nonstop stores no copy of "+
		"live state to plan from. What the registry and the load balancers report now (versions, weights, members, "+
		"routes) is, with the configuration, the only input of a plan, and a plan made without reading it could "+
		"deploy to an instance that takes traffic. Drop -refresh=false; to read less, limit the plan with "+
		"-target service.NAME.")

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
	out := fs.String("out", "", "save the plan, sealed, to `FILE` for apply and show")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when the plan has changes, 0 when it has none")
	refresh := fs.Bool("refresh", true, "accepted for Terraform's sake, but -refresh=false is refused: live state is the only input of a plan besides the configuration")
	perHost := fs.Int("parallelism-per-host", planner.DefaultPerHostDeploys,
		"estimate with at most `N` deploys at once on one host, as apply -parallelism-per-host N would run them")
	baseRef := fs.String("base", "", "pull-request mode: report the configuration change from the git `REF` (e.g. origin/main) and the drift repaired apart from the plan")
	var vars VarFlags
	vars.Register(fs)
	var lf liveFlags
	lf.Register(fs)
	var lock lockFlags
	lock.Register(fs)
	if code, done := m.Parse(fs, args); done {
		return code
	}
	fmtName, ok := m.outputFormat(*format, *jsonOut, "human", "json", "markdown")
	if !ok {
		return 1
	}
	if !*refresh {
		ds := diags.Diagnostics{refreshFalse}
		m.ShowDiagnostics(ds, nil)
		dir := "."
		if fs.NArg() > 0 {
			dir = fs.Arg(0)
		}
		m.planFailed(fmtName, reportWhere{dir: dir, workspace: "default"}, ds, nil)
		return 1
	}
	cfg, dir, ds, ok := m.loadLiveConfig(fs, vars, &lf)
	if !ok {
		if dir != "" {
			m.planFailed(fmtName, reportWhere{dir: dir, workspace: "default"}, ds, Sources(nil, dir))
		}
		return 1
	}
	where := whereOf(cfg, dir)
	var r planReport
	if *baseRef != "" {
		base, bds := m.loadBase(dir, *baseRef, vars)
		if bds.HasErrors() {
			m.ShowDiagnostics(ds.Append(bds), Sources(cfg, dir))
			m.planFailed(fmtName, where, ds.Append(bds), Sources(cfg, dir))
			return 1
		}
		ds = ds.Append(bds)
		r.base, r.baseCfg, r.hasBase = *baseRef, base, true
	}
	plan, live, pds, running := operation.PlanWhenIdle(context.Background(), operation.Options{
		Config:         cfg,
		Dir:            dir,
		Targets:        lf.Targets,
		Parallelism:    lf.Parallelism,
		PerHostDeploys: *perHost,
		Logger:         m.log,
	}, m.wait("plan", lock))
	ds = ds.Append(pds)
	m.ShowDiagnostics(ds, Sources(cfg, dir))
	if running != nil {
		return m.applyInProgress("plan", fmtName, lock, running, where)
	}
	if ds.HasErrors() || plan == nil {
		m.planFailed(fmtName, where, ds, Sources(cfg, dir))
		return 1
	}
	r.where, r.plan, r.head = where, plan, cfg
	if r.hasBase {
		r.fill(live)
	}

	if *out != "" {
		if err := planner.WritePlanFile(*out, plan, cfg); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot save the plan: %v\n", err)
			return 1
		}
		m.Logger("plan").Debug("plan saved", "file", *out)
	}
	if err := m.renderPlanReport(r, fmtName); err != nil {
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
