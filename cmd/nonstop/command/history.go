package command

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
)

const historyHelp = `
Usage: nonstop history [options] [SERVICE] [DIR]
       nonstop history -report FILE [RELEASE] [DIR]

  Lists the releases nonstop made with the configuration in DIR (default: the
  current directory), newest first: service, the version(s) it came from, the
  version it went to, when it started, how long it took, how it ended
  (success, failed, rolled_back, interrupted, or running for the apply that
  holds the lock now) and who applied it. With SERVICE, only that service's
  releases. It takes no lock and contacts no provider. A postgres state
  database that does not answer fails it after the DSN's connect_timeout
  (default 10s) or statement_timeout (default 30s).

  Below the table, each apply says what else it recorded: the commit, the
  hash of the plan it ran (the "sha256" of the plan file when it applied one,
  so that it names the reviewed plan), the CI run it ran in, and for each
  service that failed the step and its error and whether the rollback
  succeeded. Then the other actions taken on the state: force-unlock and
  resume, who and when. -json prints all of it: {format_version, releases,
  audit}.

  Who applied is NONSTOP_ACTOR, else the CI's user (GITHUB_ACTOR,
  GITLAB_USER_LOGIN), else user@host; the CI run is
  GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID on GitHub
  Actions and CI_JOB_URL on GitLab.

  With -report FILE, it writes the release report of RELEASE instead: one
  self-contained HTML page (no network) with each step as a bar on a time
  axis per service, group and instance, the share of traffic weight and the
  members serving per group on each balancer pool and registry as the apply
  read them back, the gates' values, the failures and rollbacks, the commit
  and who ran it. RELEASE is a release ID (APPLY/SERVICE, as history -json
  lists them), an apply ID or a unique prefix of one (all its services), or a
  service (its newest release); without it, the newest apply. The state keeps
  the timeline of the newest 20 releases.

Exit codes:
  0  the history was printed (an empty one included)
  1  the configuration or the state backend could not be read, or the
     command was used wrongly
`

var historyCommand = &Command{
	Name:     "history",
	Synopsis: "List past releases, newest first",
	Help:     historyHelp,
	Run:      runHistory,
}

func runHistory(m *Meta, args []string) int {
	fs := m.FlagSet("history", historyHelp)
	jsonOut := fs.Bool("json", false, "print the history as JSON: {format_version, releases (newest first), audit}")
	n := fs.Int("n", 20, "show at most `N` releases (0: all)")
	report := fs.String("report", "", reportFlagHelp+" of RELEASE (default: the newest apply)")
	var vars VarFlags
	vars.Register(fs)
	pos, code, done := m.parseInterleaved(fs, args)
	if done {
		return code
	}
	service, dir := "", "."
	switch len(pos) {
	case 0:
	case 1:
		if fi, err := os.Stat(pos[0]); err == nil && fi.IsDir() {
			dir = pos[0]
		} else {
			service = pos[0]
		}
	case 2:
		service, dir = pos[0], pos[1]
	default:
		fmt.Fprintf(m.Stderr, "Error: history takes at most a service and a directory, got %d arguments.\n\n", len(pos))
		fs.Usage()
		return 1
	}
	if *report != "" && *jsonOut {
		fmt.Fprintln(m.Stderr, "Error: -report and -json cannot be used together.")
		return 1
	}
	if *n < 0 {
		fmt.Fprintf(m.Stderr, "Error: -n must be 0 (all) or more, not %d.\n", *n)
		return 1
	}
	st, ok := m.loadState(dir, vars)
	if !ok {
		return 1
	}
	m.markRunning(dir, vars, st) // the running apply's releases read "running", not "interrupted"
	if *report != "" {
		return m.writeHistoryReport(st.History, service, *report)
	}
	releases := newestFirst(st.History, service, *n)
	audit := auditOf(st.Audit, releases, service, *n)
	if *jsonOut {
		if releases == nil {
			releases = []state.Release{}
		}
		if audit == nil {
			audit = []state.AuditEntry{}
		}
		if err := m.PrintJSON(historyJSON{FormatVersion: jsonFormatVersion, Releases: releases, Audit: audit}); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot write the history: %v\n", err)
			return 1
		}
		return 0
	}
	if len(releases) == 0 {
		if service != "" {
			fmt.Fprintf(m.Stdout, "No releases of %s recorded.\n", service)
		} else {
			fmt.Fprintln(m.Stdout, "No releases recorded.")
		}
	} else {
		writeHistory(m.Stdout, releases, "")
		writeApplies(m.Stdout, releases, "")
	}
	if len(audit) > 0 {
		fmt.Fprintln(m.Stdout, "\nOther actions on the state:")
		writeAudit(m.Stdout, audit, "  ")
	}
	return 0
}

// historyJSON is the document history -json prints.
type historyJSON struct {
	FormatVersion string `json:"format_version"`
	// Releases are newest first.
	Releases []state.Release `json:"releases"`
	// Audit lists force-unlocks and resumes, newest first.
	Audit []state.AuditEntry `json:"audit"`
}

