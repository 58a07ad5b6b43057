package executor

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/planner"
)

func TestRollingReleaseApplies(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	first := unit("1", a, "a", ms(10))
	steps := append(first, unit("2", b, "b", ms(10), first[len(first)-1].ID)...)
	j := &memJournal{}
	r := rl.runner()
	r.Journal = j
	res := mustApply(t, r, &planner.Plan{Steps: steps})
	if res.Failed() {
		t.Fatal(res.Summary())
	}
	if diff := cmp.Diff(map[string]string{a: "2.0.0", b: "2.0.0"}, res.Services["order-service"].Deployed); diff != "" {
		t.Errorf("Deployed (-want +got):\n%s", diff)
	}
	// Every step is journaled start then end, in order (the units are sequential);
	// a deploy also records its process group.
	var want []string
	for _, st := range steps {
		want = append(want, st.ID+" start")
		if st.Kind == planner.Deploy {
			want = append(want, st.ID+" process")
		}
		want = append(want, st.ID+" end")
	}
	if diff := cmp.Diff(want, j.lines()); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	// Deploy output reaches the logger line by line with the [service address] prefix.
	for _, addr := range []string{a, b} {
		line := "[order-service " + addr + "] deploying " + addr + " 2.0.0 for order-service"
		if !strings.Contains(rl.out.String(), line) {
			t.Errorf("log has no line %q:\n%s", line, rl.out.String())
		}
	}
}

func TestFailedHealthRollsBackInOrder(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	rl.failHealth(b, "2.0.0")
	first := unit("1", a, "a", ms(10))
	steps := append(first, unit("2", b, "b", ms(10), first[len(first)-1].ID)...)
	events := &eventLog{}
	r := rl.runner()
	r.Events = events
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with a failing health check succeeded")
	}
	want := []string{
		// the release: a upgraded and restored, b drained
		"nginx.edge weight " + a + " 0", "nacos.prod enabled " + a + " false",
		"nacos.prod enabled " + a + " true", "nginx.edge weight " + a + " 1",
		"nginx.edge weight " + b + " 0", "nacos.prod enabled " + b + " false",
		// b failed health: redeployed at 1.0.0 while out of traffic, then restored
		"nacos.prod enabled " + b + " true", "nginx.edge weight " + b + " 1",
		// then a, now that b serves: drained, redeployed, restored
		"nginx.edge weight " + a + " 0", "nacos.prod enabled " + a + " false",
		"nacos.prod enabled " + a + " true", "nginx.edge weight " + a + " 1",
	}
	if diff := cmp.Diff(want, rl.log.list()); diff != "" {
		t.Errorf("provider writes (-want +got):\n%s", diff)
	}
	s := res.Services["order-service"]
	if s.Outcome != OutcomeRolledBack || s.FailedStep != "order-service.2.6" {
		t.Errorf("outcome %s after %s, want rolled_back after order-service.2.6 (%s)", s.Outcome, s.FailedStep, s.Error)
	}
	if diff := cmp.Diff(map[string]string{a: "1.0.0", b: "1.0.0"}, s.Deployed); diff != "" {
		t.Errorf("Deployed (-want +got):\n%s", diff)
	}
	for _, addr := range rl.addrs {
		if v := rl.version(addr); v != "1.0.0" {
			t.Errorf("%s runs %q after rollback, want 1.0.0", addr, v)
		}
	}
	if diff := cmp.Diff([]string{"order-service.2.7", "order-service.2.8", "order-service.2.9"}, s.NotRun); diff != "" {
		t.Errorf("NotRun (-want +got):\n%s", diff)
	}
	types := strings.Join(events.types(), "\n")
	for _, want := range []string{"step_errored order-service.2.6", "rollback_start order-service", "rollback_complete order-service", "apply_errored"} {
		if !strings.Contains(types, want) {
			t.Errorf("events lack %q:\n%s", want, types)
		}
	}
}

