package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

const resumeHelp = `
Usage: nonstop resume [options] [DIR] STEP_ID

  Lets a running apply of the configuration in DIR (default: the current
  directory) go past its pause step STEP_ID ("order-service.5", as the plan
  and the apply's progress number it), e.g. a canary step with
  pause = "manual", or an analysis with no_data = "pause" that found no data.

  The step must be one that can wait for a resume: its service must declare
  such a pause, and the apply's journal must not show the step as another
  kind of step or as already run; with no apply running its steps there is
  nothing to resume. The journal lists only the steps the apply has started,
  so a step it has not reached yet is accepted with a warning: if it is a
  pause of the plan, the pause then ends at once.

  With the postgres state backend the resume is recorded in the state
  database for the apply in progress, which polls it twice a second: run
  resume from any machine with the same configuration (and credentials). With
  the local state backend the running apply watches the file "resume" in the
  state directory (.nonstop/resume by default), so run resume on the machine
  that runs the apply. Either way the apply continues within a second, and a
  resume is never carried over to a later apply.

  Each resume is recorded in the state's audit log (who, when, which step of
  which apply), which history and state show list.

Exit codes:
  0  the resume was recorded for the apply to pick up
  1  the step cannot be resumed, the resume could not be recorded, or the
     command was used wrongly
`

var resumeCommand = &Command{
	Name:     "resume",
	Synopsis: "Continue a running apply past a pause step",
	Help:     resumeHelp,
	Run:      runResume,
}

func runResume(m *Meta, args []string) int {
	fs := m.FlagSet("resume", resumeHelp)
	var vars VarFlags
	vars.Register(fs)
	pos, code, done := m.parseInterleaved(fs, args)
	if done {
		return code
	}
	dir, step := ".", ""
	switch len(pos) {
	case 1:
		step = pos[0]
	case 2:
		dir, step = pos[0], pos[1]
	default:
		fmt.Fprintf(m.Stderr, "Error: resume takes a step id and at most one directory before it, got %d arguments.\n\n", len(pos))
		fs.Usage()
		return 1
	}
	step = strings.TrimSpace(step)
	service, ok := stepIDService(step)
	if !ok {
		fmt.Fprintf(m.Stderr, "Error: %q is not a step id: write it as the plan numbers it, e.g. order-service.5.\n", step)
		return 1
	}
	cfg, ds := m.LoadConfig(dir, vars)
	if ds.HasErrors() {
		m.ShowDiagnostics(ds, Sources(cfg, dir))
		return 1
	}
	if msg := pauseOfConfig(cfg, service, step); msg != "" {
		fmt.Fprintf(m.Stderr, "Error: %s\n", msg)
		return 1
	}
	b, err := openBackend(cfg, dir)
	if err != nil {
		m.ShowDiagnostics(backendDiag(err), nil)
		return 1
	}
	defer b.Close()
	st, err := b.Load(context.Background())
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot read the state to check that %s is a pause of the running apply: %v\n", step, err)
		return 1
	}
	check := pauseOfJournal(st.Journal, step)
	if check.refuse != "" {
		fmt.Fprintf(m.Stderr, "Error: %s\n", check.refuse)
		return 1
	}
	where, err := recordResume(b, dir, st.Journal.ApplyID, step)
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot record the resume: %v\n", err)
		return 1
	}
	fmt.Fprintf(m.Stdout, "Resume of step %s recorded in %s.\n", step, where)
	fmt.Fprintln(m.Stdout, check.note)
	m.audit(b, state.AuditEntry{Action: state.AuditResume, ApplyID: st.Journal.ApplyID, Step: step})
	return 0
}

// recordResume gives the resume of step to apply applyID: in the state
// backend when it carries resumes (postgres), else in the resume file the
// apply watches. It returns where it was recorded, for people.
func recordResume(b state.Backend, dir, applyID, step string) (string, error) {
	if r, ok := b.(state.Resumer); ok {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the backend bounds each statement
		defer cancel()
		if err := r.AddResume(ctx, applyID, step); err != nil {
			return "", err
		}
		return operation.ResumeWhere(b, dir) + " for apply " + applyID, nil
	}
	path := operation.ResumePath(b, dir)
	return path, appendLine(path, step)
}

