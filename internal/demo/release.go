package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"

	// The provider kinds the demo configuration uses.
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)

// Releaser drives releases of one configuration through the library, the way
// `nonstop plan` and `nonstop apply` do: refresh, plan, safety check, apply. It
// remembers the versions its applies deployed, as nonstop's state does, because
// Polaris hides the version of an isolated instance (a blue-green standby).
type Releaser struct {
	Config    *lang.Config
	Providers planner.Providers
	Logger    hclog.Logger
	// Events receives the apply's progress; nil discards it.
	Events executor.EventSink

	// Known maps service → address → the version an apply of this Releaser (or of
	// one it was handed over from) deployed there; it feeds planner.Options.KnownVersions.
	Known map[string]map[string]string
}

// Open loads the configuration in dir (with -var and -var-file options in opts) and
// opens its providers.
func Open(dir string, opts lang.LoadOptions, logger hclog.Logger) (*Releaser, error) {
	cfg, ds := lang.LoadDir(dir, opts)
	if ds.HasErrors() {
		return nil, fmt.Errorf("load %s: %v", dir, ds.Err())
	}
	provs, ds := planner.OpenProviders(cfg, logger)
	if ds.HasErrors() {
		_ = provs.Close()
		return nil, fmt.Errorf("open providers: %v", ds.Err())
	}
	return &Releaser{Config: cfg, Providers: provs, Logger: logger, Known: map[string]map[string]string{}}, nil
}

// Close closes the providers.
func (r *Releaser) Close() error { return r.Providers.Close() }

// Refresh reads the live state.
func (r *Releaser) Refresh(ctx context.Context) (*planner.Live, error) {
	live, ds := planner.Refresh(ctx, r.Config, r.Providers, planner.RefreshOptions{})
	if ds.HasErrors() {
		return nil, fmt.Errorf("refresh: %v", ds.Err())
	}
	return live, nil
}

// Plan refreshes and plans, and checks the plan's safety once more on its own (as
// the executor may for a saved plan).
func (r *Releaser) Plan(ctx context.Context) (*planner.Live, *planner.Plan, error) {
	live, err := r.Refresh(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, ds := planner.MakePlan(r.Config, live, planner.Options{KnownVersions: r.Known})
	if ds.HasErrors() {
		return live, nil, fmt.Errorf("plan: %v", ds.Err())
	}
	if ds := planner.CheckSafety(r.Config, live, p); ds.HasErrors() {
		return live, p, fmt.Errorf("the plan fails its safety check: %v", errText(ds))
	}
	return live, p, nil
}

// Apply applies the plan and records the versions it deployed. The error is nil
// only when every step completed.
func (r *Releaser) Apply(ctx context.Context, p *planner.Plan) (*executor.Result, time.Duration, error) {
	runner := &executor.Runner{
		Config:       r.Config,
		Providers:    map[lang.ProviderRef]providers.Provider(r.Providers),
		Events:       r.Events,
		Logger:       r.Logger,
		PollInterval: 250 * time.Millisecond,
	}
	start := time.Now()
	res, err := runner.Apply(ctx, p)
	elapsed := time.Since(start)
	if res != nil {
		for name, sr := range res.Services {
			if r.Known[name] == nil {
				r.Known[name] = map[string]string{}
			}
			for addr, v := range sr.Deployed {
				r.Known[name][addr] = v
			}
		}
	}
	return res, elapsed, err
}

func errText(ds diags.Diagnostics) string {
	if err := ds.Err(); err != nil {
		return err.Error()
	}
	return ""
}
