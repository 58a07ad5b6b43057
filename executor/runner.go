package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/internal/redact"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// DefaultParallelism bounds concurrent steps when Runner.Parallelism is zero, like
// Terraform's -parallelism.
const DefaultParallelism = 10

// Runner applies plans. Its fields are read-only during Apply; one Runner may apply
// several plans one after the other.
type Runner struct {
	// Config is the configuration the plan was made from; services' deploy, health,
	// verify and analysis blocks are read from it.
	Config *lang.Config
	// Providers holds a configured provider per reference (planner.Providers converts).
	Providers map[lang.ProviderRef]providers.Provider
	// Journal records every step's start and end; nil records nothing.
	Journal Journal
	// Events receives progress events; nil discards them.
	Events EventSink
	// Logger receives deploy output and diagnostics; nil discards them.
	Logger hclog.Logger
	// Parallelism bounds the writes to each provider and the deploys running at
	// once; zero means DefaultParallelism. Steps that only wait are not bounded.
	Parallelism int
	// PerHostDeploys bounds the deploys running at once on one host; zero means
	// DefaultPerHostDeploys.
	PerHostDeploys int
	// HTTPClient makes health, verify and analysis requests; nil means a default client.
	HTTPClient *http.Client
	// Resume delivers the ids of pause steps resumed by `nonstop resume`.
	Resume <-chan string
	// PollInterval is how often wait.drain polls; zero means one second. (wait.healthy
	// polls at the health block's interval, wait.serving every 200ms.)
	PollInterval time.Duration
	// Now returns the time stamped on events and journal entries; nil means time.Now.
	Now func() time.Time
	// Fence, when set, is called before every step and every rollback step; an
	// error (the state lock was lost: force-unlocked, its session gone) aborts
	// the apply before it writes to any live system again.
	Fence func(ctx context.Context) error
}

// StepError is the failure of one step.
type StepError struct {
	StepID string
	Kind   planner.StepKind
	Target string
	Err    error
}

// Error returns "step order-service.4 (deploy order-service/a/127.0.0.1:18081): ...".
func (e *StepError) Error() string {
	return fmt.Sprintf("step %s (%s %s): %v", e.StepID, e.Kind, e.Target, e.Err)
}

// Unwrap returns the underlying error.
func (e *StepError) Unwrap() error { return e.Err }

// journalError marks a failed journal write, which aborts the apply.
type journalError struct{ err error }

func (e *journalError) Error() string { return "cannot write the apply journal: " + e.err.Error() }
func (e *journalError) Unwrap() error { return e.err }

// fenceError marks a lost state lock, which aborts the apply.
type fenceError struct{ err error }

func (e *fenceError) Error() string {
	return "the state lock was lost, so this apply stops before its next write: " + e.err.Error()
}
func (e *fenceError) Unwrap() error { return e.err }

// aborts reports whether err stops the whole apply (journal or lock lost) rather
// than failing one service.
func aborts(err error) bool {
	var jerr *journalError
	var ferr *fenceError
	return errors.As(err, &jerr) || errors.As(err, &ferr)
}

// Apply runs the plan's steps and, for services that fail, their on_failure policy.
// It returns a Result in every case where steps were attempted; the error is nil only
// when every step of every service completed.
func (r *Runner) Apply(ctx context.Context, p *planner.Plan) (*Result, error) {
	x := newExecution(r, p)
	g, err := newGraph(p.Steps)
	if err != nil {
		x.em.emit(Event{Level: LevelError, Type: EventApplyErrored, Message: "Invalid plan: " + err.Error(), Error: err.Error()})
		return nil, fmt.Errorf("invalid plan: %w", err)
	}
	totals := map[string]int{}
	for _, st := range p.Steps {
		totals[st.Service]++
	}
	x.em.emit(Event{Type: EventApplyStart, Message: fmt.Sprintf("Apply: %d steps", len(p.Steps)), Totals: totals})

	if r.Resume != nil {
		hubCtx, stop := context.WithCancel(ctx)
		defer stop()
		go x.resume.follow(hubCtx, r.Resume)
	}
	x.runGraph(ctx, g)
	x.guards.stop()
	if ctx.Err() == nil && x.abortErr == nil {
		x.settleRegistries(ctx)
	}

	res := x.result(g)
	err = x.applyError(ctx, res)
	elapsed := x.now().Sub(x.started)
	if err != nil {
		x.em.emit(Event{Level: LevelError, Type: EventApplyErrored, Message: "Apply failed: " + res.Summary(), Elapsed: elapsed, Error: err.Error()})
	} else {
		x.em.emit(Event{Type: EventApplyComplete, Message: res.Summary(), Elapsed: elapsed})
	}
	return res, err
}

