package operation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// ExitApplyInProgress is the exit code of plan and drift when an apply was
// running and had not finished within -lock-timeout: neither a plan nor a drift
// report made in the middle of a release says anything true about the
// configuration.
const ExitApplyInProgress = 3

// ResultRunning is how history shows the releases of an apply that is running.
// It is never saved: the state records them as interrupted until the apply
// ends, which is what they are if its process dies.
const ResultRunning = "running"

// ApplyInProgress describes an apply that holds the state lock: who runs it and
// since when (its lock), what it releases and where it is (its journal).
type ApplyInProgress struct {
	// Lock is the running apply's lock info.
	Lock state.LockInfo `json:"lock"`
	// ApplyID, Started and PlanSummary come from its journal; empty while the
	// apply has not started its journal yet.
	ApplyID     string    `json:"apply_id,omitempty"`
	Started     time.Time `json:"started,omitzero"`
	PlanSummary string    `json:"plan_summary,omitempty"`
	// Releases are the releases it records: service, from and to versions.
	Releases []state.Release `json:"releases,omitempty"`
	// InFlight are the steps started and not ended, in journal order; Done is the
	// number of steps ended, Failed the steps that failed.
	InFlight []state.JournalEntry `json:"in_flight,omitempty"`
	Done     int                  `json:"steps_done"`
	Failed   []state.JournalEntry `json:"failed,omitempty"`
}

// Error says that an apply is in progress, in one line.
func (a *ApplyInProgress) Error() string {
	return "an apply is in progress: " + strings.Join(a.Lines(time.Now()), "; ")
}

// Lines describes the apply for people, one fact a line: who and since when,
// what it releases, the steps in flight.
func (a *ApplyInProgress) Lines(now time.Time) []string {
	since := a.Started
	if since.IsZero() {
		since = a.Lock.Created
	}
	id := a.ApplyID
	if id == "" {
		id = "(starting)"
	}
	who := a.Lock.Who
	if who == "" {
		who = "unknown"
	}
	op := ""
	if a.Lock.Operation != "" && a.Lock.Operation != "apply" {
		op = " (the lock is held by " + a.Lock.Operation + ")"
	}
	lines := []string{fmt.Sprintf("apply %s by %s since %s (%s ago)%s", id, who,
		since.UTC().Format("2006-01-02 15:04:05 UTC"), now.Sub(since).Round(time.Second), op)}
	for _, r := range a.Releases {
		from := r.From
		if from == "" {
			from = "?"
		}
		lines = append(lines, fmt.Sprintf("releasing %s %s → %s", r.Service, from, r.To))
	}
	if a.PlanSummary != "" {
		lines = append(lines, "plan: "+a.PlanSummary)
	}
	for _, e := range a.InFlight {
		target := e.Target
		if target == "" {
			target = e.Address
		}
		lines = append(lines, fmt.Sprintf("step %s %s %s running for %s", e.StepID, e.Kind, target, now.Sub(e.At).Round(time.Second)))
	}
	for _, e := range a.Failed {
		lines = append(lines, fmt.Sprintf("step %s %s failed: %s", e.StepID, e.Kind, e.Error))
	}
	lines = append(lines, fmt.Sprintf("%d step(s) done", a.Done))
	return lines
}

// step is where the apply is, to tell when it moved on.
func (a *ApplyInProgress) step() string {
	var ids []string
	for _, e := range a.InFlight {
		ids = append(ids, e.StepID)
	}
	return fmt.Sprintf("%s/%d/%s", a.ApplyID, a.Done, strings.Join(ids, ","))
}

// probeOperations are the operations that take the lock only to look: a holder
// doing one of them lets go within milliseconds.
var probeOperations = []string{"plan", "drift", "history"}

// probeResult is what one look at the lock found.
type probeResult struct {
	running *ApplyInProgress // nil: no apply holds the lock
	probe   bool             // another look holds the lock: try again at once
	serial  int64            // the state's serial, to notice an apply that came and went
}

