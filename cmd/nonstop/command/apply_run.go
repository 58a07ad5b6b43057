package command

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/planner"
)

// execute starts the journal, runs the plan and records what it did in the state.
func (a *applyRun) execute(ctx context.Context, p *planner.Plan, provs planner.Providers) int {
	started := time.Now()
	applyID := newApplyID(started)
	a.st.Journal = &state.Journal{ApplyID: applyID, Started: started, PlanSummary: summaryText(p.Summary)}
	// Until the apply finishes, its releases stand in the history as interrupted:
	// that is what they are if this process dies.
	releases := a.plannedReleases(p, applyID, started)
	a.st.History = append(a.st.History, releases...)
	if err := a.backend.Save(ctx, a.st); err != nil {
		fmt.Fprintf(a.m.Stderr, "Error: cannot start the apply journal: %v\n", err)
		return 1
	}
	resume := resumePath(a.backend, a.dir)
	if err := clearResumeFile(resume); err != nil {
		a.log.Warn("cannot clear the resume file", "path", resume, "error", err)
	}
	a.log.Info("apply started", "id", applyID, "steps", len(p.Steps), "resume_file", resume)

	sink, closeSink := a.sink()
	watchCtx, stopWatch := context.WithCancel(ctx)
	runner := executor.Runner{
		Config:      a.cfg,
		Providers:   provs,
		Journal:     executor.BackendJournal(a.backend),
		Events:      sink,
		Logger:      a.m.Logger("executor"),
		Parallelism: a.flags.live.Parallelism,
		Resume:      executor.WatchResumeFile(watchCtx, resume, 500*time.Millisecond),
	}
	res, runErr := runner.Apply(ctx, p)
	stopWatch()
	closeSink()

	// The state is written even when the apply was interrupted: ctx may be done.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	interrupted := ctx.Err() != nil
	a.recordResult(res, runErr, interrupted, releases)
	if err := a.backend.Save(sctx, a.st); err != nil {
		fmt.Fprintf(a.m.Stderr, "Error: cannot save the state after the apply: %v\n"+
			"The journal stays in the state; the next apply reports it and plans again from live state.\n", err)
		return 1
	}
	return a.report(p, res, runErr, interrupted)
}

// sink returns the progress view: JSON lines with -json, the live view when
// stdout is a terminal that can redraw lines (TERM is not "dumb"), else (CI, a
// pipe, a file) one timestamped line per event. Colour plays no part: -no-color
// and NO_COLOR leave the live view, which draws no colour.
func (a *applyRun) sink() (executor.EventSink, func()) {
	termName, _ := a.m.Getenv("TERM")
	switch {
	case a.flags.json:
		return executor.JSONSink(a.m.Stdout), func() {}
	case a.m.StdoutIsTerminal && termName != "dumb":
		v := executor.TTYSink(a.m.Stdout)
		return v, func() { _ = v.Close() }
	default:
		return executor.LineSink(a.m.Stdout), func() {}
	}
}

// plannedReleases returns one release per service the plan changes, from the
// versions its instances run to the configured version.
func (a *applyRun) plannedReleases(p *planner.Plan, applyID string, started time.Time) []state.Release {
	from := map[string]map[string]bool{}
	var order []string
	note := func(svc string) {
		if _, ok := from[svc]; !ok {
			from[svc] = map[string]bool{}
			order = append(order, svc)
		}
	}
	for _, s := range p.Steps {
		note(s.Service)
		if s.Kind == planner.Deploy && s.Args.FromVersion != "" {
			from[s.Service][s.Args.FromVersion] = true
		}
	}
	for _, c := range p.Changes {
		if c.Action == planner.NoOp {
			continue
		}
		note(c.Service)
		if v, ok := c.Before.(string); ok && c.Field == "version" && v != "" {
			from[c.Service][v] = true
		}
	}
	out := make([]state.Release, 0, len(order))
	for _, svc := range order {
		to := ""
		if s := a.cfg.Services[svc]; s != nil {
			to = s.Version
		}
		fromText := strings.Join(slices.Sorted(maps.Keys(from[svc])), ", ")
		if fromText == "" {
			fromText = to // a repair: the version does not change
		}
		out = append(out, state.Release{ID: applyID + "/" + svc, Service: svc, From: fromText, To: to,
			Started: started, Result: state.ResultInterrupted, Commit: a.commit})
	}
	return out
}

