package command

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

const applyHelp = `
Usage: nonstop apply [options] [FILE] [DIR]

  Releases the configuration in DIR (default: the current directory, or
  -chdir DIR). Under the state lock, nonstop reads live state again, plans,
  shows the plan and asks for approval, then runs its steps one by one,
  recording each step in the journal of the state backend.

  With FILE (a plan saved by "nonstop plan -out FILE") nonstop applies that
  plan without asking. A plan file is sealed: it records the input variables
  it was made with (sensitive ones only as a salted hash), the provider and
  state endpoints, the configuration hash, the commit and the git tree of the
  configuration directory. "apply FILE" takes the recorded variables, so it
  needs no -var or -var-file: only sensitive variables (NONSTOP_VAR_name) and
  provider credentials from the environment. It refuses, changing nothing:
  a -var, -var-file or NONSTOP_VAR_ that disagrees with the plan (naming the
  variable, never a sensitive value), other endpoints, another configuration,
  a commit where the configuration directory differs (the same content at
  another commit, the merge of the reviewed pull request, is accepted), a
  truncated, edited, foreign or other-version file, and a plan whose live
  objects changed since it was made ("plan is stale: ..."). Run plan again
  then.

  An apply that was interrupted (killed, machine lost) leaves its journal in
  the state. The next apply reports the steps that were in flight, records the
  interrupted releases in the history and plans again from live state, which
  converges: a plan is always computed from what is live now.

  A pause step of a canary waits for "nonstop resume STEP_ID". Ctrl-C stops the
  apply promptly with the steps in flight finished or cancelled; no rollback
  runs, and the next apply plans again from live state.

Exit codes:
  0  the apply completed, or there was nothing to do
  1  an error, a failed or rolled-back service, a held lock, a stale plan,
     or the plan was not approved
`

var applyCommand = &Command{
	Name:     "apply",
	Synopsis: "Release the configuration: plan, approve and run the steps",
	Help:     applyHelp,
	Run:      runApply,
}

// applyFlags are apply's options.
type applyFlags struct {
	autoApprove bool
	lockTimeout time.Duration
	json        bool
	chdir       string
	vars        VarFlags
	live        liveFlags
	// perHost bounds the deploys running at once on one host.
	perHost int
}

func runApply(m *Meta, args []string) int {
	fs := m.FlagSet("apply", applyHelp)
	var f applyFlags
	fs.BoolVar(&f.autoApprove, "auto-approve", false, "apply without asking for approval (needed when stdin is not a terminal)")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 0, "how long to retry taking the state lock (0s: one try)")
	fs.IntVar(&f.perHost, "parallelism-per-host", executor.DefaultPerHostDeploys,
		"run at most `N` deploys at once on one host (-parallelism bounds writes per provider and deploys overall; waiting steps are not bounded)")
	fs.BoolVar(&f.json, "json", false, "print progress as JSON lines on stdout (needs -auto-approve or FILE)")
	input := fs.Bool("input", true, "ask for approval on a terminal (false, as in CI: never ask; needs -auto-approve or FILE)")
	fs.StringVar(&f.chdir, "chdir", "", "the configuration `DIR` (instead of a trailing DIR argument)")
	report := fs.String("report", "", reportFlagHelp+", when the apply ends")
	f.vars.Register(fs)
	f.live.Register(fs)
	pos, code, done := m.parseInterleaved(fs, args)
	if done {
		return code
	}
	planFile, dir, err := applyArgs(pos, f.chdir)
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: %v.\n\n", err)
		fs.Usage()
		return 1
	}
	if f.json && !f.autoApprove && planFile == "" {
		fmt.Fprintln(m.Stderr, "Error: -json needs -auto-approve or a plan FILE: there is no one to ask for approval.")
		return 1
	}
	if !*input && !f.autoApprove && planFile == "" {
		fmt.Fprintln(m.Stderr, "Error: -input=false needs -auto-approve or a plan FILE: nonstop may not ask for approval.")
		return 1
	}
	var (
		cfg *lang.Config
		ds  diags.Diagnostics
	)
	if planFile != "" {
		pf, err := planner.OpenPlanFile(planFile)
		if err == nil {
			cfg, ds, err = m.loadSealedConfig(dir, f.vars, pf)
		}
		if err != nil {
			m.ShowDiagnostics(ds, Sources(cfg, dir))
			m.showPlanFileRefusal(planFile, err, f.json)
			return 1
		}
	} else {
		cfg, ds = m.LoadConfig(dir, f.vars)
	}
	if ds.HasErrors() {
		m.ShowDiagnostics(ds, Sources(cfg, dir))
		return 1
	}
	m.ShowDiagnostics(ds, Sources(cfg, dir))
	if ds := f.live.Check(cfg); ds.HasErrors() {
		m.ShowDiagnostics(ds, nil)
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	v := newApplyView(m, f.json, cfg, dir)
	rep := newApplyReport(*report, f.json, v.events)
	r := operation.Apply(ctx, operation.Options{
		Config:         cfg,
		Dir:            dir,
		PlanFile:       planFile,
		Targets:        f.live.Targets,
		Parallelism:    f.live.Parallelism,
		PerHostDeploys: f.perHost,
		LockTimeout:    f.lockTimeout,
		AutoApprove:    f.autoApprove,
		Events:         rep.sink(),
		Logger:         m.log,
		View:           v,
	})
	if !rep.write(m, r) || r.Err != nil {
		return 1
	}
	return 0
}

// applyArgs splits apply's arguments into the plan file and the configuration
// directory: [FILE] [DIR], where a lone argument that is a directory is DIR.
func applyArgs(pos []string, chdir string) (planFile, dir string, err error) {
	dir = "."
	switch len(pos) {
	case 0:
	case 1:
		if fi, statErr := os.Stat(pos[0]); statErr == nil && fi.IsDir() {
			if chdir != "" {
				return "", "", fmt.Errorf("-chdir %s and the directory argument %s contradict each other", chdir, pos[0])
			}
			return "", pos[0], nil
		}
		planFile = pos[0]
	case 2:
		if chdir != "" {
			return "", "", fmt.Errorf("-chdir %s and the directory argument %s contradict each other", chdir, pos[1])
		}
		planFile, dir = pos[0], pos[1]
	default:
		return "", "", fmt.Errorf("apply takes at most a plan file and a directory, got %d arguments", len(pos))
	}
	if chdir != "" {
		dir = chdir
	}
	return planFile, dir, nil
}
