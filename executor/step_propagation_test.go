package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// stallingRegistry is a fakeRegistry whose listing calls, while it is frozen,
// hang until it thaws (a SIGSTOPped server) or, while it is down, fail at once (a
// refused connection).
type stallingRegistry struct {
	*fakeRegistry
	mu     sync.Mutex
	thawAt time.Time
	down   bool
	calls  int
}

func (r *stallingRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	r.mu.Lock()
	r.calls++
	thaw, down := r.thawAt, r.down
	r.mu.Unlock()
	if down {
		return nil, errors.New("dial tcp 127.0.0.1:8848: connect: connection refused")
	}
	if d := time.Until(thaw); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return r.fakeRegistry.Instances(ctx, svc)
}

func (r *stallingRegistry) freezeFor(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.thawAt = time.Now().Add(d)
}

// propagationRun runs one wait.propagation of d on a service whose registry is
// reg, calling during when the wait starts; it returns how long the wait took,
// its error and the warnings emitted.
func propagationRun(t *testing.T, d time.Duration, during func(*stallingRegistry)) (time.Duration, error, []string) {
	t.Helper()
	rl := newRelease(t, releaseOptions{})
	reg := &stallingRegistry{fakeRegistry: rl.reg}
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nacos", Name: "prod"}] = reg
	events := &onStepStart{kind: planner.WaitPropagation, fn: func() { during(reg) }}
	r.Events = events
	st := step("order-service.1", planner.WaitPropagation, "order-service", planner.StepArgs{Duration: planner.Duration(d)})
	start := time.Now()
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: []planner.Step{st}})
	elapsed := time.Since(start)
	if err != nil && res != nil && res.Services["order-service"] != nil {
		err = fmt.Errorf("%w: %s", err, res.Services["order-service"].Error)
	}
	var warns []string
	for _, e := range events.events {
		if e.Level == LevelWarn && e.Step != nil && e.Step.Kind == planner.WaitPropagation {
			warns = append(warns, e.Message)
		}
	}
	return elapsed, err, warns
}

// onStepStart calls fn when the first step of a kind starts.
type onStepStart struct {
	eventLog
	kind planner.StepKind
	once sync.Once
	fn   func()
}

func (o *onStepStart) Emit(e Event) {
	if e.Type == EventStepStart && e.Step != nil && e.Step.Kind == o.kind {
		o.once.Do(o.fn)
	}
	o.eventLog.Emit(e)
}

// A registry frozen during the wait has pushed nothing: the wait counts again
// from its first answer after the silence, and says so.
func TestPropagationWaitRestartsAfterSilence(t *testing.T) {
	const d, frozen = 300 * time.Millisecond, 500 * time.Millisecond
	elapsed, err, warns := propagationRun(t, d, func(r *stallingRegistry) { r.freezeFor(frozen) })
	if err != nil {
		t.Fatal(err)
	}
	if elapsed < frozen+d {
		t.Errorf("the wait took %s; with the registry silent for %s it must last at least %s", elapsed, frozen, frozen+d)
	}
	if got := strings.Join(warns, "\n"); !strings.Contains(got, "the registry answers again after") ||
		!strings.Contains(got, "propagation wait starts again") {
		t.Errorf("warnings do not say the wait restarted:\n%s", got)
	}
}

// A registry that answers throughout lets the wait end after its duration, and
// the wait's probes are few.
func TestPropagationWaitAnswered(t *testing.T) {
	const d = 300 * time.Millisecond
	var reg *stallingRegistry
	elapsed, err, warns := propagationRun(t, d, func(r *stallingRegistry) { reg = r })
	if err != nil {
		t.Fatal(err)
	}
	if elapsed < d {
		t.Errorf("the wait took %s, less than its %s", elapsed, d)
	}
	if len(warns) > 0 {
		t.Errorf("warnings from an answering registry: %v", warns)
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.calls < 2 || reg.calls > 10 {
		t.Errorf("%d probes during a %s wait with a %s interval, want from 2 to 10", reg.calls, d, d/4)
	}
}

// A registry down for longer than the outage bound fails the wait with what it
// knows, instead of waiting forever or pretending consumers were told.
func TestPropagationWaitFailsPastOutageBound(t *testing.T) {
	defer func(b time.Duration) { minPropagationOutageBound = b }(minPropagationOutageBound)
	minPropagationOutageBound = 400 * time.Millisecond
	_, err, warns := propagationRun(t, 200*time.Millisecond, func(r *stallingRegistry) {
		r.mu.Lock()
		r.down = true
		r.mu.Unlock()
	})
	if err == nil {
		t.Fatal("the wait passed while the registry refused every call")
	}
	for _, want := range []string{"the registry did not answer for", "bound 400ms", "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if len(warns) == 0 || !strings.Contains(warns[0], "does not answer") {
		t.Errorf("no warning when the registry stopped answering: %v", warns)
	}
}

// An instance enabled again while its propagation wait runs (Polaris applies a
// client's re-registration whole, isolate flag included: after an outage an old
// process re-registered enabled) has been in consumers' lists: the wait disables
// it again and starts over, and says so. A group's wait checks the group.
func TestPropagationWaitInstanceEnabledAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  func(rl *release) planner.StepArgs
		other bool // an instance outside the wait is enabled too
	}{
		{name: "instance", args: func(rl *release) planner.StepArgs { return planner.StepArgs{Address: rl.addrs[0]} }},
		{name: "group", args: func(rl *release) planner.StepArgs { return planner.StepArgs{Group: "a"} }, other: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const d = 400 * time.Millisecond
			rl := newRelease(t, releaseOptions{})
			r := rl.runner()
			ctx := context.Background()
			key := providers.ServiceKey{Service: "order-service", Group: "DEFAULT_GROUP"}
			for _, a := range rl.addrs {
				if err := rl.reg.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: a}, false); err != nil {
					t.Fatal(err)
				}
			}
			if tc.other {
				_ = rl.reg.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: rl.addrs[1]}, true)
			}
			events := &onStepStart{kind: planner.WaitPropagation, fn: func() {
				go func() {
					time.Sleep(d / 2) // the old process re-registers, enabled
					_ = rl.reg.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: rl.addrs[0]}, true)
				}()
			}}
			r.Events = events
			args := tc.args(rl)
			args.Duration = planner.Duration(d)
			st := step("order-service.1", planner.WaitPropagation, "order-service", args)
			start := time.Now()
			if _, err := r.Apply(ctx, &planner.Plan{Steps: []planner.Step{st}}); err != nil {
				t.Fatal(err)
			}
			if elapsed := time.Since(start); elapsed < 2*d {
				t.Errorf("the wait took %s; enabled again during it, it must start over (at least %s)", elapsed, 2*d)
			}
			got := map[string]bool{}
			list, _ := rl.reg.Instances(ctx, key)
			for _, in := range list {
				got[in.Address] = in.Enabled
			}
			if got[rl.addrs[0]] {
				t.Errorf("%s is still enabled after the wait", rl.addrs[0])
			}
			if tc.other && !got[rl.addrs[1]] {
				t.Errorf("%s, outside the wait's group, was disabled", rl.addrs[1])
			}
			var warned bool
			for _, e := range events.events {
				if e.Level == LevelWarn && strings.Contains(e.Message, "enabled again in the registry during the propagation wait") {
					warned = true
				}
			}
			if !warned {
				t.Error("no warning says the instance was enabled again")
			}
		})
	}
}
