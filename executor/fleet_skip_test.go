package executor

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// TestFailedServiceSkipsOnlyItsDependants releases four services at once: bad
// fails its second registry write; good does not depend on it and completes;
// child depends on bad and grandchild on child, so neither runs a step, and
// both are reported skipped with the failure that blocked them.
func TestFailedServiceSkipsOnlyItsDependants(t *testing.T) {
	log := &writeLog{}
	reg := newFakeRegistry("prod", log)
	reg.add("bad", "127.0.0.1:1")
	reg.add("good", "127.0.0.1:2")
	reg.add("child", "127.0.0.1:3")
	reg.add("grandchild", "127.0.0.1:4")
	disable := func(addr string) planner.StepArgs {
		return planner.StepArgs{Provider: "nacos.prod", Address: addr, Enabled: boolp(false)}
	}
	enable := func(addr string) planner.StepArgs {
		return planner.StepArgs{Provider: "nacos.prod", Address: addr, Enabled: boolp(true)}
	}
	steps := []planner.Step{
		step("bad.1", planner.RegistrySetEnabled, "bad", disable("127.0.0.1:1")),
		step("bad.2", planner.RegistrySetEnabled, "bad", disable("127.0.0.1:99"), "bad.1"),
		step("bad.3", planner.RegistrySetEnabled, "bad", enable("127.0.0.1:1"), "bad.2"),
		step("good.1", planner.RegistrySetEnabled, "good", disable("127.0.0.1:2")),
		step("good.2", planner.Pause, "good", planner.StepArgs{Duration: ms(30)}, "good.1"),
		step("good.3", planner.RegistrySetEnabled, "good", enable("127.0.0.1:2"), "good.2"),
		step("child.1", planner.RegistrySetEnabled, "child", disable("127.0.0.1:3"), "bad.3"),
		step("child.2", planner.RegistrySetEnabled, "child", enable("127.0.0.1:3"), "child.1"),
		step("grandchild.1", planner.RegistrySetEnabled, "grandchild", disable("127.0.0.1:4"), "child.2"),
	}
	events := &eventLog{}
	r := &Runner{Config: bareConfig("bad", "good", "child", "grandchild"), Events: events,
		Providers: map[lang.ProviderRef]providers.Provider{{Kind: "nacos", Name: "prod"}: reg}}
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("Apply succeeded, want an error naming the failed and skipped services")
	}
	for _, want := range []string{"bad rolled_back", "child skipped", "grandchild skipped"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Apply error %q does not say %q", err, want)
		}
	}
	type outcome struct {
		Outcome Outcome
		Reason  string
		NotRun  int
	}
	got := map[string]outcome{}
	for n, s := range res.Services {
		got[n] = outcome{s.Outcome, s.SkippedBecause, len(s.NotRun)}
	}
	want := map[string]outcome{
		"bad":        {OutcomeRolledBack, "", 1},
		"good":       {OutcomeApplied, "", 0},
		"child":      {OutcomeSkipped, "it depends on bad, which failed", 2},
		"grandchild": {OutcomeSkipped, "it depends on bad, which failed", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	wantSummary := "Apply failed: applied good; rolled back bad; skipped child, grandchild."
	if s := res.Summary(); s != wantSummary {
		t.Errorf("Summary() = %q, want %q", s, wantSummary)
	}
	var skipped []string
	for _, e := range events.events {
		if e.Type == EventServiceSkipped {
			skipped = append(skipped, e.Message)
		}
	}
	wantSkipped := []string{"child: skipped: it depends on bad, which failed", "grandchild: skipped: it depends on bad, which failed"}
	if diff := cmp.Diff(wantSkipped, skipped); diff != "" {
		t.Errorf("service_skipped events (-want +got):\n%s", diff)
	}
	for _, w := range log.list() {
		if strings.Contains(w, "127.0.0.1:3") || strings.Contains(w, "127.0.0.1:4") {
			t.Errorf("a skipped service was written to: %s", w)
		}
	}
	if got := reg.instances["127.0.0.1:2"].Enabled; !got {
		t.Error("good's instance was left disabled")
	}
	if got := reg.instances["127.0.0.1:1"].Enabled; !got {
		t.Error("bad's instance was not put back in traffic by its rollback")
	}
}
