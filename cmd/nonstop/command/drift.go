package command

import (
	"context"
	"fmt"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/planner"
)

const driftHelp = `
Usage: nonstop drift [options] [DIR]

  Reads the live state of the services declared in DIR (default: the current
  directory) and reports every difference from the steady state the
  configuration describes, as if no release were in progress: an instance on
  the wrong version, disabled or missing in the registry, a balancer member at
  a weight or in a state set by hand, a route edited or added by hand. Each
  difference names the object, the field, the expected and the actual value.
  It changes nothing; "nonstop plan" shows how nonstop would repair it.

  Drift looks at the state lock first: while an apply runs, live state is a
  release half done, not drift. drift then says which apply (who, since when,
  which release, which step) and exits 3 at once, or with -lock-timeout
  waits up to that long for it to finish and reads live state after it.
  -lock=false does not look (a journal in the state is only a warning).

  -format markdown prints a report for an issue: a hidden marker line
  ("<!-- nonstop:drift dir=DIR workspace=NAME -->") by which CI finds the
  issue it opened before, a header with directory, workspace and commit, the
  summary, then a table.

Exit codes:
  0  no drift: live state matches the configuration
  1  an error: the configuration, a provider that could not be read, or a
     wrong flag
  2  drift was found
  3  an apply is in progress (and did not finish within -lock-timeout):
     nothing was compared
`

var driftCommand = &Command{
	Name:     "drift",
	Synopsis: "Report live state that differs from the configuration",
	Help:     driftHelp,
	Run:      runDrift,
}

func runDrift(m *Meta, args []string) int {
	fs := m.FlagSet("drift", driftHelp)
	jsonOut := fs.Bool("json", false, "print the report as JSON: {format_version, drift, items: [{service, object, address, field, expected, actual}]}")
	format := fs.String("format", "", "output `format`: human (default), json or markdown")
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
	cfg, dir, ds, ok := m.loadLiveConfig(fs, vars, &lf)
	if !ok {
		return 1
	}
	where := whereOf(cfg, dir)
	live, rds, running := operation.RefreshWhenIdle(context.Background(), operation.Options{
		Config: cfg, Dir: dir, Targets: lf.Targets, Parallelism: lf.Parallelism, Logger: m.log,
	}, m.wait("drift", lock))
	ds = ds.Append(rds)
	m.ShowDiagnostics(ds, Sources(cfg, dir))
	if running != nil {
		return m.applyInProgress("drift", fmtName, lock, running, where)
	}
	if ds.HasErrors() {
		// A partial refresh would report what it could not read as drift.
		return 1
	}
	items := planner.Drift(cfg, live)
	m.Logger("drift").Debug("drift computed", "items", len(items))

	var err error
	switch fmtName {
	case "json":
		if items == nil {
			items = []planner.DriftItem{}
		}
		err = m.PrintJSON(map[string]any{"format_version": jsonFormatVersion, "drift": len(items) > 0, "items": items})
	case "markdown":
		_, err = fmt.Fprint(m.Stdout, where.marker("drift", "")+"\n"+where.header("drift")+"\n\n"+views.RenderDriftMarkdown(items))
	default:
		err = views.RenderDrift(m.Stdout, items)
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot write the report: %v\n", err)
		return 1
	}
	if len(items) > 0 {
		return 2
	}
	return 0
}
