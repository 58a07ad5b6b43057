package operation

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/redact"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// plannedReleases returns one release per service the plan changes, from the
// versions its instances run to the configured version.
func plannedReleases(cfg *lang.Config, p *planner.Plan, applyID string, started time.Time, commit string) []state.Release {
	from := map[string]map[string]bool{}
	var order []string
	note := func(svc string) {
		if _, ok := from[svc]; !ok {
			from[svc] = map[string]bool{}
			order = append(order, svc)
		}
	}
	for _, s := range p.Steps {
		note(s.Service)
		if s.Kind == planner.Deploy && s.Args.FromVersion != "" {
			from[s.Service][s.Args.FromVersion] = true
		}
	}
	for _, c := range p.Changes {
		if c.Action == planner.NoOp {
			continue
		}
		note(c.Service)
		if v, ok := c.Before.(string); ok && c.Field == "version" && v != "" {
			from[c.Service][v] = true
		}
	}
	out := make([]state.Release, 0, len(order))
	by, runURL, planHash := state.Actor(nil), state.RunURL(nil), PlanHash(p)
	for _, svc := range order {
		to := ""
		if s := cfg.Services[svc]; s != nil {
			to = s.Version
		}
		fromText := strings.Join(slices.Sorted(maps.Keys(from[svc])), ", ")
		if fromText == "" {
			fromText = to // a repair: the version does not change
		}
		out = append(out, state.Release{ID: applyID + "/" + svc, Service: svc, From: fromText, To: to,
			Started: started, Result: state.ResultInterrupted, Commit: commit,
			By: by, RunURL: runURL, PlanHash: planHash})
	}
	// The executor keeps the apply's timeline; recordResult stores it.
	executor.WatchTimeline(p, cfg, applyID)
	return out
}

// keptTimelines is how many of the newest releases keep their timeline in the
// history: enough for the reports one asks for, small enough for the state.
const keptTimelines = 20

// recordTimelines stores in the history, for each release of the apply, its part
// of the timeline the executor recorded, and drops the timelines of releases
// older than the newest keptTimelines.
func recordTimelines(st *state.State, releases []state.Release) {
	if len(releases) == 0 {
		return
	}
	applyID, _, _ := strings.Cut(releases[0].ID, "/")
	tl := executor.TakeTimeline(applyID)
	if tl != nil {
		ids := map[string]bool{}
		for _, r := range releases {
			ids[r.ID] = true
		}
		for i := range st.History {
			r := &st.History[i]
			if !ids[r.ID] {
				continue
			}
			if b, err := json.Marshal(tl.ForService(r.Service)); err == nil {
				r.Timeline = b
			}
		}
	}
	kept := 0
	for i := len(st.History) - 1; i >= 0; i-- {
		if len(st.History[i].Timeline) == 0 {
			continue
		}
		if kept++; kept > keptTimelines {
			st.History[i].Timeline = nil
		}
	}
}

// recordResult folds the outcome of the apply into st: deployed versions, the
// releases' results, and, when everything applied, the applied configuration.
func recordResult(st *state.State, cfg *lang.Config, res *executor.Result, runErr error, interrupted bool, releases []state.Release, commit string) {
	now := time.Now()
	st.Journal = nil
	result := map[string]string{}
	if res != nil {
		for name, sr := range res.Services {
			for addr, v := range sr.Deployed {
				st.SetDeployed(name, addr, v)
			}
			for _, addr := range sr.Unknown {
				delete(st.Deployed[name], addr)
			}
			result[name] = releaseResult(sr.Outcome, interrupted)
			if sr.Outcome == executor.OutcomeApplied && !interrupted {
				clearRecovery(st, []string{name})
			}
		}
	}
	ids := map[string]bool{}
	for _, r := range releases {
		ids[r.ID] = true
	}
	red := redact.New(cfg.SensitiveValues()...)
	for i := range st.History {
		r := &st.History[i]
		if !ids[r.ID] {
			continue
		}
		r.Finished = now
		switch res, ok := result[r.Service]; {
		case ok:
			r.Result = res
		case interrupted:
			r.Result = state.ResultInterrupted
		default:
			r.Result = state.ResultFailed
		}
		if res != nil {
			recordFailure(r, res.Services[r.Service], red)
		}
		if r.Error == "" && runErr != nil && r.Result == state.ResultFailed {
			r.Error = auditText(runErr.Error(), red)
		}
	}
	if res != nil && runErr == nil && !res.Failed() && !interrupted {
		st.ConfigHash, st.Commit, st.AppliedAt = cfg.Hash, commit, now
	}
	recordTimelines(st, releases)
}

// recordFailure copies into r what went wrong for its service: the failed step
// and its error, the on_failure policy that ran and whether its rollback
// succeeded. Errors are redacted with red and cut to one line.
func recordFailure(r *state.Release, sr *executor.ServiceResult, red *redact.Redactor) {
	if sr != nil && sr.SkippedBecause != "" && sr.FailedStep == "" {
		// None of its steps ran: a service it depends on failed.
		r.Error = auditText("skipped: "+sr.SkippedBecause, red)
		return
	}
	if sr == nil || sr.FailedStep == "" {
		return
	}
	r.FailedStep, r.Error, r.OnFailure = sr.FailedStep, auditText(sr.Error, red), sr.Policy
	if sr.Policy == executor.PolicyRollback {
		ok := sr.Outcome == executor.OutcomeRolledBack
		r.RollbackSucceeded = &ok
		r.RollbackError = auditText(sr.RollbackError, red)
		if !ok && r.RollbackError == "" && len(sr.NotRestored) > 0 {
			r.RollbackError = auditText("not restored: "+strings.Join(sr.NotRestored, "; "), red)
		}
	}
}

// maxAuditText bounds an error kept in the history.
const maxAuditText = 500

// auditText is s as the history keeps it: sensitive values redacted, the first
// line, at most maxAuditText bytes.
func auditText(s string, red *redact.Redactor) string {
	s = strings.TrimSpace(red.String(s))
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > maxAuditText {
		n := maxAuditText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// PlanHash is the hex SHA-256 of p's JSON: for a plan read from a file, the
// "sha256" that plan -out recorded in it, so that the history names the plan
// that was reviewed.
func PlanHash(p *planner.Plan) string {
	if p == nil {
		return ""
	}
	b, err := json.Marshal(p)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// releaseResult maps a service's outcome to the result recorded in history.
func releaseResult(o executor.Outcome, interrupted bool) string {
	switch o {
	case executor.OutcomeApplied:
		return state.ResultSuccess
	case executor.OutcomeRolledBack:
		return state.ResultRolledBack
	case executor.OutcomeIncomplete, executor.OutcomeFailed:
		if interrupted {
			return state.ResultInterrupted
		}
	}
	return state.ResultFailed
}

// SummaryText is a plan's summary in one line, as the journal records it:
// "1 instance to upgrade, 0 weight changes, 0 route changes, 0 other changes."
func SummaryText(s planner.Summary) string {
	return fmt.Sprintf("%s to upgrade, %s, %s, %s.",
		countOf(s.Upgrades, "instance", "instances"), countOf(s.WeightChanges, "weight change", "weight changes"),
		countOf(s.RouteChanges, "route change", "route changes"), countOf(s.OtherChanges, "other change", "other changes"))
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
