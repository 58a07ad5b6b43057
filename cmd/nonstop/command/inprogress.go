package command

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
)

// lockFlags are the Terraform-style lock flags of plan and drift: whether to look
// at the state lock for a running apply, and how long to wait for it.
type lockFlags struct {
	lock    bool
	timeout time.Duration
	input   bool
}

// Register adds -lock, -lock-timeout and -input to fs.
func (f *lockFlags) Register(fs *flag.FlagSet) {
	fs.BoolVar(&f.lock, "lock", true, "look at the state lock for a running apply (false: do not; the result may show a release half done)")
	registerLockTimeout(fs, &f.timeout, "how long to wait for a running apply to finish (0s: do not wait, exit 3)")
	fs.BoolVar(&f.input, "input", true, "accepted for Terraform habits; this command never asks for input")
}

// wait returns the operation's waiting options: it tells on stderr when it finds
// an apply running and that it waits.
func (m *Meta) wait(operationName string, f lockFlags) operation.Wait {
	return operation.Wait{
		Timeout:   f.timeout,
		NoLock:    !f.lock,
		Operation: operationName,
		Progress: func(a *operation.ApplyInProgress) {
			if f.timeout <= 0 {
				return // reported once, as the error, by applyInProgress
			}
			fmt.Fprintf(m.Stderr, "An apply is in progress; %s waits up to %s (-lock-timeout) for it to finish:\n", operationName, f.timeout)
			for _, l := range a.Lines(time.Now()) {
				fmt.Fprintf(m.Stderr, "  %s\n", l)
			}
		},
	}
}

// applyInProgress reports an apply still running when plan or drift gave up
// waiting, in the command's format (so that a pull-request comment or a
// scheduled job says what happened), and returns ExitApplyInProgress (3).
func (m *Meta) applyInProgress(command, format string, f lockFlags, a *operation.ApplyInProgress, where reportWhere) int {
	lines := a.Lines(time.Now())
	waited := "did not wait (-lock-timeout 0s)"
	if f.timeout > 0 {
		waited = fmt.Sprintf("waited %s (-lock-timeout) for it to finish", f.timeout)
	}
	switch format {
	case "json":
		_ = m.PrintJSON(map[string]any{"format_version": jsonFormatVersion, "apply_in_progress": a,
			"error": fmt.Sprintf("an apply is in progress; %s %s", command, waited)})
	case "markdown":
		var b strings.Builder
		fmt.Fprintf(&b, "%s\n%s\n**%s:** not made: an apply is in progress (%s %s).\n\n", where.marker(command, ""), where.header(command),
			strings.ToUpper(command[:1])+command[1:], command, waited)
		for _, l := range lines {
			fmt.Fprintf(&b, "- %s\n", l)
		}
		fmt.Fprintf(&b, "\nA %s made during a release would show its intermediate state. Run it again once the apply has finished.\n", command)
		fmt.Fprint(m.Stdout, b.String())
	}
	fmt.Fprintf(m.Stderr, "Error: an apply is in progress; %s %s.\n\n", command, waited)
	for _, l := range lines {
		fmt.Fprintf(m.Stderr, "  %s\n", l)
	}
	fmt.Fprintf(m.Stderr, "\nA %s made now would show the release half done. Run it again when the apply\n"+
		"has finished, or wait for it with -lock-timeout (e.g. -lock-timeout 30m). Exit code %d\n"+
		"means exactly this, so a scheduled job can tell it from drift (2) or an error (1).\n", command, operation.ExitApplyInProgress)
	return operation.ExitApplyInProgress
}

// jsonFormatVersion is the format_version of the JSON documents plan and drift
// print besides the plan itself.
const jsonFormatVersion = "1.0"

// reportWhere is what a markdown report says it is about: the configuration
// directory, the state workspace and the commit.
type reportWhere struct {
	dir, workspace, commit string
}

// whereOf returns what a report of cfg, loaded from dir, is about.
func whereOf(cfg *lang.Config, dir string) reportWhere {
	w := reportWhere{dir: filepath.ToSlash(filepath.Clean(dir)), workspace: "default", commit: cfg.Commit}
	if st := cfg.Nonstop; st != nil && st.State != nil {
		if v, ok := st.State.Attrs["workspace"]; ok && v.IsKnown() && !v.IsNull() && v.Type() == cty.String {
			w.workspace = v.AsString()
		}
	}
	if w.commit == "" {
		w.commit, _, _ = lang.GitDirTree(dir, "")
	}
	return w
}

// marker is the hidden first line of a markdown report (part "" when it is not
// split), by which CI finds the comment or issue it posted before and updates it
// instead of adding another: "<!-- nonstop:plan dir=deploy workspace=default -->".
// Parts of a split report add " part=2/3".
func (w reportWhere) marker(command, part string) string {
	m := fmt.Sprintf("<!-- nonstop:%s dir=%s workspace=%s", command, markerField(w.dir), markerField(w.workspace))
	if part != "" {
		m += " part=" + part
	}
	return m + " -->"
}

// markerField keeps a marker on one line and inside its comment.
func markerField(s string) string {
	return strings.NewReplacer(" ", "_", "\n", "_", "--", "__", ">", "_").Replace(s)
}

// header is the visible first line of a markdown report: "### nonstop plan ·
// `deploy` · workspace `default` · commit `abc1234`".
func (w reportWhere) header(command string) string {
	h := fmt.Sprintf("### nonstop %s · `%s` · workspace `%s`", command, w.dir, w.workspace)
	if w.commit != "" {
		h += " · commit `" + shortCommit(w.commit) + "`"
	}
	return h
}

// shortCommit abbreviates a commit hash to 12 characters.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// markRunning shows in st (loaded from dir's state backend, for history) the
// releases of the apply that runs now as "running": the state records them as
// interrupted until the apply ends.
func (m *Meta) markRunning(dir string, vars VarFlags, st *state.State) {
	if st == nil || st.Journal == nil {
		return
	}
	b, ok := m.openStateBackend(dir, vars)
	if !ok {
		return
	}
	defer b.Close()
	operation.MarkRunning(context.Background(), b, st)
}
