package command

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

const showHelp = `
Usage: nonstop show [options] FILE

  Prints the plan saved in FILE by "nonstop plan -out FILE": in the human
  format by default, or as the plan's JSON with -json (the same JSON as
  "nonstop plan -json"). It contacts no live system.

  The human format starts with what the plan was made from: the nonstop
  version, the time, the configuration hash and commit, and the input
  variables sealed in it (a sensitive one only as "(sensitive)": the file holds
  a salted hash of it, never the value).

  A file that is not a nonstop plan file, one that is truncated, of another
  plan file version, or whose plan no longer matches its recorded checksum is
  refused.

Exit codes:
  0  the plan was printed
  1  the file could not be read or was refused, or the command was used wrongly
`

var showCommand = &Command{
	Name:     "show",
	Synopsis: "Print a saved plan file",
	Help:     showHelp,
	Run:      runShow,
}

func runShow(m *Meta, args []string) int {
	fs := m.FlagSet("show", showHelp)
	jsonOut := fs.Bool("json", false, "print the plan as JSON (format_version, changes, steps, prior, summary)")
	format := fs.String("format", "", "output `format`: human (default), json or markdown")
	if code, done := m.Parse(fs, args); done {
		return code
	}
	fmtName, ok := m.outputFormat(*format, *jsonOut, "human", "json", "markdown")
	if !ok {
		return 1
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(m.Stderr, "Error: show takes exactly one plan file, got %d arguments.\n\n", fs.NArg())
		fs.Usage()
		return 1
	}
	path := fs.Arg(0)
	pf, err := planner.OpenPlanFile(path)
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot show the plan: %v.\n", err)
		return 1
	}
	m.Logger("show").Debug("plan file read", "file", path, "nonstop_version", pf.NonstopVersion,
		"created", pf.Created, "config_hash", pf.ConfigHash)
	if fmtName == "human" {
		fmt.Fprintf(m.Stdout, "Plan file %s, made by nonstop %s at %s from configuration %s%s.\n",
			path, pf.NonstopVersion, pf.Created.Format(time.RFC3339), shortConfigHash(pf.ConfigHash), commitNote(pf.Plan.Prior.Commit))
		if vars := sealedVariablesText(pf.Plan.Prior); vars != "" {
			fmt.Fprintf(m.Stdout, "Made with %s; apply FILE takes these (sensitive ones from NONSTOP_VAR_name).\n", vars)
		}
		fmt.Fprintln(m.Stdout)
	}
	if err := m.renderPlan(pf.Plan, fmtName); err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot write the plan: %v\n", err)
		return 1
	}
	return 0
}

// shortConfigHash abbreviates a configuration hash for people.
func shortConfigHash(h string) string {
	switch {
	case h == "":
		return "(unknown)"
	case len(h) > 12:
		return h[:12]
	}
	return h
}

// commitNote returns " (commit abc1234)" or "".
func commitNote(commit string) string {
	if commit == "" {
		return ""
	}
	if len(commit) > 12 {
		commit = commit[:12]
	}
	return " (commit " + commit + ")"
}

// sealedVariablesText lists the variables a plan was made with:
// `order_version = "1.7.0", db_password = (sensitive)`.
func sealedVariablesText(pr planner.Prior) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(pr.Variables)) {
		v := pr.Variables[name]
		if v.Sensitive {
			parts = append(parts, name+" = (sensitive)")
			continue
		}
		parts = append(parts, name+" = "+string(v.Value))
	}
	return strings.Join(parts, ", ")
}
