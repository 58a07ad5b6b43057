package operation

import (
	"errors"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// Options says what an operation works on and where it reports.
type Options struct {
	// Config is the loaded configuration; Dir is the directory it was loaded from
	// (the default local state, .nonstop, lives there). Dir "" means ".".
	Config *lang.Config
	Dir    string
	// PlanFile is a plan saved by `nonstop plan -out`. Apply applies it without
	// asking, after checking it against the configuration and the live state.
	// Empty: plan from live state.
	PlanFile string
	// Targets limits the operation to these services (names, without "service.");
	// empty means every service.
	Targets []string
	// Parallelism bounds the list calls of a refresh and the steps running at once;
	// 0 means the default (10).
	Parallelism int
	// PerHostDeploys bounds the deploys running at once on one host; zero means
	// executor.DefaultPerHostDeploys.
	PerHostDeploys int
	// LockTimeout is how long Apply retries taking the state lock; 0 means one try.
	LockTimeout time.Duration
	// AutoApprove applies a plan made from live state without View.Approve.
	AutoApprove bool
	// Providers are the configuration's opened providers. Nil: the operation opens
	// them from the configuration and closes them when it ends.
	Providers planner.Providers
	// Events receives the apply's progress events; nil discards them. The operation
	// does not close it.
	Events executor.EventSink
	// Logger is the root logger; the operation logs under the names "apply",
	// "refresh", "plan", "provider" and "executor". Nil discards.
	Logger hclog.Logger
	// View shows what the operation has to say. Nil shows nothing and approves
	// nothing (set AutoApprove).
	View View
}

// View is how an operation speaks to the person (or program) that runs it. Apply
// calls its methods from one goroutine, in the order of the operation.
type View interface {
	// Diagnostics shows warnings and errors: of the state backend, a refresh, the
	// planner. It is not called with an empty list.
	Diagnostics(ds diags.Diagnostics)
	// Interrupted reports the journal of an earlier apply that did not finish,
	// before Apply records it and plans again from live state.
	Interrupted(j *state.Journal)
	// Plan shows a plan made from live state that has changes, before approval.
	// An error (the plan could not be shown) stops the apply.
	Plan(p *planner.Plan) error
	// Approve asks whether to apply p and reports the answer. It is not called
	// with Options.AutoApprove or a plan file.
	Approve(p *planner.Plan) bool
	// Result reports how Apply ended; it is called once, last, on every path.
	Result(r *Result)
}

// Result is how an apply ended.
type Result struct {
	// Plan is the plan applied, or the one refused or not approved; nil when none
	// was made or read.
	Plan *planner.Plan
	// NoChanges: the plan changes nothing, so nothing ran.
	NoChanges bool
	// Ran: the runner ran the plan and its outcome was saved in the state; Apply
	// and Interrupted then tell what happened.
	Ran bool
	// Apply is what the runner did; nil when it ran no step (Err says why).
	Apply *executor.Result
	// Interrupted: the context ended while the steps ran; no rollback ran.
	Interrupted bool
	// Err is non-nil exactly when the apply failed: it stopped before running (a
	// held lock, a stale plan, no approval, errors shown as diagnostics...), its
	// state could not be saved, or some step or service failed.
	Err error
	// LockID is the ID of the state lock the apply took; "" when it took none.
	LockID string
	// UnlockErr is the failure to release the lock, if any. It does not fail the
	// apply, whose outcome is already saved.
	UnlockErr error
}

// Reasons an apply stops; match them with errors.Is.
var (
	// ErrDiagnostics: the apply stopped on errors already shown through
	// View.Diagnostics.
	ErrDiagnostics = errors.New("stopped by the errors shown as diagnostics")
	// ErrNotApproved: View.Approve said no (the view has said why).
	ErrNotApproved = errors.New("the plan was not approved")
	// ErrPlanConfig: the plan file was made from another configuration.
	ErrPlanConfig = errors.New("the plan file does not match the configuration")
	// ErrStateNotSaved: the steps ran but their outcome could not be saved; the
	// journal stays in the state, and the next apply recovers it.
	ErrStateNotSaved = errors.New("cannot save the state after the apply")
	// ErrInterrupted: the context ended while the steps ran.
	ErrInterrupted = errors.New("the apply was interrupted")
	// ErrLockLost: the state lock was taken from the apply while its steps ran
	// (force-unlocked, its database session ended). The apply stopped before its
	// next write to a live system, the steps in flight included, and saved
	// nothing more: the lock's next holder recovers its journal. The error
	// also matches ErrStateNotSaved.
	ErrLockLost = errors.New("the state lock was lost, so this apply stopped before its next write")
)

// nopView shows nothing and approves nothing.
type nopView struct{}

func (nopView) Diagnostics(diags.Diagnostics) {}
func (nopView) Interrupted(*state.Journal)    {}
func (nopView) Plan(*planner.Plan) error      { return nil }
func (nopView) Approve(*planner.Plan) bool    { return false }
func (nopView) Result(*Result)                {}
