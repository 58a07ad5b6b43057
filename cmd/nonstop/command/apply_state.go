package command

import (
	"fmt"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
)

// openBackend opens the configuration's state backend (the default: .nonstop in
// the configuration directory); backendDiag turns a failure to open it into a
// diagnostic. The commands that read state share them with apply.
var (
	openBackend = operation.OpenBackend
	backendDiag = operation.BackendDiagnostics
)

// Interrupted reports the journal an interrupted apply left behind.
func (v *applyView) Interrupted(j *state.Journal) {
	v.say("warn", describeInterrupted(j)+"\nThe steps in flight may have half-happened. nonstop plans again from live state.\n")
}

// describeInterrupted says what an unfinished apply was doing when it stopped
// (or, while it runs, is doing now).
func describeInterrupted(j *state.Journal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "A previous apply (%s, started %s) did not finish:\n", j.ApplyID, j.Started.UTC().Format(time.RFC3339))
	if j.PlanSummary != "" {
		fmt.Fprintf(&b, "  its plan: %s\n", j.PlanSummary)
	}
	inFlight, failed, done := operation.JournalProgress(j)
	fmt.Fprintf(&b, "  %d step(s) completed, %d failed, %d in flight when it stopped\n", done, len(failed), len(inFlight))
	for _, e := range inFlight {
		fmt.Fprintf(&b, "  - in flight: %s %s %s (started %s)\n", e.StepID, e.Kind, e.Target, e.At.UTC().Format(time.RFC3339))
	}
	for _, e := range failed {
		fmt.Fprintf(&b, "  - failed: %s %s %s: %s\n", e.StepID, e.Kind, e.Target, e.Error)
	}
	return strings.TrimRight(b.String(), "\n")
}
