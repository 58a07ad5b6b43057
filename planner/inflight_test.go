package planner

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// withoutKind returns the plan's steps without those of kind, each remaining
// step waiting for what the removed steps waited for.
func withoutKind(p *Plan, kind StepKind) *Plan {
	removed := map[string][]string{}
	for _, s := range p.Steps {
		if s.Kind == kind {
			removed[s.ID] = s.After
		}
	}
	out := &Plan{FormatVersion: p.FormatVersion}
	for _, s := range p.Steps {
		if s.Kind == kind {
			continue
		}
		var after []string
		for _, id := range s.After {
			if up, ok := removed[id]; ok {
				after = append(after, up...)
			} else {
				after = append(after, id)
			}
		}
		s.After = after
		out.Steps = append(out.Steps, s)
	}
	return out
}

// TestInFlightWaitIsRequired: with drain.in_flight, the safety replay refuses a
// deploy of a registry-only instance (patent-search) or an SLB-fronted one
// (patent-gateway) that has not had its in-flight wait, and accepts the plan
// the planner makes, which has one wait.drain per drained instance.
func TestInFlightWaitIsRequired(t *testing.T) {
	cfg, live, opts := loadPlanCase(t, filepath.Join("testdata", "gateway_tier"))
	p, ds := MakePlan(cfg, live, opts)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	waits := map[string]time.Duration{}
	for _, s := range p.Steps {
		if s.Kind == WaitDrain {
			waits[s.Target] = time.Duration(s.Args.InFlight)
		}
	}
	if len(waits) != 8 {
		t.Errorf("the plan has in-flight waits for %d instances, want 8: %v", len(waits), waits)
	}
	for target, d := range waits {
		if d != 10*time.Second {
			t.Errorf("%s: wait.drain holds %s in flight, want 10s", target, d)
		}
	}
	if ds := CheckSafety(cfg, live, p); ds.HasErrors() {
		t.Fatalf("the planner's own plan fails CheckSafety: %v", ds)
	}
	ds = CheckSafety(cfg, live, withoutKind(p, WaitDrain))
	if !ds.HasErrors() {
		t.Fatal("a plan without its in-flight waits passed CheckSafety")
	}
	text := ds.Error()
	for _, svc := range []string{"patent-search", "patent-gateway"} {
		if !strings.Contains(text, "deploy "+svc+"/") {
			t.Errorf("CheckSafety does not refuse a deploy of %s:\n%s", svc, text)
		}
	}
	if !strings.Contains(text, "the in-flight wait (drain.in_flight) has not run since it left traffic") {
		t.Errorf("CheckSafety does not say which wait is missing:\n%s", text)
	}
}

// TestInFlightWaitAfterCrash: an instance an interrupted apply left out of
// traffic owes its in-flight wait again, after the propagation wait and before
// its deploy.
func TestInFlightWaitAfterCrash(t *testing.T) {
	cfg, live, opts := loadPlanCase(t, filepath.Join("testdata", "gateway_tier"))
	const addr = "10.0.1.21:8080"
	inst := live.Services["patent-search"].Instances[addr]
	inst.Enabled = false
	live.Services["patent-search"].Instances[addr] = inst
	opts.Recovery = map[string]Recovery{"patent-search": {OwesWaits: true}}
	p, ds := MakePlan(cfg, live, opts)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	var kinds []string
	for _, s := range p.Steps {
		if s.Target == "patent-search/a/"+addr {
			kinds = append(kinds, string(s.Kind))
			if s.Kind == Deploy {
				break
			}
		}
	}
	if got, want := strings.Join(kinds, " "), "wait.propagation wait.drain deploy"; got != want {
		t.Errorf("the unit of %s begins %q, want %q", addr, got, want)
	}
}