// probe looks at the state lock without keeping it: it takes it and lets go at
// once (so a waiting apply is held up for milliseconds at most), and when an
// apply holds it, reads the journal that apply keeps. A local state directory
// that does not exist yet holds no lock and is not created.
func probe(ctx context.Context, b state.Backend, operation string) (probeResult, error) {
	if l, ok := b.(*state.Local); ok {
		if _, err := os.Stat(l.Dir()); errors.Is(err, os.ErrNotExist) {
			return probeResult{}, nil
		}
	}
	id, err := b.Lock(context.WithoutCancel(ctx), state.NewLockInfo(operation, lang.Version))
	if err == nil {
		uerr := b.Unlock(id)
		st, lerr := b.Load(ctx)
		if lerr != nil {
			return probeResult{}, lerr
		}
		return probeResult{serial: st.Serial}, uerr
	}
	var le *state.LockError
	if !errors.As(err, &le) {
		return probeResult{}, err
	}
	a := &ApplyInProgress{}
	if le.Info != nil {
		a.Lock = *le.Info
	}
	if slices.Contains(probeOperations, a.Lock.Operation) {
		return probeResult{probe: true}, nil
	}
	st, err := b.Load(ctx)
	if err != nil {
		return probeResult{}, err
	}
	if j := st.Journal; j != nil {
		a.ApplyID, a.Started, a.PlanSummary = j.ApplyID, j.Started, j.PlanSummary
		a.InFlight, a.Failed, a.Done = JournalProgress(j)
		for _, r := range st.History {
			if strings.HasPrefix(r.ID, j.ApplyID+"/") {
				a.Releases = append(a.Releases, r)
			}
		}
	}
	return probeResult{running: a, serial: st.Serial}, nil
}

// Wait says what plan and drift do about an apply that is running.
type Wait struct {
	// Timeout is how long to wait for a running apply to finish (-lock-timeout);
	// 0 does not wait.
	Timeout time.Duration
	// NoLock (-lock=false) does not look at the lock: a journal in the state is
	// then only a warning, and the result may show a release half done.
	NoLock bool
	// Operation names the look in the lock info: "plan", "drift".
	Operation string
	// Progress is told when a running apply is first seen and when it moves to
	// another step, while waiting. Nil: nothing is told.
	Progress func(*ApplyInProgress)
	// Poll is how often a running apply is looked at while waiting; 0 means 1s.
	Poll time.Duration
}

// maxProbeWait bounds how long another command's look at the lock is waited
// for; it holds the lock for milliseconds.
const maxProbeWait = 5 * time.Second

