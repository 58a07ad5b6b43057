package operation

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// OpenBackend opens the state backend the configuration names in its nonstop
// block, or the default local backend (.nonstop in dir) when it names none.
func OpenBackend(cfg *lang.Config, dir string) (state.Backend, error) {
	kind, attrs := "", map[string]cty.Value(nil)
	if cfg != nil && cfg.Nonstop != nil && cfg.Nonstop.State != nil {
		kind, attrs = cfg.Nonstop.State.Kind, cfg.Nonstop.State.Attrs
	}
	return state.Open(kind, attrs, dir)
}

// BackendDiagnostics turns a failure to open the state backend into a diagnostic.
func BackendDiagnostics(err error) diags.Diagnostics {
	return diags.Diagnostics{diags.Sourceless(diags.Error, "Cannot open the state backend",
		fmt.Sprintf("nonstop keeps its state and lock in the backend of the nonstop block's state block: %v.", err))}
}

// CheckTargets reports every target that names no service of cfg.
func CheckTargets(cfg *lang.Config, targets []string) diags.Diagnostics {
	var ds diags.Diagnostics
	for _, t := range targets {
		if _, ok := cfg.Services[t]; ok {
			continue
		}
		ds = ds.Append(diags.Sourceless(diags.Error, "Invalid target",
			fmt.Sprintf("The target service.%s names no service of the configuration; declared services are: %s.",
				t, strings.Join(cfg.ServiceNames, ", "))))
	}
	return ds
}

// lockState takes the state lock for operation, retrying for timeout (0: one try).
func lockState(ctx context.Context, b state.Backend, operation string, timeout time.Duration) (string, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return b.Lock(ctx, state.NewLockInfo(operation, lang.Version))
}

// commitOf returns the git commit the configuration was read at: the -ref commit,
// else the HEAD of the repository holding dir, else "".
func commitOf(cfg *lang.Config, dir string) string {
	commit, _ := gitOf(cfg, dir)
	return commit
}

// gitOf returns the commit the configuration was read at (as commitOf) and the
// git tree of the configuration directory there; "", "" outside git.
func gitOf(cfg *lang.Config, dir string) (commit, tree string) {
	commit, tree, err := lang.GitDirTree(dir, cfg.Commit)
	if err == nil {
		return commit, tree
	}
	if cfg.Commit != "" {
		return cfg.Commit, ""
	}
	// A directory not committed yet: the commit is HEAD, the directory has no tree.
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return "", ""
	}
	head, err := repo.Head()
	if err != nil {
		return "", ""
	}
	return head.Hash().String(), ""
}

// op is one operation under way: its options with defaults filled in, and the
// providers it opened.
type op struct {
	o      Options
	cfg    *lang.Config
	dir    string
	view   View
	log    hclog.Logger // the root logger
	provs  planner.Providers
	opened bool // provs were opened here and are closed by close
}

func newOp(o Options) *op {
	x := &op{o: o, cfg: o.Config, dir: o.Dir, view: o.View, log: o.Logger, provs: o.Providers}
	if x.dir == "" {
		x.dir = "."
	}
	if x.view == nil {
		x.view = nopView{}
	}
	if x.log == nil {
		x.log = hclog.NewNullLogger()
	}
	if x.o.Parallelism <= 0 {
		x.o.Parallelism = planner.DefaultParallelism
	}
	return x
}

// diagnostics shows ds, if there are any, and reports whether they hold errors.
func (x *op) diagnostics(ds diags.Diagnostics) bool {
	if len(ds) > 0 {
		x.view.Diagnostics(ds)
	}
	return ds.HasErrors()
}

// providers returns the configuration's providers, opening them on first use.
func (x *op) providers() (planner.Providers, diags.Diagnostics) {
	if x.provs != nil {
		return x.provs, nil
	}
	provs, ds := planner.OpenProviders(x.cfg, x.log.Named("provider"))
	x.provs, x.opened = provs, true
	return provs, ds
}

// close closes the providers the operation opened; what fails to close is logged:
// the outcome does not depend on it.
func (x *op) close() {
	if !x.opened {
		return
	}
	if err := x.provs.Close(); err != nil {
		x.log.Named("provider").Warn("closing providers", "error", err)
	}
	x.provs, x.opened = nil, false
}

// refresh reads the live state of targets (every service when empty). Targets are
// checked before any provider is opened. The Live is nil when nothing could be read.
func (x *op) refresh(ctx context.Context, targets []string) (*planner.Live, diags.Diagnostics) {
	if ds := CheckTargets(x.cfg, targets); ds.HasErrors() {
		return nil, ds
	}
	provs, ds := x.providers()
	if ds.HasErrors() {
		return nil, ds
	}
	log := x.log.Named("refresh")
	log.Debug("refreshing", "targets", len(targets), "providers", len(provs), "parallelism", x.o.Parallelism)
	live, rds := planner.Refresh(ctx, x.cfg, provs, planner.RefreshOptions{Parallelism: x.o.Parallelism, Targets: targets})
	ds = ds.Append(rds)
	if live != nil {
		for name, ls := range live.Services {
			log.Trace("refreshed service", "service", name, "instances", len(ls.Instances),
				"balancers", len(ls.Balancers), "routes", len(ls.Routes))
		}
	}
	return live, ds
}

