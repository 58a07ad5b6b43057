package command

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

// openBackend opens the state backend the configuration names in its nonstop
// block, or the default local backend (.nonstop in dir) when it names none.
func openBackend(cfg *lang.Config, dir string) (state.Backend, error) {
	kind, attrs := "", map[string]cty.Value(nil)
	if cfg != nil && cfg.Nonstop != nil && cfg.Nonstop.State != nil {
		kind, attrs = cfg.Nonstop.State.Kind, cfg.Nonstop.State.Attrs
	}
	return state.Open(kind, attrs, dir)
}

// backendDiag turns a failure to open the state backend into a diagnostic.
func backendDiag(err error) diags.Diagnostics {
	return diags.Diagnostics{diags.Sourceless(diags.Error, "Cannot open the state backend",
		fmt.Sprintf("nonstop keeps its state and lock in the backend of the nonstop block's state block: %v.", err))}
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

// resumePath returns the file `nonstop resume` appends step ids to and a running
// apply watches: "resume" in the state directory of a local backend, and
// .nonstop/resume in the configuration directory for other backends (the resume
// must then be given on the machine that runs the apply).
func resumePath(b state.Backend, dir string) string {
	if l, ok := b.(*state.Local); ok {
		return filepath.Join(l.Dir(), "resume")
	}
	return filepath.Join(dir, ".nonstop", "resume")
}

// newApplyID returns a fresh apply ID: the UTC time and four random bytes.
func newApplyID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// closeInterrupted reports the journal a previous apply left behind, records its
// releases as interrupted, forgets the versions of instances it was deploying,
// and drops the journal: the apply that follows plans again from live state.
func (a *applyRun) closeInterrupted(ctx context.Context) error {
	j := a.st.Journal
	a.say("warn", describeInterrupted(j)+"\nThe steps in flight may have half-happened. nonstop plans again from live state.\n")
	last := j.Started
	services := map[string]time.Time{}
	for _, e := range j.Entries {
		if e.At.After(last) {
			last = e.At
		}
		svc := stepService(e.StepID)
		if t, ok := services[svc]; !ok || e.At.Before(t) {
			services[svc] = e.At
		}
		if e.Kind == "deploy" {
			if addr := targetAddress(e.Target); addr != "" && a.st.Deployed[svc] != nil {
				delete(a.st.Deployed[svc], addr)
			}
		}
	}
	prefix := j.ApplyID + "/"
	for i := range a.st.History {
		r := &a.st.History[i]
		if strings.HasPrefix(r.ID, prefix) {
			delete(services, r.Service)
			r.Result, r.Finished = state.ResultInterrupted, last
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(services)) {
		a.st.History = append(a.st.History, state.Release{ID: prefix + svc, Service: svc,
			Started: services[svc], Finished: last, Result: state.ResultInterrupted})
	}
	a.st.Journal = nil
	return a.backend.Save(ctx, a.st)
}

// describeInterrupted says what an unfinished apply was doing when it stopped
// (or, while it runs, is doing now).
func describeInterrupted(j *state.Journal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "A previous apply (%s, started %s) did not finish:\n", j.ApplyID, j.Started.UTC().Format(time.RFC3339))
	if j.PlanSummary != "" {
		fmt.Fprintf(&b, "  its plan: %s\n", j.PlanSummary)
	}
	inFlight, failed, done := journalProgress(j)
	fmt.Fprintf(&b, "  %d step(s) completed, %d failed, %d in flight when it stopped\n", done, len(failed), len(inFlight))
	for _, e := range inFlight {
		fmt.Fprintf(&b, "  - in flight: %s %s %s (started %s)\n", e.StepID, e.Kind, e.Target, e.At.UTC().Format(time.RFC3339))
	}
	for _, e := range failed {
		fmt.Fprintf(&b, "  - failed: %s %s %s: %s\n", e.StepID, e.Kind, e.Target, e.Error)
	}
	return strings.TrimRight(b.String(), "\n")
}

// journalProgress splits a journal's steps into those started without an end
// (in flight), those that failed, and the number completed.
func journalProgress(j *state.Journal) (inFlight, failed []state.JournalEntry, done int) {
	started := map[string]state.JournalEntry{}
	var order []string
	for _, e := range j.Entries {
		switch e.Event {
		case state.EventStart:
			if _, ok := started[e.StepID]; !ok {
				order = append(order, e.StepID)
			}
			started[e.StepID] = e
		case state.EventEnd:
			delete(started, e.StepID)
			done++
		case state.EventError:
			delete(started, e.StepID)
			failed = append(failed, e)
		}
	}
	for _, id := range order {
		if e, ok := started[id]; ok {
			inFlight = append(inFlight, e)
		}
	}
	return inFlight, failed, done
}

// stepService returns the service of a step id: "order-service" of
// "order-service.4" and of "order-service.rollback.2" (service names have no dots).
func stepService(id string) string {
	svc, _, _ := strings.Cut(id, ".")
	return svc
}

// targetAddress returns the instance address of a deploy target, the last part
// of "order-service/a/127.0.0.1:18081".
func targetAddress(target string) string {
	if i := strings.LastIndex(target, "/"); i >= 0 {
		return target[i+1:]
	}
	return target
}

// clearResumeFile removes the resume file, so that resumes given to an earlier
// apply (whose step ids the new plan may reuse) do not resume this one.
func clearResumeFile(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
