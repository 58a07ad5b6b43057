package operation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/planner"
)

// saveTimeout bounds the save after the steps ran, which goes ahead when the
// apply's context has ended.
const saveTimeout = 30 * time.Second

// Apply runs one whole apply of o.Config: under the state lock it recovers an
// interrupted apply, plans from live state (or reads o.PlanFile), asks for
// approval, runs the steps with a journal and records the outcome and the history
// in the state. The lock is released on every path. It reports through o.View,
// calling View.Result last, and returns the same Result.
//
// A context that ends while the steps run stops them promptly (no rollback); the
// outcome is still saved, as interrupted.
func Apply(ctx context.Context, o Options) *Result {
	x := newOp(o)
	r := &Result{}
	x.apply(ctx, r)
	x.view.Result(r)
	return r
}

// apply fills r; its deferred calls close the providers, release the lock and
// close the backend, in that order.
func (x *op) apply(ctx context.Context, r *Result) {
	if x.cfg == nil {
		r.Err = errors.New("no configuration to apply")
		return
	}
	log := x.log.Named("apply")
	b, err := OpenBackend(x.cfg, x.dir)
	if err != nil {
		x.diagnostics(BackendDiagnostics(err))
		r.Err = ErrDiagnostics
		return
	}
	defer b.Close()

	lockID, err := lockState(ctx, b, "apply", x.o.LockTimeout)
	if err != nil {
		r.Err = err
		return
	}
	r.LockID = lockID
	defer func() {
		if err := b.Unlock(lockID); err != nil {
			r.UnlockErr = err
		}
	}()
	log.Debug("state lock taken", "id", lockID)

	st, err := b.Load(ctx)
	if err != nil {
		r.Err = fmt.Errorf("cannot load the state: %w", err)
		return
	}
	if st.Journal != nil {
		x.view.Interrupted(st.Journal)
		if x.diagnostics(settleDeploys(ctx, x.cfg, st.Journal, 250*time.Millisecond)) {
			r.Err = ErrDiagnostics
			return
		}
		noteRecovery(st, x.cfg)
		closeInterrupted(st)
		if err := b.Save(ctx, st); err != nil {
			r.Err = fmt.Errorf("cannot record the interrupted apply: %w", err)
			return
		}
	}
	commit := commitOf(x.cfg, x.dir)

	defer x.close()
	var ok bool
	if x.o.PlanFile != "" {
		ok = x.readPlan(ctx, r)
	} else {
		ok = x.planAndApprove(ctx, r, st, commit)
	}
	if ok {
		x.execute(ctx, r, b, st, commit)
		return
	}
	if r.NoChanges && len(st.Recovery) > 0 {
		// Nothing to do: the services are converged, nothing is owed any more.
		names := x.o.Targets
		if len(names) == 0 {
			names = slices.Collect(maps.Keys(st.Recovery))
		}
		clearRecovery(st, names)
		if err := b.Save(ctx, st); err != nil {
			r.Err = fmt.Errorf("%w: %v", ErrStateNotSaved, err)
		}
	}
}

// planAndApprove refreshes, plans, shows the plan and asks for approval. It
// reports whether the apply goes on with r.Plan.
func (x *op) planAndApprove(ctx context.Context, r *Result, st *state.State, commit string) bool {
	live, ds := x.refresh(ctx, x.o.Targets)
	if x.diagnostics(ds) || live == nil {
		r.Err = ErrDiagnostics
		return false
	}
	p, ds := x.makePlan(live, commit, st.Deployed, recoveryOptions(st))
	if x.diagnostics(ds) || p == nil {
		r.Err = ErrDiagnostics
		return false
	}
	r.Plan = p
	if !p.HasChanges() {
		r.NoChanges = true
		return false
	}
	if err := x.view.Plan(p); err != nil {
		r.Err = fmt.Errorf("cannot print the plan: %w", err)
		return false
	}
	if !x.o.AutoApprove && !x.view.Approve(p) {
		r.Err = ErrNotApproved
		return false
	}
	return true
}

