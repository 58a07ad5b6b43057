package command

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
)

// reportFlagHelp documents -report for apply and history.
const reportFlagHelp = "write the release report to `FILE`: one self-contained HTML page (no network) with every step on a time axis, " +
	"the traffic each balancer and the registry showed, the gates' values, failures and rollbacks"

// applyReport is `apply -report FILE`: it passes the progress events on and keeps
// the timeline the executor hands over with the apply's last event.
type applyReport struct {
	file string
	json bool
	next executor.EventSink

	mu sync.Mutex
	tl *executor.Timeline
}

func newApplyReport(file string, json bool, next executor.EventSink) *applyReport {
	return &applyReport{file: file, json: json, next: next}
}

// sink is the event sink the apply reports to.
func (a *applyReport) sink() executor.EventSink {
	if a.file == "" {
		return a.next
	}
	return a
}

// Emit keeps the timeline and passes e on.
func (a *applyReport) Emit(e executor.Event) {
	if e.Timeline != nil {
		a.mu.Lock()
		a.tl = e.Timeline
		a.mu.Unlock()
	}
	if a.next != nil {
		a.next.Emit(e)
	}
}

// write writes the report of the apply that ended with r, if -report asked for
// one; it reports false when it could not.
func (a *applyReport) write(m *Meta, r *operation.Result) bool {
	if a.file == "" {
		return true
	}
	a.mu.Lock()
	tl := a.tl
	a.mu.Unlock()
	if tl == nil {
		fmt.Fprintf(m.Stderr, "No release report written to %s: no step ran.\n", a.file)
		return true
	}
	rep := views.Report{Timeline: tl}
	for _, s := range tl.Services {
		rel := views.ReportRelease{Service: s.Name, From: s.From, To: s.To}
		if r.Apply != nil {
			if sr := r.Apply.Services[s.Name]; sr != nil {
				rel.Result = resultOf(sr.Outcome, r.Interrupted)
			}
		}
		rep.Releases = append(rep.Releases, rel)
	}
	if err := writeReportFile(m, a.file, rep); err != nil {
		fmt.Fprintf(m.Stderr, "Error: cannot write the release report: %v\n", err)
		return false
	}
	out := m.Stdout
	if a.json {
		out = m.Stderr
	}
	fmt.Fprintf(out, "Release report written to %s.\n", a.file)
	return true
}

// resultOf names an outcome as the history does.
func resultOf(o executor.Outcome, interrupted bool) string {
	switch {
	case o == executor.OutcomeApplied:
		return state.ResultSuccess
	case o == executor.OutcomeRolledBack:
		return state.ResultRolledBack
	case interrupted:
		return state.ResultInterrupted
	}
	return string(o)
}

// writeReportFile renders a report, removes every sensitive value the redactor
// knows, and writes it to file whole (a temporary file renamed over it).
func writeReportFile(m *Meta, file string, rep views.Report) error {
	var buf bytes.Buffer
	if err := views.WriteReport(&buf, rep); err != nil {
		return err
	}
	page := m.Redactor.String(buf.String())
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(page); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// historyReport selects the releases `history -report FILE [RELEASE]` tells of:
// RELEASE is a release ID (APPLY/SERVICE), an apply ID or a unique prefix of one
// (all its services), or a service (its newest release); none is the newest
// apply.
func historyReport(history []state.Release, sel string) (views.Report, error) {
	if len(history) == 0 {
		return views.Report{}, fmt.Errorf("the history holds no release")
	}
	newest := newestFirst(history, "", 0)
	applyOf := func(r state.Release) string { id, _, _ := strings.Cut(r.ID, "/"); return id }
	var picked []state.Release
	switch {
	case sel == "":
		id := applyOf(newest[0])
		for _, r := range newest {
			if applyOf(r) == id {
				picked = append(picked, r)
			}
		}
	default:
		for _, r := range newest {
			if r.ID == sel {
				picked = []state.Release{r}
				break
			}
		}
		if picked == nil {
			for _, r := range newest {
				if r.Service == sel {
					picked = []state.Release{r}
					break
				}
			}
		}
		if picked == nil {
			var ids []string
			for _, r := range newest {
				if id := applyOf(r); strings.HasPrefix(id, sel) && !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
			switch len(ids) {
			case 0:
				return views.Report{}, fmt.Errorf("no release, apply or service %q in the history (history -json lists the release IDs)", sel)
			case 1:
			default:
				return views.Report{}, fmt.Errorf("%q names %d applies: %s", sel, len(ids), strings.Join(ids, ", "))
			}
			for _, r := range newest {
				if applyOf(r) == ids[0] {
					picked = append(picked, r)
				}
			}
		}
	}
	slices.Reverse(picked) // oldest first: the order the apply ran them
	rep := views.Report{ApplyID: applyOf(picked[0])}
	var parts []*executor.Timeline
	for _, r := range picked {
		rep.Releases = append(rep.Releases, views.ReportRelease{Service: r.Service, From: r.From, To: r.To, Result: r.Result})
		if rep.Commit == "" {
			rep.Commit = r.Commit
		}
		if rep.Started.IsZero() || r.Started.Before(rep.Started) {
			rep.Started = r.Started
		}
		if r.Finished.After(rep.Finished) {
			rep.Finished = r.Finished
		}
		if len(r.Timeline) > 0 {
			var tl executor.Timeline
			if err := json.Unmarshal(r.Timeline, &tl); err != nil {
				return views.Report{}, fmt.Errorf("release %s: its timeline cannot be read: %v", r.ID, err)
			}
			parts = append(parts, &tl)
		}
	}
	rep.Timeline = executor.MergeTimelines(parts...)
	return rep, nil
}
