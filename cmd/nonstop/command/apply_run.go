package command

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// applyView is apply's operation.View: human text on a terminal or in a log, or
// with -json log lines in the shape of the progress events.
type applyView struct {
	m    *Meta
	json bool
	cfg  *lang.Config
	dir  string

	// events is the progress view; closeEvents stops it before the result is shown.
	events      executor.EventSink
	closeEvents func()
}

var _ operation.View = (*applyView)(nil)

func newApplyView(m *Meta, json bool, cfg *lang.Config, dir string) *applyView {
	v := &applyView{m: m, json: json, cfg: cfg, dir: dir}
	v.events, v.closeEvents = v.sink()
	return v
}

// sink returns the progress view: JSON lines with -json, the live view when
// stdout is a terminal that can redraw lines (TERM is not "dumb"), else (CI, a
// pipe, a file) one timestamped line per event. Colour plays no part: -no-color
// and NO_COLOR leave the live view, which draws no colour.
func (v *applyView) sink() (executor.EventSink, func()) {
	termName, _ := v.m.Getenv("TERM")
	switch {
	case v.json:
		return views.JSONSink(v.m.Stdout), func() {}
	case v.m.StdoutIsTerminal && termName != "dumb":
		tty := views.TTYSink(v.m.Stdout)
		return tty, func() { _ = tty.Close() }
	default:
		return views.LineSink(v.m.Stdout), func() {}
	}
}

// Diagnostics shows ds on stderr with the configuration's sources.
func (v *applyView) Diagnostics(ds diags.Diagnostics) {
	v.m.ShowDiagnostics(ds, Sources(v.cfg, v.dir))
}

// Result prints how the apply ended: the outcome of the steps that ran, "No
// changes.", or the error that stopped it (with what to do about it).
func (v *applyView) Result(r *operation.Result) {
	v.closeEvents()
	stderr := v.m.Stderr
	var stale *operation.StaleError
	switch {
	case r.Ran:
		v.report(r)
	case r.Err == nil && r.NoChanges:
		v.say("info", views.NoChangesMessage)
	case r.Err == nil:
	case errors.Is(r.Err, operation.ErrDiagnostics), errors.Is(r.Err, operation.ErrNotApproved):
		// Already said.
	case errors.As(r.Err, &stale):
		fmt.Fprintf(stderr, "Error: %v\n", stale)
		fmt.Fprintln(stderr, "\nLive state changed since the plan was made, so its steps may no longer be safe.\n"+
			"Run \"nonstop plan\" again and review the new plan.")
	case errors.Is(r.Err, operation.ErrPlanConfig):
		fmt.Fprintf(stderr, "Error: %v\n\nRun \"nonstop plan\" again.\n", r.Err)
	case errors.Is(r.Err, operation.ErrStateNotSaved):
		fmt.Fprintf(stderr, "Error: %v\n"+
			"The journal stays in the state; the next apply reports it and plans again from live state.\n", r.Err)
	default:
		fmt.Fprintf(stderr, "Error: %v\n", r.Err)
	}
	if r.UnlockErr != nil {
		fmt.Fprintf(stderr, "Error releasing the state lock %s: %v\n", r.LockID, r.UnlockErr)
	}
}

// report prints the outcome of an apply whose steps ran.
func (v *applyView) report(r *operation.Result) {
	res := r.Apply
	if res == nil {
		v.say("error", fmt.Sprintf("Apply failed before any step ran: %v", r.Err))
		return
	}
	if r.Err == nil {
		v.say("info", fmt.Sprintf("\nApply complete! %s", operation.SummaryText(r.Plan.Summary)))
		return
	}
	var b strings.Builder
	if r.Interrupted {
		b.WriteString("\nApply interrupted: steps in flight were stopped and no rollback ran.\n" +
			"Run apply again: it plans from live state.\n")
	}
	fmt.Fprintf(&b, "\n%s\n", res.Summary())
	for _, name := range res.Order {
		writeServiceResult(&b, res.Services[name])
	}
	v.say("error", strings.TrimRight(b.String(), "\n"))
}

// writeServiceResult describes what an apply changed for one service and what it
// did not.
func writeServiceResult(b *strings.Builder, sr *executor.ServiceResult) {
	fmt.Fprintf(b, "\n  %s: %s\n", sr.Service, strings.ReplaceAll(string(sr.Outcome), "_", " "))
	if sr.FailedStep != "" {
		fmt.Fprintf(b, "    failed step %s: %s\n", sr.FailedStep, sr.Error)
	}
	if sr.SkippedBecause != "" {
		fmt.Fprintf(b, "    skipped: %s\n", sr.SkippedBecause)
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
	if len(sr.Live) > 0 {
		b.WriteString("    read back from every path:\n")
		for _, addr := range slices.Sorted(maps.Keys(sr.Live)) {
			v := sr.Live[addr]
			state := "out of traffic"
			if v.Serving {
				state = "serving"
			}
			fmt.Fprintf(b, "      %s (%s): %s\n", addr, state, strings.Join(v.Paths, "; "))
		}
	}
}