func TestPauseOnFailureKeepsFailedInstanceOut(t *testing.T) {
	rl := newRelease(t, releaseOptions{instances: 3, onFailure: PolicyPause})
	a, b, c := rl.addrs[0], rl.addrs[1], rl.addrs[2]
	rl.failHealth(b, "2.0.0")
	first := unit("1", a, "a", ms(10))
	last := first[len(first)-1].ID
	// b and c form one batch; c waits longer, so b fails before c's deploy starts.
	steps := append(first, unit("2", b, "b", ms(10), last)...)
	steps = append(steps, unit("3", c, "c", ms(800), last)...)
	res, err := rl.runner().Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with a failing health check succeeded")
	}
	s := res.Services["order-service"]
	if s.Outcome != OutcomePaused {
		t.Fatalf("outcome %s (%s), want paused", s.Outcome, s.RollbackError)
	}
	var tail []string
	for _, w := range rl.log.list()[4:] {
		if !strings.Contains(w, a) {
			tail = append(tail, w)
		}
	}
	want := []string{
		"nginx.edge weight " + b + " 0", "nacos.prod enabled " + b + " false",
		"nginx.edge weight " + c + " 0", "nacos.prod enabled " + c + " false",
		// c was never deployed: its traffic comes back; b, which failed health, stays out
		"nginx.edge weight " + c + " 1", "nacos.prod enabled " + c + " true",
	}
	// b's and c's drains run in parallel: compare them as sets, the restore in order.
	if diff := cmp.Diff(sorted(want[:4]), sorted(tail[:min(4, len(tail))])); diff != "" {
		t.Errorf("drain writes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[4:], tail[min(4, len(tail)):]); diff != "" {
		t.Errorf("pause writes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{b}, s.OutOfTraffic); diff != "" {
		t.Errorf("OutOfTraffic (-want +got):\n%s", diff)
	}
	if got := rl.version(c); got != "1.0.0" {
		t.Errorf("c runs %s, want 1.0.0 (never deployed)", got)
	}
	if diff := cmp.Diff(map[string]string{a: "2.0.0", b: "2.0.0"}, s.Deployed); diff != "" {
		t.Errorf("Deployed (-want +got):\n%s", diff)
	}
}

func TestDeployFailures(t *testing.T) {
	tests := map[string]struct {
		command, timeout string
		cancelAfter      time.Duration
		wantErr          []string
		maxTime          time.Duration
	}{
		"non-zero exit": {
			command: `["sh", "-c", "echo one; echo two >&2; exit 3"]`,
			wantErr: []string{"deploy command sh exited with status 3; last output:\n  one\n  two"},
		},
		"timeout": {
			command: `["sh", "-c", "echo started; sleep 20"]`, timeout: "200ms",
			wantErr: []string{"deploy command did not finish within 200ms", "started"},
			maxTime: 3 * time.Second,
		},
		"cancelled": {
			command: `["sh", "-c", "sleep 20"]`, cancelAfter: 100 * time.Millisecond,
			wantErr: []string{"context canceled"},
			maxTime: 3 * time.Second,
		},
		"missing program": {
			command: `["/nonexistent/deploy.sh"]`,
			wantErr: []string{"no such file or directory"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rl := newRelease(t, releaseOptions{command: tc.command, timeout: tc.timeout})
			st := planner.Step{ID: "d", Kind: planner.Deploy, Service: "order-service",
				Args: planner.StepArgs{Address: rl.addrs[0], Version: "2.0.0", FromVersion: "1.0.0"}}
			ctx := context.Background()
			if tc.cancelAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tc.cancelAfter, cancel)
			}
			start := time.Now()
			res, _ := rl.runner().Apply(ctx, &planner.Plan{Steps: []planner.Step{st}})
			if tc.maxTime > 0 && time.Since(start) > tc.maxTime {
				t.Errorf("took %s, want under %s", time.Since(start), tc.maxTime)
			}
			got := res.Services["order-service"].Error
			for _, w := range tc.wantErr {
				if !strings.Contains(got, w) {
					t.Errorf("error %q does not contain %q", got, w)
				}
			}
		})
	}
}

func TestDeployLeavingOutputOpenSucceeds(t *testing.T) {
	// A deploy that starts the service in the background, which inherits stdout.
	rl := newRelease(t, releaseOptions{command: `["sh", "-c", "sleep 30 & echo started"]`})
	st := planner.Step{ID: "d", Kind: planner.Deploy, Service: "order-service", Args: planner.StepArgs{Address: rl.addrs[0], Version: "2.0.0"}}
	res := mustApply(t, rl.runner(), &planner.Plan{Steps: []planner.Step{st}})
	if res.Failed() {
		t.Fatal(res.Services["order-service"].Error)
	}
	if !strings.Contains(rl.out.String(), "left its output open") {
		t.Errorf("no warning about the open output:\n%s", rl.out.String())
	}
}

func TestWaitHealthyChecksRegistryVersion(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a := rl.addrs[0]
	rl.reg.version = func(string) (string, bool) { return "1.0.0", true } // the registry still shows the old version
	st := planner.Step{ID: "h", Kind: planner.WaitHealthy, Service: "order-service", Args: planner.StepArgs{Address: a, Version: "2.0.0"}}
	res, _ := rl.runner().Apply(context.Background(), &planner.Plan{Steps: []planner.Step{st}})
	want := `registry nacos.prod does not show ` + a + ` healthy at version 2.0.0 within 300ms (last: registered with version "1.0.0")`
	if got := res.Services["order-service"].Error; !strings.Contains(got, want) {
		t.Errorf("error %q, want %q", got, want)
	}
	rl.reg.version = func(string) (string, bool) { return "", false } // hidden (Polaris, isolated)
	if res := mustApply(t, rl.runner(), &planner.Plan{Steps: []planner.Step{st}}); res.Failed() {
		t.Errorf("an unknown registry version failed wait.healthy: %s", res.Services["order-service"].Error)
	}
}