// Refresh reads the live state of the configuration's services (or of
// Options.Targets) without the state lock. The Live is nil when nothing could be
// read; the diagnostics say what could not. Nothing is reported through the View.
func Refresh(ctx context.Context, o Options) (*planner.Live, diags.Diagnostics) {
	x := newOp(o)
	defer x.close()
	return x.refresh(ctx, o.Targets)
}

// Plan refreshes the live state and plans against it without the state lock, as
// `nonstop plan` does: the versions nonstop last deployed are read from the state
// as it stands (a state that cannot be read is a warning: hidden versions then
// count as needing a deploy, which is safe). The plan carries the live values it
// was made from, for a later stale check. It returns the plan (nil on errors) and
// every diagnostic, and reports nothing through the View.
func Plan(ctx context.Context, o Options) (*planner.Plan, diags.Diagnostics) {
	p, _, ds := PlanLive(ctx, o)
	return p, ds
}

// PlanLive is Plan that also returns the live state the plan was made from (nil
// when it could not be read), for reports that compare it with another
// configuration (plan -base).
func PlanLive(ctx context.Context, o Options) (*planner.Plan, *planner.Live, diags.Diagnostics) {
	x := newOp(o)
	defer x.close()
	live, ds := x.refresh(ctx, o.Targets)
	if ds.HasErrors() {
		return nil, live, ds
	}
	ds = ds.Append(emptyRegistries(x.cfg, live))
	commit := commitOf(x.cfg, x.dir)
	log := x.log.Named("plan")
	log.Debug("planning", "targets", len(o.Targets), "commit", commit)
	st, kds := x.readState(ctx)
	ds = ds.Append(kds)
	var known map[string]map[string]string
	if st != nil {
		known = st.Deployed
	}
	p, pds := x.makePlan(live, commit, known, recoveryOptions(st))
	ds = ds.Append(pds)
	if p != nil {
		log.Debug("plan made", "changes", len(p.Changes), "steps", len(p.Steps))
	}
	return p, live, ds
}

// makePlan plans against live and records in the plan the live values it was
// made from.
func (x *op) makePlan(live *planner.Live, commit string, known map[string]map[string]string, rec map[string]planner.Recovery) (*planner.Plan, diags.Diagnostics) {
	bounds := planner.NewBounds(x.o.Parallelism, x.o.PerHostDeploys)
	p, ds := planner.MakePlan(x.cfg, live, planner.Options{Targets: x.o.Targets, Commit: commit, KnownVersions: known, Recovery: rec,
		Bounds: &bounds})
	if p != nil {
		p.RecordPrior(live)
		tree := ""
		if c, t := gitOf(x.cfg, x.dir); c == commit {
			tree = t
		}
		if err := p.SealInputs(x.cfg, tree); err != nil {
			return nil, ds.Append(diags.Sourceless(diags.Error, "Cannot seal the plan", err.Error()))
		}
	}
	return p, ds
}

// readState reads, without the lock, the versions nonstop last deployed per
// instance and what interrupted applies left unproven, so that plan sees what
// apply will see. An interrupted journal still in the state is folded in as
// apply would fold it.
func (x *op) readState(ctx context.Context) (*state.State, diags.Diagnostics) {
	b, err := OpenBackend(x.cfg, x.dir)
	if err != nil {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Warning, "State not read",
			fmt.Sprintf("nonstop could not open its state to learn the versions it last deployed: %v", err))}
	}
	defer b.Close()
	st, err := b.Load(ctx)
	if err != nil {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Warning, "State not read",
			fmt.Sprintf("nonstop could not read its state to learn the versions it last deployed: %v", err))}
	}
	noteRecovery(st, x.cfg)
	return st, nil
}

// emptyRegistries warns about every service whose registry lists none of its
// declared instances: a new service, or a registry address, namespace or group
// that is not the one the instances register in, where the plan would deploy
// every instance and wait for registrations that never show up.
func emptyRegistries(cfg *lang.Config, live *planner.Live) diags.Diagnostics {
	var ds diags.Diagnostics
	if live == nil {
		return nil
	}
	for _, name := range cfg.ServiceNames {
		svc, ls := cfg.Services[name], live.Services[name]
		if svc == nil || ls == nil || svc.Registry == nil {
			continue
		}
		declared, found := 0, 0
		for _, g := range svc.Groups {
			for _, a := range g.Instances {
				declared++
				if _, ok := ls.Instances[a.String()]; ok {
					found++
				}
			}
		}
		if declared == 0 || found > 0 {
			continue
		}
		r := svc.Registry
		rng := r.DeclRange
		ds = ds.Append(diags.Warningf(&rng, "The registry lists no instance of the service",
			"%s lists none of the %d declared instances of %s (group %s). If the service runs, the registry's address, namespace or group is not the one its instances register in: an apply would deploy every instance and wait for registrations that never show up.",
			r.Provider, declared, name, orDefault(r.Group, lang.DefaultNacosGroup)))
	}
	return ds
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