// audit appends e, with who runs nonstop and the CI run, to the audit log of
// b; a failure is a warning, the action itself is done.
func (m *Meta) audit(b state.Backend, e state.AuditEntry) {
	e.Who, e.RunURL = state.Actor(m.Getenv), state.RunURL(m.Getenv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := state.AppendAudit(ctx, b, e); err != nil {
		fmt.Fprintf(m.Stderr, "Warning: the %s was done but could not be recorded in the state's audit log: %v\n", e.Action, err)
	}
}

// stepIDService returns the service of a plan step id, "order-service" of
// "order-service.5"; ok is false when id is not SERVICE.N with N a number
// from 1. Rollback steps (SERVICE.rollback.N) never wait for a resume.
func stepIDService(id string) (service string, ok bool) {
	service, n, found := strings.Cut(id, ".")
	if !found || service == "" || n == "" || n[0] == '0' || strings.Trim(n, "0123456789") != "" {
		return "", false
	}
	return service, true
}

// pauseOfConfig returns why step cannot be a pause of service in cfg, or "".
// A service pauses for `nonstop resume` at a canary step with pause = "manual"
// and at an analysis with no_data = "pause" that a canary step runs.
func pauseOfConfig(cfg *lang.Config, service, step string) string {
	s := cfg.Services[service]
	if s == nil {
		return fmt.Sprintf("%s is not a step of this configuration: it declares no service %q (its services: %s).",
			step, service, strings.Join(cfg.ServiceNames, ", "))
	}
	if s.Strategy != nil && s.Strategy.Kind == lang.Canary {
		for _, cs := range s.Strategy.Steps {
			if cs.PauseUntilResumed {
				return ""
			}
			for _, name := range cs.Analysis {
				if a := s.Analyses[name]; a != nil && a.NoData == "pause" {
					return ""
				}
			}
		}
	}
	return fmt.Sprintf("%s cannot be a pause step: service %q has no canary step with pause = \"manual\" "+
		"and no analysis with no_data = \"pause\", so no step of it waits for nonstop resume.", step, service)
}

// journalCheck is what the journal says of a step to resume: why to refuse it,
// or what to tell the user once it is recorded.
type journalCheck struct {
	refuse string
	note   string
}

// pauseOfJournal checks step against the journal of the running (or last
// interrupted) apply: it must not have run already, nor be in flight as
// anything but a pause or an analysis gate.
func pauseOfJournal(j *state.Journal, step string) journalCheck {
	if j == nil {
		return journalCheck{refuse: fmt.Sprintf("no apply is running its steps, so there is no pause %s to resume: "+
			"run resume once the apply shows the step as waiting (an apply that starts its steps clears earlier resumes).", step)}
	}
	var last *state.JournalEntry
	for i := range j.Entries {
		if j.Entries[i].StepID == step {
			last = &j.Entries[i]
		}
	}
	switch {
	case last == nil:
		return journalCheck{note: fmt.Sprintf("The apply %s has not reached step %s yet. Its journal lists only the steps it has\n"+
			"started, so nonstop cannot check that %s is a pause of its plan: if it is, the\n"+
			"pause ends at once when the apply reaches it.", j.ApplyID, step, step)}
	case last.Event == state.EventEnd:
		return journalCheck{refuse: fmt.Sprintf("step %s (%s) of the apply %s has already run: there is nothing to resume.", step, last.Kind, j.ApplyID)}
	case last.Event == state.EventError:
		return journalCheck{refuse: fmt.Sprintf("step %s (%s) of the apply %s failed: there is nothing to resume.", step, last.Kind, j.ApplyID)}
	case last.Kind != string(planner.Pause) && last.Kind != string(planner.GateAnalysis):
		return journalCheck{refuse: fmt.Sprintf("step %s of the apply %s is a %s step, not a pause: only pause steps and analyses "+
			"with no_data = \"pause\" wait for nonstop resume.", step, j.ApplyID, last.Kind)}
	}
	return journalCheck{note: fmt.Sprintf("The apply %s is at step %s (%s) and continues past it within a second.", j.ApplyID, step, last.Kind)}
}

// appendLine appends line to the file at path, creating it and its directory.
func appendLine(path, line string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
