package executor

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// TestWaitDrainInFlight runs one wait.drain with an in-flight time (drain.in_flight)
// against a balancer: it lasts at least the in-flight time whether its members
// report sessions or not, waits for sessions only while they are open (bounded by
// the drain's timeout), and holds the rest without polling.
func TestWaitDrainInFlight(t *testing.T) {
	const member = "127.0.0.1:1"
	type sessions func(sinceFirstPoll time.Duration, polls int) *int
	tests := map[string]struct {
		members  bool // the step watches the member (a balancer that may count sessions)
		sessions sessions
		bound    time.Duration // drain.timeout, the bound of the wait for sessions
		inFlight time.Duration
		// wantPolls: exact Pool calls (-1: not checked).
		wantPolls int
		wantWarn  bool
		// pollsEndBefore: the last poll came before this much of the step had run.
		pollsEndBefore time.Duration
		// endsWithSessions: the step ends right when the sessions reach zero, the
		// in-flight time having passed while they drained.
		endsWithSessions bool
	}{
		"registry only: no member to watch": {
			inFlight: 150 * time.Millisecond, wantPolls: 0,
		},
		"balancer without session counts (SLB/ALB, nginx)": {
			members: true, sessions: func(time.Duration, int) *int { return nil },
			bound: 5 * time.Second, inFlight: 150 * time.Millisecond, wantPolls: 1,
		},
		"sessions end before the in-flight time": {
			members: true, sessions: func(_ time.Duration, p int) *int { return intp(max(0, 3-p)) },
			bound: 5 * time.Second, inFlight: 150 * time.Millisecond, wantPolls: 4,
		},
		"sessions outlast the in-flight time": {
			members: true,
			sessions: func(d time.Duration, _ int) *int {
				if d < 500*time.Millisecond {
					return intp(2)
				}
				return intp(0)
			},
			bound: 5 * time.Second, inFlight: 300 * time.Millisecond, wantPolls: -1, endsWithSessions: true,
		},
		"drain bound reached first": {
			members: true, sessions: func(time.Duration, int) *int { return intp(7) },
			bound: 50 * time.Millisecond, inFlight: time.Second, wantPolls: -1, wantWarn: true,
			pollsEndBefore: time.Second,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lb := newFakeLB("aliyun_slb", "edge", &writeLog{})
			lb.addMember("rsp", member, 100)
			var mu sync.Mutex
			var first, last, zero time.Time
			polls := 0
			lb.sessions = func(addr string) *int {
				mu.Lock()
				defer mu.Unlock()
				now := time.Now()
				if first.IsZero() {
					first = now
				}
				last = now
				n := tc.sessions(now.Sub(first), polls)
				polls++
				if n != nil && *n == 0 && zero.IsZero() {
					zero = now
				}
				return n
			}
			events := &eventLog{}
			r := &Runner{Config: bareConfig("s"), Events: events, PollInterval: 5 * time.Millisecond,
				Providers: map[lang.ProviderRef]providers.Provider{{Kind: "aliyun_slb", Name: "edge"}: lb}}
			args := planner.StepArgs{Address: member, Group: "a", InFlight: planner.Duration(tc.inFlight)}
			if tc.members {
				args.Members, args.Duration = []string{"aliyun_slb.edge/rsp/" + member}, planner.Duration(tc.bound)
			}
			st := step("s.1", planner.WaitDrain, "s", args)
			res := mustApply(t, r, &planner.Plan{Steps: []planner.Step{st}})
			if res.Failed() {
				t.Fatal(res.Summary())
			}
			var started, done Event
			for _, e := range events.events {
				switch e.Type {
				case EventStepStart:
					started = e
				case EventStepComplete:
					done = e
				}
			}
			if done.Step == nil {
				t.Fatalf("no step_complete event: %v", events.types())
			}
			if done.Elapsed < tc.inFlight {
				t.Errorf("the wait.drain lasted %s, want at least its in-flight time %s", done.Elapsed, tc.inFlight)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.wantPolls >= 0 && polls != tc.wantPolls {
				t.Errorf("polled the pool %d times, want %d", polls, tc.wantPolls)
			}
			if tc.pollsEndBefore > 0 && last.Sub(started.Time) >= tc.pollsEndBefore {
				t.Errorf("the last poll came %s into the step, want before %s (the bound is %s: the rest is a hold, not a poll)",
					last.Sub(started.Time), tc.pollsEndBefore, tc.bound)
			}
			if tc.endsWithSessions {
				if zero.IsZero() {
					t.Fatal("the sessions never read zero")
				}
				// Held once more after the sessions drained, the step would end a
				// whole in-flight time after the zero.
				if gap := done.Time.Sub(zero); gap >= tc.inFlight {
					t.Errorf("the step ended %s after the sessions reached zero, want at once (in_flight %s had passed)", gap, tc.inFlight)
				}
				if done.Elapsed < 500*time.Millisecond {
					t.Errorf("the wait.drain lasted %s, want until the sessions drained (500ms)", done.Elapsed)
				}
			}
			warned := strings.Contains(strings.Join(events.types(), ","), EventStepProgress)
			if warned != tc.wantWarn {
				t.Errorf("warning emitted = %t, want %t", warned, tc.wantWarn)
			}
		})
	}
}

