package executor

import (
	"fmt"
	"sort"
	"strings"
)

// Outcome is how an apply ended for one service.
type Outcome string

const (
	// OutcomeApplied: every step of the service completed.
	OutcomeApplied Outcome = "applied"
	// OutcomeIncomplete: no step failed, but some never ran (a dependency failed, or
	// the apply was interrupted).
	OutcomeIncomplete Outcome = "incomplete"
	// OutcomeFailed: a step failed and no on_failure policy ran (interrupted apply).
	OutcomeFailed Outcome = "failed"
	// OutcomeRolledBack: a step failed and the rollback completed.
	OutcomeRolledBack Outcome = "rolled_back"
	// OutcomeRollbackFailed: a step failed and so did the rollback.
	OutcomeRollbackFailed Outcome = "rollback_failed"
	// OutcomePaused: a step failed and the service stopped with traffic safe.
	OutcomePaused Outcome = "paused"
)

// Result says per service what an apply changed and what it did not.
type Result struct {
	Services map[string]*ServiceResult
	// Order lists the services in the order of their first step in the plan.
	Order []string
}

// ServiceResult is one service's part of a Result.
type ServiceResult struct {
	Service string
	Outcome Outcome
	// Completed describes the completed steps in completion order ("deploy order-service/a/127.0.0.1:18081").
	Completed []string
	// NotRun lists the ids of the plan steps that never started.
	NotRun []string
	// FailedStep is the id of the step that failed; Error says why.
	FailedStep string
	Error      string
	// Policy is the on_failure policy that ran ("rollback" or "pause"), "" when none.
	Policy string
	// RolledBack describes the completed rollback steps in order.
	RolledBack    []string
	RollbackError string
	// Deployed maps each instance a deploy completed on (rollback included) to the
	// version now there; an instance whose last deploy failed is in Unknown instead.
	Deployed map[string]string
	Unknown  []string
	// OutOfTraffic lists instances whose last written traffic values take them out
	// of traffic everywhere nonstop changed them.
	OutOfTraffic []string
	// NotRestored lists touched instances the rollback did not bring back, with why.
	NotRestored []string
	// Live is what every path shows of each instance, read back after a pause or a
	// rollback; nil when neither ran.
	Live map[string]*InstanceView
	// SkippedBecause says why none (or not all) of the service's steps ran: a
	// service it depends on failed ("it depends on bad, which failed"); "" otherwise.
	SkippedBecause string
}

// Failed reports whether any service did not complete.
func (r *Result) Failed() bool {
	for _, s := range r.Services {
		if s.Outcome != OutcomeApplied {
			return true
		}
	}
	return false
}

// Summary is one line: "Apply complete: 2 services applied." or the failures.
func (r *Result) Summary() string {
	counts := map[Outcome][]string{}
	for _, name := range r.Order {
		s := r.Services[name]
		counts[s.Outcome] = append(counts[s.Outcome], name)
	}
	if !r.Failed() {
		return fmt.Sprintf("Apply complete: %d services applied.", len(r.Order))
	}
	var parts []string
	for _, o := range []Outcome{OutcomeApplied, OutcomeRolledBack, OutcomePaused, OutcomeRollbackFailed, OutcomeFailed, OutcomeSkipped, OutcomeIncomplete} {
		if names := counts[o]; len(names) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", strings.ReplaceAll(string(o), "_", " "), strings.Join(names, ", ")))
		}
	}
	return "Apply failed: " + strings.Join(parts, "; ") + "."
}

// result assembles the Result once the graph and every failure handler finished.
func (x *execution) result(g *graph) *Result {
	x.mu.Lock()
	defer x.mu.Unlock()
	res := &Result{Services: map[string]*ServiceResult{}, Order: append([]string(nil), x.order...)}
	for _, name := range x.order {
		sr := x.services[name]
		s := &ServiceResult{Service: name, Deployed: map[string]string{}, Policy: sr.policy,
			FailedStep: sr.failedStep, NotRestored: sr.notRestored, OutOfTraffic: sr.outOfTraffic(), Live: sr.views}
		if sr.skippedBy != "" {
			s.SkippedBecause = skipReason(sr.skippedBy)
		}
		if sr.failErr != nil {
			s.Error = sr.failErr.Error()
		}
		if sr.rollbackErr != nil {
			s.RollbackError = sr.rollbackErr.Error()
		}
		for _, st := range sr.completed {
			s.Completed = append(s.Completed, describe(&st))
		}
		for _, st := range sr.rolledBack {
			s.RolledBack = append(s.RolledBack, describe(&st))
		}
		for _, addr := range sr.touched {
			if v, ok := sr.deployed[addr]; ok {
				s.Deployed[addr] = v
			} else {
				s.Unknown = append(s.Unknown, addr)
			}
		}
		res.Services[name] = s
	}
	for i, st := range g.steps {
		if x.statuses == nil || x.statuses[i] == statusPending {
			s := res.Services[st.Service]
			s.NotRun = append(s.NotRun, st.ID)
		}
	}
	for _, s := range res.Services {
		s.Outcome = outcome(s)
		sort.Strings(s.Unknown)
	}
	return res
}

func outcome(s *ServiceResult) Outcome {
	switch {
	case s.FailedStep == "" && len(s.NotRun) == 0:
		return OutcomeApplied
	case s.FailedStep == "" && s.SkippedBecause != "" && len(s.Completed) == 0:
		return OutcomeSkipped
	case s.FailedStep == "":
		return OutcomeIncomplete
	case s.Policy == "":
		return OutcomeFailed
	case s.RollbackError != "":
		return OutcomeRollbackFailed
	case s.Policy == PolicyPause:
		return OutcomePaused
	case len(s.NotRestored) > 0:
		return OutcomeRollbackFailed
	}
	return OutcomeRolledBack
}

// rollbackJournalError returns the first journal or lock failure hit by a rollback.
func (x *execution) rollbackJournalError() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, name := range x.order {
		if err := x.services[name].rollbackErr; aborts(err) {
			return err
		}
	}
	return nil
}
