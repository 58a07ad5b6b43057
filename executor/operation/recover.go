package operation

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
)

// closeInterrupted folds the journal an interrupted apply left in st into the
// rest of the state and drops it: the releases it had recorded (and those of
// services it had started steps of without recording one) become interrupted,
// finished at its last journal entry, and the versions of the instances it was
// deploying are forgotten, since they may have half-happened. The apply that
// follows plans again from live state. The caller saves st.
func closeInterrupted(st *state.State) {
	j := st.Journal
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
			if addr := targetAddress(e.Target); addr != "" && st.Deployed[svc] != nil {
				delete(st.Deployed[svc], addr)
			}
		}
	}
	prefix := j.ApplyID + "/"
	for i := range st.History {
		r := &st.History[i]
		if strings.HasPrefix(r.ID, prefix) {
			delete(services, r.Service)
			r.Result, r.Finished = state.ResultInterrupted, last
		}
	}
	for _, svc := range slices.Sorted(maps.Keys(services)) {
		st.History = append(st.History, state.Release{ID: prefix + svc, Service: svc,
			Started: services[svc], Finished: last, Result: state.ResultInterrupted})
	}
	st.Journal = nil
}

// JournalProgress splits a journal's steps into those started without an end (in
// flight), those that failed, and the number completed.
func JournalProgress(j *state.Journal) (inFlight, failed []state.JournalEntry, done int) {
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
