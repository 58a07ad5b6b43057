package executor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// onRollback calls fn when the rollback of a service starts, then passes every
// event on.
type onRollback struct {
	eventLog
	fn func()
}

func (o *onRollback) Emit(e Event) {
	if e.Type == EventRollbackStart && o.fn != nil {
		o.fn()
		o.fn = nil
	}
	o.eventLog.Emit(e)
}

// A rollback unit is replayed for safety on the live state before it runs, like
// any plan: when instance a is lost while b's rollback runs, draining c (up at
// the new version) would leave one serving member where min_available is 2, so c's
// unit does not run and c is reported as not restored; b's unit, which lowers
// nothing, still runs. The old runtime guard (some other member serves) would
// have drained c down to one.
func TestRollbackUnitReplayedForSafety(t *testing.T) {
	rl := newRelease(t, releaseOptions{instances: 3, minAvailable: 2})
	a, b, c := rl.addrs[0], rl.addrs[1], rl.addrs[2]
	rl.failHealth(b, "2.0.0")
	first := unit("1", c, "c", ms(10))
	steps := append(first, unit("2", b, "b", ms(10), first[len(first)-1].ID)...)
	events := &onRollback{fn: func() {
		// a leaves traffic behind nonstop's back (a crashed host, an operator).
		rl.lb.mu.Lock()
		defer rl.lb.mu.Unlock()
		m, err := rl.lb.member("order_backend", a)
		if err != nil {
			t.Error(err)
			return
		}
		m.Weight = 0
	}}
	r := rl.runner()
	r.Events = events
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with a failing health check succeeded")
	}
	s := res.Services["order-service"]
	if s.Outcome != OutcomeRollbackFailed {
		t.Errorf("outcome %s, want rollback_failed: c could not be rolled back safely", s.Outcome)
	}
	if v := rl.version(b); v != "1.0.0" {
		t.Errorf("b runs %q after the rollback, want 1.0.0 (its unit is safe)", v)
	}
	if v := rl.version(c); v != "2.0.0" {
		t.Errorf("c runs %q after the rollback, want 2.0.0 (draining it was unsafe)", v)
	}
	drains := 0
	for _, w := range rl.log.list() {
		if w == "nginx.edge weight "+c+" 0" {
			drains++
		}
	}
	if drains != 1 { // the forward unit's drain only
		t.Errorf("c was drained %d times, want once (by the release, not the rollback): %v", drains, rl.log.list())
	}
	joined := strings.Join(s.NotRestored, "\n")
	for _, want := range []string{c, "pool nginx.edge/order_backend with 1 serving members", "2 (min_available)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("not restored does not say %q:\n%s", want, joined)
		}
	}
	skipped := false
	for _, e := range events.events {
		skipped = skipped || (e.Level == LevelWarn && strings.Contains(e.Message, "rollback of "+c+" skipped"))
	}
	if !skipped {
		t.Error("no warning that c's rollback was skipped")
	}
}

// Restores put members back before they take any out: a blue-green switch that
// failed after it raised the standby and lowered the active group is undone by
// raising the active group first.
func TestRaisesFirst(t *testing.T) {
	w := func(key string, weight int) write {
		return write{key: key, address: key, undo: step(key, planner.BalancerSetWeight, "s",
			planner.StepArgs{Provider: "nginx.edge", Pool: "p", Address: key, Weight: intp(weight)})}
	}
	reg := write{key: "r", address: "r", did: step("r", planner.RegistrySetEnabled, "s", planner.StepArgs{}),
		undo: step("r", planner.RegistrySetEnabled, "s", planner.StepArgs{Enabled: boolp(true)})}
	ws := []write{w("standby", 0), w("active1", 1), reg, w("active2", 1)}
	raisesFirst(ws)
	var got []string
	for _, x := range ws {
		got = append(got, x.key)
	}
	if want := "active1 active2 r standby"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
}

// Redeploys of instances that are out of traffic on every path lower nothing, so
// a rollback runs them together: two instances of one batch that both failed
// their health check are redeployed at the old version at the same time.
func TestRollbackRedeploysOutOfTrafficTogether(t *testing.T) {
	slowDeploy := `["sh", "-c", "sleep 0.3; printf %s \"$2\" > \"versions/$3\"", "deploy", instance.address, version, tostring(instance.port)]`
	rl := newRelease(t, releaseOptions{instances: 3, command: slowDeploy})
	a, b, c := rl.addrs[0], rl.addrs[1], rl.addrs[2]
	rl.failHealth(a, "2.0.0")
	rl.failHealth(b, "2.0.0")
	steps := append(unit("1", a, "a", ms(10)), unit("2", b, "b", ms(10))...) // one batch
	events := &eventLog{}
	r := rl.runner()
	r.Events = events
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with failing health checks succeeded")
	}
	if s := res.Services["order-service"]; s.Outcome != OutcomeRolledBack {
		t.Fatalf("outcome %s (%s), want rolled_back", s.Outcome, s.RollbackError)
	}
	type span struct{ start, end time.Time }
	deploys := map[string]*span{}
	for _, e := range events.events {
		if e.Step == nil || e.Step.Kind != planner.Deploy || !strings.Contains(e.Step.ID, ".rollback.") {
			continue
		}
		sp := deploys[e.Step.Args.Address]
		if sp == nil {
			sp = &span{}
			deploys[e.Step.Args.Address] = sp
		}
		switch e.Type {
		case EventStepStart:
			sp.start = e.Time
		case EventStepComplete:
			sp.end = e.Time
		}
	}
	da, db := deploys[a], deploys[b]
	if da == nil || db == nil || len(deploys) != 2 {
		t.Fatalf("rollback deploys %v, want a and b", deploys)
	}
	if !(da.start.Before(db.end) && db.start.Before(da.end)) {
		t.Errorf("the rollback redeployed a (%s–%s) and b (%s–%s) one after the other, want together",
			da.start.Format("15:04:05.000"), da.end.Format("15:04:05.000"), db.start.Format("15:04:05.000"), db.end.Format("15:04:05.000"))
	}
	for _, addr := range []string{a, b, c} {
		if v := rl.version(addr); v != "1.0.0" {
			t.Errorf("%s runs %q after the rollback, want 1.0.0", addr, v)
		}
	}
}