// recordResult folds the outcome of the apply into the state: deployed versions,
// the releases' results, and, when everything applied, the applied configuration.
func (a *applyRun) recordResult(res *executor.Result, runErr error, interrupted bool, releases []state.Release) {
	now := time.Now()
	a.st.Journal = nil
	result := map[string]string{}
	if res != nil {
		for name, sr := range res.Services {
			for addr, v := range sr.Deployed {
				a.st.SetDeployed(name, addr, v)
			}
			for _, addr := range sr.Unknown {
				delete(a.st.Deployed[name], addr)
			}
			result[name] = releaseResult(sr.Outcome, interrupted)
		}
	}
	ids := map[string]bool{}
	for _, r := range releases {
		ids[r.ID] = true
	}
	for i := range a.st.History {
		r := &a.st.History[i]
		if !ids[r.ID] {
			continue
		}
		r.Finished = now
		switch res, ok := result[r.Service]; {
		case ok:
			r.Result = res
		case interrupted:
			r.Result = state.ResultInterrupted
		default:
			r.Result = state.ResultFailed
		}
	}
	if res != nil && runErr == nil && !res.Failed() && !interrupted {
		a.st.ConfigHash, a.st.Commit, a.st.AppliedAt = a.cfg.Hash, a.commit, now
	}
}

// releaseResult maps a service's outcome to the result recorded in history.
func releaseResult(o executor.Outcome, interrupted bool) string {
	switch o {
	case executor.OutcomeApplied:
		return state.ResultSuccess
	case executor.OutcomeRolledBack:
		return state.ResultRolledBack
	case executor.OutcomeIncomplete, executor.OutcomeFailed:
		if interrupted {
			return state.ResultInterrupted
		}
	}
	return state.ResultFailed
}

// summaryText is the plan's summary in one line.
func summaryText(s planner.Summary) string {
	return fmt.Sprintf("%s to upgrade, %s, %s, %s.",
		countOf(s.Upgrades, "instance", "instances"), countOf(s.WeightChanges, "weight change", "weight changes"),
		countOf(s.RouteChanges, "route change", "route changes"), countOf(s.OtherChanges, "other change", "other changes"))
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// report prints how the apply ended and returns the exit code.
func (a *applyRun) report(p *planner.Plan, res *executor.Result, runErr error, interrupted bool) int {
	if res == nil {
		a.say("error", fmt.Sprintf("Apply failed before any step ran: %v", runErr))
		return 1
	}
	if runErr == nil && !res.Failed() && !interrupted {
		a.say("info", fmt.Sprintf("\nApply complete! %s", summaryText(p.Summary)))
		return 0
	}
	var b strings.Builder
	if interrupted {
		b.WriteString("\nApply interrupted: steps in flight were stopped and no rollback ran.\n" +
			"Run apply again: it plans from live state.\n")
	}
	fmt.Fprintf(&b, "\n%s\n", res.Summary())
	for _, name := range res.Order {
		writeServiceResult(&b, res.Services[name])
	}
	a.say("error", strings.TrimRight(b.String(), "\n"))
	return 1
}

// writeServiceResult describes what an apply changed for one service and what it
// did not.
func writeServiceResult(b *strings.Builder, sr *executor.ServiceResult) {
	fmt.Fprintf(b, "\n  %s: %s\n", sr.Service, strings.ReplaceAll(string(sr.Outcome), "_", " "))
	if sr.FailedStep != "" {
		fmt.Fprintf(b, "    failed step %s: %s\n", sr.FailedStep, sr.Error)
	}
	fmt.Fprintf(b, "    %d step(s) completed, %d never ran\n", len(sr.Completed), len(sr.NotRun))
	for _, addr := range slices.Sorted(maps.Keys(sr.Deployed)) {
		fmt.Fprintf(b, "    %s now runs %s\n", addr, sr.Deployed[addr])
	}
	for _, addr := range sr.Unknown {
		fmt.Fprintf(b, "    %s runs an unknown version (its deploy failed)\n", addr)
	}
	if sr.Policy != "" {
		fmt.Fprintf(b, "    on_failure %s: %d step(s) rolled back\n", sr.Policy, len(sr.RolledBack))
	}
	if sr.RollbackError != "" {
		fmt.Fprintf(b, "    rollback failed: %s\n", sr.RollbackError)
	}
	for _, addr := range sr.OutOfTraffic {
		fmt.Fprintf(b, "    %s is out of traffic\n", addr)
	}
	for _, s := range sr.NotRestored {
		fmt.Fprintf(b, "    not restored: %s\n", s)
	}
}