// readPlan reads the plan file, checks it against the configuration and the live
// state, and refuses it when either changed since the plan was made: the live
// values it recorded are compared with those read now, field by field. It
// reports whether the apply goes on with r.Plan.
func (x *op) readPlan(ctx context.Context, r *Result) bool {
	pf, err := planner.OpenPlanFile(x.o.PlanFile)
	if err != nil {
		r.Err = fmt.Errorf("cannot read the plan file: %w", err)
		return false
	}
	if err := pf.CheckConfig(x.cfg); err != nil {
		r.Err = fmt.Errorf("%w: %w", ErrPlanConfig, err)
		return false
	}
	p := pf.Plan
	r.Plan = p
	live, ds := x.refresh(ctx, planServices(p, x.o.Targets))
	if x.diagnostics(ds) || live == nil {
		r.Err = ErrDiagnostics
		return false
	}
	if stale := p.Prior.Stale(live); len(stale) > 0 {
		r.Err = &StaleError{Objects: stale}
		return false
	}
	if !p.HasChanges() {
		r.NoChanges = true
		return false
	}
	return true
}

// planServices returns the services a plan read: those named in its fingerprints
// and steps, or the targets when it read none.
func planServices(p *planner.Plan, targets []string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	for key := range p.Prior.Objects {
		name, _, _ := strings.Cut(key, "/")
		add(name)
	}
	for _, s := range p.Steps {
		add(s.Service)
	}
	if len(out) == 0 {
		return targets
	}
	return out
}

// execute starts the journal, runs the plan and records what it did in the state.
func (x *op) execute(ctx context.Context, r *Result, b state.Backend, st *state.State, commit string) {
	log := x.log.Named("apply")
	p := r.Plan
	started := time.Now()
	applyID := newApplyID(started)
	st.Journal = &state.Journal{ApplyID: applyID, Started: started, PlanSummary: SummaryText(p.Summary)}
	// Until the apply finishes, its releases stand in the history as interrupted:
	// that is what they are if this process dies.
	releases := plannedReleases(x.cfg, p, applyID, started, commit)
	st.History = append(st.History, releases...)
	if err := b.Save(ctx, st); err != nil {
		r.Err = fmt.Errorf("cannot start the apply journal: %w", err)
		return
	}
	log.Info("apply started", "id", applyID, "steps", len(p.Steps), "resumes", ResumeWhere(b, x.dir))

	// Resumes come from the state backend (postgres: from any machine) or the
	// resume file of a local state.
	watchCtx, stopWatch := context.WithCancel(ctx)
	resumes := WatchResumes(watchCtx, b, x.dir, applyID, 500*time.Millisecond, log)
	// The steps stop as soon as the lock is found lost: before the next step,
	// and a step in flight through runCtx.
	runCtx, fence := startFence(ctx, b)
	runner := executor.Runner{
		Config:         x.cfg,
		Providers:      x.provs,
		Journal:        executor.BackendJournal(b),
		Events:         x.o.Events,
		Logger:         x.log.Named("executor"),
		Parallelism:    x.o.Parallelism,
		PerHostDeploys: x.o.PerHostDeploys,
		Resume:         resumes,
		Fence:          fence.check,
	}
	res, runErr := runner.Apply(runCtx, p)
	stopWatch()
	fence.close()
	if lost := fence.lockLost(runErr); lost != nil {
		// The lock is another's now: nothing more is written, not even the
		// state. The journal, as far as it got, stays for the next holder.
		log.Error("state lock lost; the apply stopped", "id", applyID, "error", lost)
		r.Apply, r.Interrupted = res, ctx.Err() != nil
		r.Err = fmt.Errorf("%w: %v; %w: the apply that takes the lock next recovers its journal", ErrLockLost, lost, ErrStateNotSaved)
		return
	}

	// The state is written even when the apply was interrupted: ctx may be done.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	interrupted := ctx.Err() != nil
	recordResult(st, x.cfg, res, runErr, interrupted, releases, commit)
	r.Apply, r.Interrupted = res, interrupted
	if err := b.Save(sctx, st); err != nil {
		r.Err = fmt.Errorf("%w: %w", ErrStateNotSaved, err)
		return
	}
	r.Ran = true
	switch {
	case runErr != nil:
		r.Err = runErr
	case interrupted:
		r.Err = ErrInterrupted
	case res == nil:
		r.Err = errors.New("the runner returned no result")
	case res.Failed():
		r.Err = errors.New(res.Summary())
	}
}

// newApplyID returns a fresh apply ID: the UTC time and four random bytes.
func newApplyID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