// execution is the state of one Apply.
type execution struct {
	r       *Runner
	plan    *planner.Plan
	em      *emitter
	log     hclog.Logger
	http    *http.Client
	resume  *resumeHub
	guards  *registryGuards
	settles drainSettles
	// pulses tell whether each registry answers during propagation waits.
	pulses pulses
	// secrets redacts the configuration's sensitive values from what is journaled.
	secrets *redact.Redactor
	now     func() time.Time
	started time.Time

	mu       sync.Mutex
	services map[string]*serviceRun
	order    []string // service names in order of first step
	abortErr error
	statuses []stepStatus // per plan step, set by runGraph

	// reads bounds the listings sent to each registry at once.
	reads *readBounds
}

func newExecution(r *Runner, p *planner.Plan) *execution {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	x := &execution{
		r: r, plan: p, now: now,
		em:       &emitter{sink: r.Events, now: now},
		log:      r.Logger,
		http:     r.HTTPClient,
		resume:   newResumeHub(),
		services: map[string]*serviceRun{},
	}
	x.guards = newRegistryGuards(x)
	x.reads = newReadBounds(r.Parallelism)
	x.secrets = redact.New()
	if r.Config != nil {
		x.secrets.Add(r.Config.SensitiveValues()...)
	}
	if x.log == nil {
		x.log = hclog.NewNullLogger()
	}
	if x.http == nil {
		x.http = &http.Client{}
	}
	x.started = now()
	for _, st := range p.Steps {
		x.serviceRun(st.Service)
	}
	return x
}

// serviceRun returns the run record of a service, creating it; callers hold no lock
// or x.mu (it is only created before steps start).
func (x *execution) serviceRun(name string) *serviceRun {
	sr, ok := x.services[name]
	if !ok {
		sr = newServiceRun(name)
		x.services[name] = sr
		x.order = append(x.order, name)
	}
	return sr
}

// applyError summarises a finished apply as one error, nil when all went well.
func (x *execution) applyError(ctx context.Context, res *Result) error {
	if x.abortErr != nil {
		return x.abortErr
	}
	if err := x.rollbackJournalError(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("apply interrupted: %w", err)
	}
	var failed []string
	for _, name := range res.Order {
		if s := res.Services[name]; s.Outcome != OutcomeApplied {
			failed = append(failed, fmt.Sprintf("%s %s", name, s.Outcome))
		}
	}
	if len(failed) > 0 {
		return errors.New("apply failed: " + strings.Join(failed, ", "))
	}
	return nil
}

// service returns a service's configuration, nil when the Runner has no Config.
func (x *execution) service(name string) (*lang.Service, error) {
	if x.r.Config == nil {
		return nil, errors.New("the runner has no configuration")
	}
	svc, ok := x.r.Config.Services[name]
	if !ok {
		return nil, fmt.Errorf("service %q is not in the configuration", name)
	}
	return svc, nil
}

// provider finds a provider by its "kind.name" reference.
func (x *execution) provider(ref string) (providers.Provider, error) {
	kind, name, ok := strings.Cut(ref, ".")
	if !ok || kind == "" || name == "" {
		return nil, fmt.Errorf("%q is not a provider reference (want kind.name)", ref)
	}
	p, ok := x.r.Providers[lang.ProviderRef{Kind: kind, Name: name}]
	if !ok {
		return nil, fmt.Errorf("provider %s is not configured", ref)
	}
	return p, nil
}

// balancer finds a balancer provider.
func (x *execution) balancer(ref string) (providers.Balancer, error) {
	p, err := x.provider(ref)
	if err != nil {
		return nil, err
	}
	b, ok := p.(providers.Balancer)
	if !ok {
		return nil, fmt.Errorf("provider %s is not a load balancer", ref)
	}
	return b, nil
}

// pollInterval returns the Runner's poll interval or its default.
func (x *execution) pollInterval() time.Duration {
	if x.r.PollInterval > 0 {
		return x.r.PollInterval
	}
	return time.Second
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