func TestVerify(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a := rl.addrs[0]
	st := planner.Step{ID: "v", Kind: planner.Verify, Service: "order-service", Args: planner.StepArgs{Address: a, Version: "2.0.0"}}
	res, _ := rl.runner().Apply(context.Background(), &planner.Plan{Steps: []planner.Step{st}})
	if got := res.Services["order-service"].Error; !strings.Contains(got, `the response does not contain "2.0.0" (got "version=1.0.0\n")`) {
		t.Errorf("verify of the old version: error %q", got)
	}
	rl.setVersion(a, "2.0.0")
	if res := mustApply(t, rl.runner(), &planner.Plan{Steps: []planner.Step{st}}); res.Failed() {
		t.Errorf("verify failed: %s", res.Services["order-service"].Error)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}

func TestSwitchIsBatchedAndRolledBack(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	if err := rl.lb.SetMemberWeight(context.Background(), "order_backend", b, 0); err != nil { // b is the standby
		t.Fatal(err)
	}
	inst := planner.StepArgs{Address: b, Group: "b", Version: "2.0.0"}
	deploy := inst
	deploy.FromVersion = "1.0.0"
	steps := []planner.Step{
		{ID: "s.1", Kind: planner.Deploy, Service: "order-service", Args: deploy},
		{ID: "s.2", Kind: planner.WaitHealthy, Service: "order-service", Args: inst, After: []string{"s.1"}},
		{ID: "s.3", Kind: planner.BalancerSwitch, Service: "order-service", After: []string{"s.2"},
			Args: planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Weights: map[string]int{a: 0, b: 1}}},
		{ID: "s.4", Kind: planner.GateAnalysis, Service: "order-service", After: []string{"s.3"},
			Args: planner.StepArgs{Analysis: []string{"not-declared"}}},
	}
	res, err := rl.runner().Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("the gate on an undeclared analysis passed")
	}
	// The balancer writes after the standby setup. (b is enabled in the registry
	// here, so the registry guard disables it during the deploy: not looked at.)
	var got []string
	for _, w := range rl.log.list()[1:] {
		if strings.HasPrefix(w, "nginx.edge ") {
			got = append(got, w)
		}
	}
	if diff := cmp.Diff(sorted([]string{"nginx.edge weight " + a + " 0 (batched)", "nginx.edge weight " + b + " 1 (batched)"}), sorted(got[:2])); diff != "" {
		t.Errorf("switch writes (-want +got):\n%s", diff)
	}
	want := []string{
		"nginx.edge weight " + a + " 1", // a never left the old version: traffic back first
		"nginx.edge weight " + b + " 0", // b drained, redeployed at 1.0.0, back to its original weight
		"nginx.edge weight " + b + " 0",
	}
	if diff := cmp.Diff(want, got[2:]); diff != "" {
		t.Errorf("rollback writes (-want +got):\n%s", diff)
	}
	if s := res.Services["order-service"]; s.Outcome != OutcomeRolledBack || rl.version(b) != "1.0.0" {
		t.Errorf("outcome %s, b at %s; want rolled_back with b at 1.0.0", s.Outcome, rl.version(b))
	}
}

// TestRollbackGoesOnAfterAFailedUnit fails the release at c and the rollback's
// redeploy of a (which runs before b's): b and c are still brought back, a is
// reported as not restored.
func TestRollbackGoesOnAfterAFailedUnit(t *testing.T) {
	rl := newRelease(t, releaseOptions{instances: 3})
	a, b, c := rl.addrs[0], rl.addrs[1], rl.addrs[2]
	rl.failHealth(c, "2.0.0")
	rl.failHealth(a, "1.0.0") // the old version does not come back on a
	first := unit("1", a, "a", ms(10))
	second := unit("2", b, "b", ms(10), first[len(first)-1].ID)
	steps := append(append(first, second...), unit("3", c, "c", ms(10), second[len(second)-1].ID)...)
	res, err := rl.runner().Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with a failing health check succeeded")
	}
	s := res.Services["order-service"]
	if s.Outcome != OutcomeRollbackFailed {
		t.Errorf("outcome %s, want %s", s.Outcome, OutcomeRollbackFailed)
	}
	for _, addr := range []string{b, c} {
		if v := rl.version(addr); v != "1.0.0" {
			t.Errorf("%s runs %q after the rollback, want 1.0.0: a failed unit must not stop the others", addr, v)
		}
	}
	if len(s.NotRestored) != 1 || !strings.HasPrefix(s.NotRestored[0], a+" (") {
		t.Errorf("not restored %q, want only %s with why", s.NotRestored, a)
	}
	if !strings.Contains(s.RollbackError, "health check") {
		t.Errorf("rollback error %q, want a's failed health check", s.RollbackError)
	}
}
