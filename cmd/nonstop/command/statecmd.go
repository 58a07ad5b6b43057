package command

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
)

const stateHelp = `
Usage: nonstop state show [options] [DIR]

  Prints what nonstop remembers for the configuration in DIR (default: the
  current directory), read from the state backend of its nonstop block: the
  configuration hash and git commit last applied and when, the version
  nonstop last deployed to each instance, the last releases, the last
  force-unlocks and resumes, and the journal of an apply that is running or
  was interrupted. It takes no lock and contacts no provider. A postgres
  state database that does not answer fails it after the DSN's
  connect_timeout (default 10s) or statement_timeout (default 30s).

  -json prints the state as the backend keeps it, with its audit log and a
  format_version.

Exit codes:
  0  the state was printed (an empty state included)
  1  the configuration or the state backend could not be read, or the
     command was used wrongly
`

var stateCommand = &Command{
	Name:     "state",
	Synopsis: "Show the state nonstop keeps: applied commit, versions, journal",
	Help:     stateHelp,
	Run:      runState,
}

// lastReleases is how many releases state show lists.
const lastReleases = 5

func runState(m *Meta, args []string) int {
	fs := m.FlagSet("state show", stateHelp)
	jsonOut := fs.Bool("json", false, "print the whole state as JSON, with format_version and the audit log")
	var vars VarFlags
	vars.Register(fs)
	if len(args) == 0 || args[0] != "show" {
		if code, done := m.Parse(fs, args); done {
			return code
		}
		fmt.Fprintln(m.Stderr, "Error: state needs a subcommand: nonstop state show [DIR].")
		fs.Usage()
		return 1
	}
	pos, code, done := m.parseInterleaved(fs, args[1:])
	if done {
		return code
	}
	if len(pos) > 1 {
		fmt.Fprintf(m.Stderr, "Error: state show takes at most one directory, got %d arguments.\n\n", len(pos))
		fs.Usage()
		return 1
	}
	dir := "."
	if len(pos) == 1 {
		dir = pos[0]
	}
	st, ok := m.loadState(dir, vars)
	if !ok {
		return 1
	}
	if *jsonOut {
		if err := m.PrintJSON(stateJSON{FormatVersion: jsonFormatVersion, State: st}); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot write the state: %v\n", err)
			return 1
		}
		return 0
	}
	writeState(m.Stdout, st)
	return 0
}

// stateJSON is the document state show -json prints: the state as the
// backend keeps it (its own format "version" included), its audit log, and
// the format_version of the document.
type stateJSON struct {
	FormatVersion string `json:"format_version"`
	*state.State
}

// loadState loads the configuration in dir and reads the state from its backend,
// without the lock. It prints what went wrong when ok is false.
func (m *Meta) loadState(dir string, vars VarFlags) (*state.State, bool) {
	b, ok := m.openStateBackend(dir, vars)
	if !ok {
		return nil, false
	}
	defer b.Close()
	st, err := b.Load(context.Background())
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot read the state: %v\n", err)
		return nil, false
	}
	return st, true
}

// openStateBackend loads the configuration in dir and opens its state backend.
func (m *Meta) openStateBackend(dir string, vars VarFlags) (state.Backend, bool) {
	cfg, ds := m.LoadConfig(dir, vars)
	if ds.HasErrors() {
		m.ShowDiagnostics(ds, Sources(cfg, dir))
		return nil, false
	}
	b, err := openBackend(cfg, dir)
	if err != nil {
		m.ShowDiagnostics(backendDiag(err), nil)
		return nil, false
	}
	return b, true
}

// writeState prints a state for people.
func writeState(w io.Writer, st *state.State) {
	if st.Serial == 0 && len(st.History) == 0 && st.Journal == nil {
		fmt.Fprintln(w, "The state is empty: nothing has been applied with this configuration's state backend yet.")
		return
	}
	fmt.Fprintf(w, "Applied configuration:\n")
	fmt.Fprintf(w, "  config hash: %s\n", orNone(st.ConfigHash))
	fmt.Fprintf(w, "  commit:      %s\n", orNone(st.Commit))
	fmt.Fprintf(w, "  applied at:  %s\n", timeText(st.AppliedAt))
	fmt.Fprintf(w, "  serial:      %d\n", st.Serial)

	fmt.Fprintln(w, "\nDeployed versions:")
	if len(st.Deployed) == 0 {
		fmt.Fprintln(w, "  (none recorded)")
	}
	for _, svc := range slices.Sorted(maps.Keys(st.Deployed)) {
		fmt.Fprintf(w, "  %s\n", svc)
		for _, addr := range slices.Sorted(maps.Keys(st.Deployed[svc])) {
			fmt.Fprintf(w, "    %-21s %s\n", addr, st.Deployed[svc][addr])
		}
	}

	fmt.Fprintln(w, "\nLast releases:")
	if len(st.History) == 0 {
		fmt.Fprintln(w, "  (none)")
	} else {
		writeHistory(w, newestFirst(st.History, "", lastReleases), "  ")
	}
	if audit := auditOf(st.Audit, nil, "", lastReleases); len(audit) > 0 {
		fmt.Fprintln(w, "\nLast actions on the state (force-unlock, resume):")
		writeAudit(w, audit, "  ")
	}

	fmt.Fprintln(w)
	if st.Journal == nil {
		fmt.Fprintln(w, "No apply is running or interrupted.")
		return
	}
	fmt.Fprintln(w, "An apply is running or was interrupted (running if the state lock is held):")
	fmt.Fprintln(w, indent(describeInterrupted(st.Journal), "  "))
	fmt.Fprintln(w, "If no apply holds the state lock, this one was interrupted: the next apply\n"+
		"reports it and plans again from live state.")
}

// parseInterleaved parses args with fs, allowing flags after positional
// arguments ("apply plan.out -auto-approve"), and returns the positional ones.
func (m *Meta) parseInterleaved(fs *flag.FlagSet, args []string) (pos []string, code int, done bool) {
	for {
		if code, done := m.Parse(fs, args); done {
			return nil, code, true
		}
		if fs.NArg() == 0 {
			return pos, 0, false
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// timeText renders a time in UTC for people, "(never)" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "(never)"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
