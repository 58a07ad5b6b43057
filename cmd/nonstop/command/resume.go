package command

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
)

const resumeHelp = `
Usage: nonstop resume [options] [DIR] STEP_ID

  Lets a running apply of the configuration in DIR (default: the current
  directory) go past its pause step STEP_ID ("order-service.5", as the plan
  and the apply's progress number it), e.g. a canary step with
  pause = "manual".

  The running apply watches a resume file, and continues within a second of
  STEP_ID being appended to it. With the local state backend the file is
  "resume" in the state directory (.nonstop/resume by default); with other
  backends it is .nonstop/resume in the configuration directory, so run
  resume on the machine that runs the apply. Each apply clears the file when
  it starts: a resume is never carried over to a later apply.

Exit codes:
  0  the resume was recorded for the apply to pick up
  1  it could not be recorded, or the command was used wrongly
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
	if step == "" || strings.ContainsAny(step, "\n\r") {
		fmt.Fprintf(m.Stderr, "Error: %q is not a step id: write it as the plan numbers it, e.g. order-service.5.\n", step)
		return 1
	}
	b, ok := m.openStateBackend(dir, vars)
	if !ok {
		return 1
	}
	defer b.Close()
	path := operation.ResumePath(b, dir)
	if err := appendLine(path, step); err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot record the resume: %v\n", err)
		return 1
	}
	fmt.Fprintf(m.Stdout, "Resume of step %s recorded in %s.\n", step, path)

	st, err := b.Load(context.Background())
	switch {
	case err != nil:
		m.Logger("resume").Warn("cannot read the state to check the step", "error", err)
	case st.Journal == nil:
		fmt.Fprintln(m.Stdout, "No apply has started its steps yet: an apply that is planning or waiting for\n"+
			"approval picks the resume up; the next apply to start clears it.")
	case !pausing(st.Journal, step):
		fmt.Fprintf(m.Stdout, "The running apply (%s) is not paused at %s yet: the pause ends at once\nwhen it reaches it.\n", st.Journal.ApplyID, step)
	default:
		fmt.Fprintf(m.Stdout, "The running apply (%s) continues past %s within a second.\n", st.Journal.ApplyID, step)
	}
	return 0
}

// pausing reports whether the journal shows step as a pause started and not ended.
func pausing(j *state.Journal, step string) bool {
	inFlight, _, _ := operation.JournalProgress(j)
	for _, e := range inFlight {
		if e.StepID == step && e.Kind == "pause" {
			return true
		}
	}
	return false
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
