package operation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// noteRecovery folds what an interrupted journal leaves unproven into
// st.Recovery, before the journal is dropped: every service it touched owes its
// instances' propagation and drain waits again (live state cannot say how long an
// instance has been out of traffic, nor whether requests are still in flight),
// and every instance whose deploy began without its gates passing afterwards is
// tainted. Entries stay until an apply of the service completes, so a second
// crash keeps them.
func noteRecovery(st *state.State, cfg *lang.Config) {
	j := st.Journal
	if j == nil {
		return
	}
	type progress struct {
		deployAt time.Time // start of the last deploy of the instance
		gated    bool      // its gates ended after that deploy began
	}
	touched := map[string]map[string]*progress{} // service -> address -> progress
	for _, e := range j.Entries {
		svc := stepService(e.StepID)
		if touched[svc] == nil {
			touched[svc] = map[string]*progress{}
		}
		addr := e.Address
		if addr == "" {
			continue
		}
		p := touched[svc][addr]
		if p == nil {
			p = &progress{}
			touched[svc][addr] = p
		}
		switch {
		case e.Kind == string(planner.Deploy) && e.Event == state.EventStart:
			p.deployAt, p.gated = e.At, false
		case e.Event == state.EventEnd && !p.deployAt.IsZero() && isGate(cfg, svc, e):
			p.gated = true
		}
	}
	if len(touched) == 0 {
		return
	}
	if st.Recovery == nil {
		st.Recovery = map[string]*state.Recovery{}
	}
	for svc, insts := range touched {
		rec := st.Recovery[svc]
		if rec == nil {
			rec = &state.Recovery{Since: j.Started}
			st.Recovery[svc] = rec
		}
		for addr, p := range insts {
			if !p.deployAt.IsZero() && !p.gated && !slices.Contains(rec.Tainted, addr) {
				rec.Tainted = append(rec.Tainted, addr)
			}
		}
		slices.Sort(rec.Tainted)
	}
}

// isGate reports whether a journal entry is the last gate of a deploy: verify, or
// wait.healthy where there is no verify (a service without a verify block, or a
// rollback's redeploy, which has none).
func isGate(cfg *lang.Config, service string, e state.JournalEntry) bool {
	switch planner.StepKind(e.Kind) {
	case planner.Verify:
		return true
	case planner.WaitHealthy:
		if strings.Contains(e.StepID, ".rollback.") {
			return true
		}
		svc := cfg.Services[service]
		return svc == nil || svc.Verify == nil
	}
	return false
}

// recoveryOptions turns the state's recovery entries into the planner's.
func recoveryOptions(st *state.State) map[string]planner.Recovery {
	if st == nil || len(st.Recovery) == 0 {
		return nil
	}
	out := make(map[string]planner.Recovery, len(st.Recovery))
	for svc, rec := range st.Recovery {
		r := planner.Recovery{OwesWaits: true}
		if len(rec.Tainted) > 0 {
			r.Tainted = map[string]bool{}
			for _, a := range rec.Tainted {
				r.Tainted[a] = true
			}
		}
		out[svc] = r
	}
	return out
}

// clearRecovery drops the recovery entries of the services an apply completed.
func clearRecovery(st *state.State, applied []string) {
	for _, svc := range applied {
		delete(st.Recovery, svc)
	}
	if len(st.Recovery) == 0 {
		st.Recovery = nil
	}
}

// leftoverDeploys lists the deploys of an interrupted journal that started a
// process group and never ended.
func leftoverDeploys(j *state.Journal) []state.JournalEntry {
	running := map[string]state.JournalEntry{}
	var order []string
	for _, e := range j.Entries {
		switch e.Event {
		case state.EventProcess:
			if e.PGID > 0 {
				running[e.StepID] = e
				order = append(order, e.StepID)
			}
		case state.EventEnd, state.EventError:
			delete(running, e.StepID)
		}
	}
	var out []state.JournalEntry
	for _, id := range order {
		if e, ok := running[id]; ok {
			out = append(out, e)
		}
	}
	return out
}

// groupAlive reports whether a process group still has a member.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || err == syscall.EPERM
}

// settleDeploys deals with the deploys an interrupted apply left running: each
// one is waited for up to its service's deploy timeout (counted from its start),
// then stopped (SIGTERM to its group, SIGKILL 10s later). The next plan never
// races a deploy of the same instance. It reports what it did as warnings.
func settleDeploys(ctx context.Context, cfg *lang.Config, j *state.Journal, poll time.Duration) diags.Diagnostics {
	var ds diags.Diagnostics
	for _, e := range leftoverDeploys(j) {
		if !groupAlive(e.PGID) {
			continue
		}
		timeout := 10 * time.Minute
		if svc := cfg.Services[stepService(e.StepID)]; svc != nil && svc.Deploy != nil && svc.Deploy.Timeout > 0 {
			timeout = svc.Deploy.Timeout
		}
		deadline := e.At.Add(timeout)
		what := fmt.Sprintf("the deploy of %s (step %s, process group %d) that the interrupted apply started", e.Target, e.StepID, e.PGID)
		for groupAlive(e.PGID) && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(poll)
		}
		if !groupAlive(e.PGID) {
			ds = ds.Append(diags.Sourceless(diags.Warning, "Waited for a deploy of the interrupted apply",
				what+" was still running; nonstop waited for it to finish before planning. The instance is checked again before it takes traffic."))
			continue
		}
		if ctx.Err() != nil {
			ds = ds.Append(diags.Sourceless(diags.Error, "Deploy of the interrupted apply still running", what+" is still running."))
			continue
		}
		_ = syscall.Kill(-e.PGID, syscall.SIGTERM)
		stop := time.Now().Add(10 * time.Second)
		for groupAlive(e.PGID) && time.Now().Before(stop) {
			time.Sleep(poll)
		}
		if groupAlive(e.PGID) {
			_ = syscall.Kill(-e.PGID, syscall.SIGKILL)
		}
		ds = ds.Append(diags.Sourceless(diags.Warning, "Stopped a deploy of the interrupted apply",
			fmt.Sprintf("%s was still running past its deploy timeout (%s); nonstop stopped it. The instance is checked again (or redeployed) before it takes traffic.", what, timeout)))
	}
	return ds
}