// TestRollbackHoldsInFlight: with drain.in_flight set, the rollback of an
// instance already back in traffic drains it, waits the propagation and then a
// wait.drain holding the in-flight time before the old version is redeployed;
// the rollback's own safety replay requires that wait.
func TestRollbackHoldsInFlight(t *testing.T) {
	const inFlight = 150 * time.Millisecond
	rl := newRelease(t, releaseOptions{})
	rl.cfg.Services["order-service"].Drain.InFlight = inFlight
	a, b := rl.addrs[0], rl.addrs[1]
	rl.failHealth(b, "2.0.0")
	first := unit("1", a, "a", ms(20))
	steps := append(first, unit("2", b, "b", ms(20), first[len(first)-1].ID)...)
	for i := range steps {
		if steps[i].Kind == planner.WaitDrain {
			steps[i].Args.InFlight = planner.Duration(inFlight)
		}
	}
	events := &eventLog{}
	r := rl.runner()
	r.Events = events
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with a failing health check succeeded")
	}
	if s := res.Services["order-service"]; s.Outcome != OutcomeRolledBack {
		t.Fatalf("outcome %s (%s), want rolled_back", s.Outcome, s.RollbackError)
	}
	var order []string
	var drain *Event
	for i, e := range events.events {
		if e.Step == nil || !strings.Contains(e.Step.ID, ".rollback.") || e.Step.Args.Address != a {
			continue
		}
		if e.Type == EventStepStart {
			order = append(order, string(e.Step.Kind))
		}
		if e.Type == EventStepComplete && e.Step.Kind == planner.WaitDrain {
			drain = &events.events[i]
		}
	}
	if drain == nil {
		t.Fatalf("a's rollback has no wait.drain: %v", order)
	}
	if got := time.Duration(drain.Step.Args.InFlight); got != inFlight {
		t.Errorf("a's rollback wait.drain holds %s in flight, want %s", got, inFlight)
	}
	if drain.Elapsed < inFlight {
		t.Errorf("a's rollback wait.drain lasted %s, want at least %s", drain.Elapsed, inFlight)
	}
	joined := strings.Join(order, " ")
	if !strings.Contains(joined, "wait.drain deploy") {
		t.Errorf("a's rollback runs %s; want its wait.drain right before the redeploy", joined)
	}
	for _, addr := range rl.addrs {
		if v := rl.version(addr); v != "1.0.0" {
			t.Errorf("%s runs %q after rollback, want 1.0.0", addr, v)
		}
	}
}

// TestTimelineDrainDetail: the release report says what a wait.drain holds.
func TestTimelineDrainDetail(t *testing.T) {
	for want, args := range map[string]planner.StepArgs{
		"5m0s":                               {Members: []string{"haproxy.lb/be/127.0.0.1:1"}, Duration: planner.Duration(5 * time.Minute)},
		"10s in flight":                      {InFlight: planner.Duration(10 * time.Second)},
		"10s in flight, sessions up to 5m0s": {Members: []string{"haproxy.lb/be/127.0.0.1:1"}, Duration: planner.Duration(5 * time.Minute), InFlight: planner.Duration(10 * time.Second)},
	} {
		if got := stepDetail(&planner.Step{Kind: planner.WaitDrain, Args: args}); got != want {
			t.Errorf("stepDetail(%+v) = %q, want %q", args, got, want)
		}
	}
}