// WhenIdle runs fn when no apply is running: it looks at the state lock first
// (waiting up to w.Timeout for a running apply to finish) and again after fn,
// and runs fn again when an apply started, or ran, meanwhile, since fn may then
// have read a release half done. It returns fn's results, or the apply still
// running when w.Timeout passed (fn's results are then zero). A backend that
// cannot be opened or read is a warning: fn still runs.
func WhenIdle[T any](ctx context.Context, o Options, w Wait, fn func() (T, diags.Diagnostics)) (T, diags.Diagnostics, *ApplyInProgress) {
	var zero T
	if w.NoLock {
		res, ds := fn()
		return res, ds.Append(journalWarning(ctx, o)), nil
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.Operation == "" {
		w.Operation = "plan"
	}
	b, err := OpenBackend(o.Config, dirOf(o))
	if err != nil {
		res, ds := fn()
		return res, ds.Append(diags.Sourceless(diags.Warning, "Cannot tell whether an apply is running",
			fmt.Sprintf("nonstop could not open its state backend to look at the lock: %v. The result may show a release half done.", err))), nil
	}
	defer b.Close()
	deadline := time.Now().Add(w.Timeout)
	seen := ""
	look := func() (probeResult, error) {
		probeDeadline := time.Now().Add(maxProbeWait)
		for {
			r, err := probe(ctx, b, w.Operation)
			if err != nil || !r.probe || time.Now().After(probeDeadline) {
				return r, err
			}
			if !sleep(ctx, 50*time.Millisecond) {
				return r, ctx.Err()
			}
		}
	}
	for {
		before, err := look()
		if err != nil {
			res, ds := fn()
			return res, ds.Append(diags.Sourceless(diags.Warning, "Cannot tell whether an apply is running",
				fmt.Sprintf("nonstop could not look at the state lock: %v. The result may show a release half done.", err))), nil
		}
		if before.running == nil && !before.probe {
			res, ds := fn()
			after, err := look()
			if err == nil && after.running == nil && !after.probe && after.serial == before.serial {
				return res, ds, nil
			}
			if err != nil {
				return res, ds.Append(diags.Sourceless(diags.Warning, "Cannot tell whether an apply is running",
					fmt.Sprintf("nonstop could not look at the state lock again after reading live state: %v.", err))), nil
			}
			if after.running == nil && !after.probe {
				continue // an apply came and went meanwhile: read again
			}
			before = after
		}
		a := before.running
		if a == nil {
			a = &ApplyInProgress{Lock: state.LockInfo{Operation: "another command"}}
		}
		if a.step() != seen {
			seen = a.step()
			if w.Progress != nil {
				w.Progress(a)
			}
		}
		if !time.Now().Before(deadline) {
			return zero, nil, a
		}
		if !sleep(ctx, min(w.Poll, time.Until(deadline))) {
			return zero, diags.Diagnostics{diags.Sourceless(diags.Error, "Interrupted", "Stopped while waiting for the running apply.")}, a
		}
	}
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(max(d, time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dirOf is the configuration directory of o, "." when unset.
func dirOf(o Options) string {
	if o.Dir == "" {
		return "."
	}
	return o.Dir
}

// journalWarning warns, for -lock=false, when the state holds the journal of
// an apply that is running or was interrupted.
func journalWarning(ctx context.Context, o Options) diags.Diagnostics {
	b, err := OpenBackend(o.Config, dirOf(o))
	if err != nil {
		return nil
	}
	defer b.Close()
	st, err := b.Load(ctx)
	if err != nil || st.Journal == nil {
		return nil
	}
	return diags.Diagnostics{diags.Sourceless(diags.Warning, "An apply is running or was interrupted",
		fmt.Sprintf("The state holds the journal of apply %s, started %s (%s); with -lock=false nonstop did not look at the lock, so the result may show a release half done.",
			st.Journal.ApplyID, st.Journal.Started.UTC().Format("2006-01-02 15:04:05 UTC"), st.Journal.PlanSummary))}
}

// PlanWhenIdle is Plan run when no apply is running (WhenIdle). It returns the
// plan and the live state it was made from; running is the apply still running
// when w.Timeout passed (the plan is then nil).
func PlanWhenIdle(ctx context.Context, o Options, w Wait) (p *planner.Plan, live *planner.Live, ds diags.Diagnostics, running *ApplyInProgress) {
	if w.Operation == "" {
		w.Operation = "plan"
	}
	type made struct {
		p    *planner.Plan
		live *planner.Live
	}
	res, ds, running := WhenIdle(ctx, o, w, func() (made, diags.Diagnostics) {
		p, live, ds := PlanLive(ctx, o)
		return made{p, live}, ds
	})
	return res.p, res.live, ds, running
}

// RefreshWhenIdle is Refresh run when no apply is running (WhenIdle), for drift.
func RefreshWhenIdle(ctx context.Context, o Options, w Wait) (*planner.Live, diags.Diagnostics, *ApplyInProgress) {
	if w.Operation == "" {
		w.Operation = "drift"
	}
	return WhenIdle(ctx, o, w, func() (*planner.Live, diags.Diagnostics) { return Refresh(ctx, o) })
}

// MarkRunning shows the releases of the apply running now (the one holding b's
// lock) as ResultRunning in st, which the caller loaded from b and does not save.
// It returns that apply, or nil when none runs.
func MarkRunning(ctx context.Context, b state.Backend, st *state.State) *ApplyInProgress {
	if st == nil || st.Journal == nil {
		return nil
	}
	var r probeResult
	deadline := time.Now().Add(maxProbeWait)
	for {
		var err error
		r, err = probe(ctx, b, "history")
		if err != nil || !r.probe || time.Now().After(deadline) || !sleep(ctx, 50*time.Millisecond) {
			break
		}
	}
	a := r.running
	if a == nil || a.ApplyID == "" || a.ApplyID != st.Journal.ApplyID {
		return nil
	}
	for i := range st.History {
		if strings.HasPrefix(st.History[i].ID, a.ApplyID+"/") && st.History[i].Finished.IsZero() {
			st.History[i].Result = ResultRunning
		}
	}
	return a
}