// auditOf returns the audit entries history shows beside releases, newest
// first: with service, its resumes and every force-unlock; only those since the
// oldest release listed when the list was cut to n; at most n (0: all).
func auditOf(audit []state.AuditEntry, releases []state.Release, service string, n int) []state.AuditEntry {
	var since time.Time
	if n > 0 && len(releases) == n {
		since = releases[len(releases)-1].Started
	}
	var out []state.AuditEntry
	for i := len(audit) - 1; i >= 0; i-- {
		e := audit[i]
		if e.At.Before(since) {
			continue
		}
		if svc, ok := stepIDService(e.Step); service != "" && e.Action == state.AuditResume && (!ok || svc != service) {
			continue
		}
		out = append(out, e)
	}
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// writeHistoryReport writes the report of the release sel (see historyReport).
func (m *Meta) writeHistoryReport(history []state.Release, sel, file string) int {
	rep, err := historyReport(history, sel)
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: %v.\n", err)
		return 1
	}
	if rep.Timeline == nil {
		fmt.Fprintf(m.Stderr, "Warning: the state holds no timeline of apply %s (interrupted, made by an older nonstop, "+
			"or older than the newest 20 releases): the report lists its releases only.\n", rep.ApplyID)
	}
	if err := writeReportFile(m, file, rep); err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot write the release report: %v\n", err)
		return 1
	}
	fmt.Fprintf(m.Stdout, "Release report of apply %s written to %s.\n", rep.ApplyID, file)
	return 0
}

// newestFirst returns the releases of service ("" for all), newest first, at
// most n of them (0: all).
func newestFirst(history []state.Release, service string, n int) []state.Release {
	var out []state.Release
	for i := len(history) - 1; i >= 0; i-- {
		if service == "" || history[i].Service == service {
			out = append(out, history[i])
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// writeHistory prints releases as a table, each line after prefix.
func writeHistory(w io.Writer, releases []state.Release, prefix string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%sSERVICE\tFROM\tTO\tSTARTED\tDURATION\tRESULT\tBY\n", prefix)
	for _, r := range releases {
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\n", prefix, r.Service, orDash(r.From), orDash(r.To),
			timeText(r.Started), durationText(r.Started, r.Finished), r.Result, orDash(r.By))
	}
	tw.Flush()
}

// writeApplies prints, after the table of releases, what each apply of them
// recorded besides: commit, plan hash, CI run, and each failed service's step,
// error and rollback. Applies that recorded none of it are left out.
func writeApplies(w io.Writer, releases []state.Release, prefix string) {
	var order []string
	byApply := map[string][]state.Release{}
	for _, r := range releases {
		id, _, _ := strings.Cut(r.ID, "/")
		if _, ok := byApply[id]; !ok {
			order = append(order, id)
		}
		byApply[id] = append(byApply[id], r)
	}
	printed := false
	for _, id := range order {
		rs := byApply[id]
		first := rs[0]
		var facts, lines []string
		if first.Commit != "" {
			facts = append(facts, "commit "+first.Commit)
		}
		if first.PlanHash != "" {
			facts = append(facts, "plan sha256 "+first.PlanHash)
		}
		if first.RunURL != "" {
			lines = append(lines, "run "+first.RunURL)
		}
		for _, r := range rs {
			lines = append(lines, failureLines(r)...)
		}
		if len(facts) == 0 && len(lines) == 0 {
			continue
		}
		head := prefix + "Apply " + id
		if len(facts) > 0 {
			head += ": " + strings.Join(facts, ", ")
		}
		if !printed {
			fmt.Fprintln(w)
			printed = true
		}
		fmt.Fprintln(w, head)
		for _, l := range lines {
			fmt.Fprintf(w, "%s  %s\n", prefix, l)
		}
	}
}

// failureLines says how a release failed, for history: the step and its
// error, then the rollback.
func failureLines(r state.Release) []string {
	var out []string
	if r.FailedStep != "" || r.Error != "" {
		step := ""
		if r.FailedStep != "" {
			step = " at step " + r.FailedStep
		}
		out = append(out, strings.TrimRight(fmt.Sprintf("%s failed%s: %s", r.Service, step, r.Error), ": "))
	}
	switch {
	case r.RollbackSucceeded != nil && *r.RollbackSucceeded:
		out = append(out, r.Service+" rolled back: the rollback succeeded")
	case r.RollbackSucceeded != nil:
		text := r.Service + " rollback failed"
		if r.RollbackError != "" {
			text += ": " + r.RollbackError
		}
		out = append(out, text)
	case r.OnFailure == "pause":
		out = append(out, r.Service+" paused (on_failure = \"pause\"): traffic kept where it was safe")
	}
	return out
}

// writeAudit prints audit entries one a line: when, who, what.
func writeAudit(w io.Writer, audit []state.AuditEntry, prefix string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range audit {
		who := e.Who
		if e.RunURL != "" {
			who += " (" + e.RunURL + ")"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\n", prefix, timeText(e.At), orDash(who), e.Text())
	}
	tw.Flush()
}

// durationText is how long a release took, "-" when it has no end.
func durationText(started, finished time.Time) string {
	if finished.IsZero() || started.IsZero() || finished.Before(started) {
		return "-"
	}
	d := finished.Sub(started)
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
