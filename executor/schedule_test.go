package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

func TestNewGraphRejectsBadPlans(t *testing.T) {
	w := planner.StepArgs{Duration: ms(1)}
	tests := map[string]struct {
		steps []planner.Step
		want  string
	}{
		"ok": {steps: []planner.Step{step("a", planner.Pause, "s", w), step("b", planner.Pause, "s", w, "a")}},
		"missing id": {
			steps: []planner.Step{step("", planner.Pause, "s", w)},
			want:  "step 0 has no id",
		},
		"duplicate": {
			steps: []planner.Step{step("a", planner.Pause, "s", w), step("a", planner.Pause, "s", w)},
			want:  `step id "a" is used twice`,
		},
		"unknown dependency": {
			steps: []planner.Step{step("a", planner.Pause, "s", w, "zz")},
			want:  `step a runs after "zz", which is not in the plan`,
		},
		"cycle": {
			steps: []planner.Step{step("a", planner.Pause, "s", w, "c"), step("b", planner.Pause, "s", w, "a"), step("c", planner.Pause, "s", w, "b")},
			want:  "steps form a cycle through a",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := newGraph(tc.steps)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// concurrency tracks how many steps run at once, from the event stream.
type concurrency struct {
	mu             sync.Mutex
	now, max       int
	started, ended map[string]time.Time
}

func (c *concurrency) Emit(e Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch e.Type {
	case EventStepStart:
		c.now++
		c.max = max(c.max, c.now)
		c.started[e.Step.ID] = time.Now()
	case EventStepComplete, EventStepErrored:
		c.now--
		c.ended[e.Step.ID] = time.Now()
	}
}

func TestApplyHonoursAfterAndParallelism(t *testing.T) {
	w := planner.StepArgs{Duration: ms(30)}
	// Two services: s1 is a diamond a -> (b, c) -> d; s2 has four independent steps.
	steps := []planner.Step{
		step("s1.a", planner.Pause, "s1", w),
		step("s1.b", planner.Pause, "s1", w, "s1.a"),
		step("s1.c", planner.Pause, "s1", w, "s1.a"),
		step("s1.d", planner.Pause, "s1", w, "s1.b", "s1.c"),
		step("s2.a", planner.Pause, "s2", w),
		step("s2.b", planner.Pause, "s2", w),
		step("s2.c", planner.Pause, "s2", w),
		step("s2.d", planner.Pause, "s2", w),
	}
	for _, par := range []int{1, 3} {
		c := &concurrency{started: map[string]time.Time{}, ended: map[string]time.Time{}}
		r := &Runner{Config: bareConfig("s1", "s2"), Events: c, Parallelism: par}
		res := mustApply(t, r, &planner.Plan{Steps: steps})
		// Waiting is free: every ready pause runs, whatever the parallelism.
		if c.max != 5 {
			t.Errorf("parallelism %d: at most %d waiting steps ran at once, want all 5 that were ready", par, c.max)
		}
		for _, st := range steps {
			for _, dep := range st.After {
				if c.started[st.ID].Before(c.ended[dep]) {
					t.Errorf("parallelism %d: %s started before %s ended", par, st.ID, dep)
				}
			}
		}
		if res.Failed() {
			t.Errorf("parallelism %d: %s", par, res.Summary())
		}
	}
}

// slowLB is a balancer whose writes take 20ms; it records the most writes it
// served at once.
type slowLB struct {
	name string
	mu   sync.Mutex
	now  int
	max  int
}

// Kind is a kind that does not group its writes (nginx does, and is not
// bounded).
func (b *slowLB) Kind() string { return "haproxy" }
func (b *slowLB) Name() string { return b.name }
func (b *slowLB) Pool(context.Context, string) ([]providers.Member, error) {
	return []providers.Member{{Address: "127.0.0.1:1", Weight: 1, State: providers.StateReady}}, nil
}
func (b *slowLB) write() error {
	b.mu.Lock()
	b.now++
	b.max = max(b.max, b.now)
	b.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	b.mu.Lock()
	b.now--
	b.mu.Unlock()
	return nil
}
func (b *slowLB) SetMemberWeight(context.Context, string, string, int) error { return b.write() }
func (b *slowLB) SetMemberState(context.Context, string, string, providers.MemberState) error {
	return b.write()
}

// TestWritesAreBoundedPerProvider runs eight services' writes at once: each
// provider receives at most Parallelism writes at a time, and two providers are
// bounded apart.
func TestWritesAreBoundedPerProvider(t *testing.T) {
	one, two := &slowLB{name: "one"}, &slowLB{name: "two"}
	var steps []planner.Step
	var names []string
	for i := range 8 {
		svc := fmt.Sprintf("s%d", i)
		names = append(names, svc)
		prov := []string{"haproxy.one", "haproxy.two"}[i%2]
		steps = append(steps, step(svc+".1", planner.BalancerSetWeight, svc,
			planner.StepArgs{Provider: prov, Pool: "p", Address: "127.0.0.1:1", Weight: intp(1)}))
	}
	r := &Runner{Config: bareConfig(names...), Parallelism: 2, Providers: map[lang.ProviderRef]providers.Provider{
		{Kind: "haproxy", Name: "one"}: one, {Kind: "haproxy", Name: "two"}: two}}
	mustApply(t, r, &planner.Plan{Steps: steps})
	if one.max != 2 || two.max != 2 {
		t.Errorf("most concurrent writes: %d on one, %d on two; want 2 on each (parallelism 2 per provider)", one.max, two.max)
	}
}

func TestDeploySlotsPerHost(t *testing.T) {
	s := newSlots(10, 2)
	dep := func(addr string) *planner.Step {
		return &planner.Step{Kind: planner.Deploy, Args: planner.StepArgs{Address: addr}}
	}
	if !s.take(dep("10.0.0.1:80")) || !s.take(dep("10.0.0.1:81")) {
		t.Fatal("two deploys on one host did not start")
	}
	if s.take(dep("10.0.0.1:82")) {
		t.Error("a third deploy on the same host started, want it to wait (per-host bound 2)")
	}
	if !s.take(dep("10.0.0.2:80")) {
		t.Error("a deploy on another host waited")
	}
	s.give(dep("10.0.0.1:80"))
	if !s.take(dep("10.0.0.1:82")) {
		t.Error("the deploy did not start once a slot of its host was free")
	}
	if !s.take(&planner.Step{Kind: planner.WaitPropagation}) {
		t.Error("a wait needs no slot")
	}
}

func TestFailureStopsOnlyItsService(t *testing.T) {
	log := &writeLog{}
	lb := newFakeLB("nginx", "edge", log)
	lb.addMember("pool1", "127.0.0.1:1", 5)
	lb.addMember("pool2", "127.0.0.1:2", 5)
	j := &memJournal{}
	steps := []planner.Step{
		step("bad.1", planner.BalancerSetWeight, "bad", planner.StepArgs{Provider: "nginx.edge", Pool: "pool1", Address: "127.0.0.1:1", Weight: intp(0)}),
		step("bad.2", planner.BalancerSetWeight, "bad", planner.StepArgs{Provider: "nginx.edge", Pool: "pool1", Address: "127.0.0.1:99", Weight: intp(0)}, "bad.1"),
		step("bad.3", planner.Pause, "bad", planner.StepArgs{Duration: ms(1)}, "bad.2"),
		step("good.1", planner.BalancerSetWeight, "good", planner.StepArgs{Provider: "nginx.edge", Pool: "pool2", Address: "127.0.0.1:2", Weight: intp(0)}),
		step("good.2", planner.Pause, "good", planner.StepArgs{Duration: ms(20)}, "good.1"),
		step("good.3", planner.BalancerSetWeight, "good", planner.StepArgs{Provider: "nginx.edge", Pool: "pool2", Address: "127.0.0.1:2", Weight: intp(3)}, "good.2"),
		step("dependent.1", planner.Pause, "dependent", planner.StepArgs{Duration: ms(1)}, "bad.3"),
	}
	r := &Runner{Config: bareConfig("bad", "good", "dependent"), Providers: map[lang.ProviderRef]providers.Provider{{Kind: "nginx", Name: "edge"}: lb}, Journal: j}
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil || !strings.Contains(err.Error(), "bad rolled_back") {
		t.Fatalf("Apply error = %v, want a failure naming bad", err)
	}
	got := map[string]Outcome{}
	for n, s := range res.Services {
		got[n] = s.Outcome
	}
	want := map[string]Outcome{"bad": OutcomeRolledBack, "good": OutcomeApplied, "dependent": OutcomeSkipped}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"bad.3"}, res.Services["bad"].NotRun); diff != "" {
		t.Errorf("bad NotRun (-want +got):\n%s", diff)
	}
	// The rollback put 127.0.0.1:1 back to its weight, read before the write.
	wantWrites := []string{"nginx.edge weight 127.0.0.1:1 0", "nginx.edge weight 127.0.0.1:1 5"}
	var badWrites []string
	for _, w := range log.list() {
		if strings.Contains(w, "127.0.0.1:1 ") {
			badWrites = append(badWrites, w)
		}
	}
	if diff := cmp.Diff(wantWrites, badWrites); diff != "" {
		t.Errorf("writes to the failed service (-want +got):\n%s", diff)
	}
	wantJournal := []string{"bad.1 start", "bad.1 end", "bad.2 start", "bad.2 error: 127.0.0.1:99 is not a member of pool pool1",
		"bad.rollback.1 start", "bad.rollback.1 end"}
	var gotJournal []string
	for _, l := range j.lines() {
		if strings.HasPrefix(l, "bad.") {
			gotJournal = append(gotJournal, l)
		}
	}
	if diff := cmp.Diff(wantJournal, gotJournal); diff != "" {
		t.Errorf("journal of bad (-want +got):\n%s", diff)
	}
}

func TestJournalFailureAborts(t *testing.T) {
	w := planner.StepArgs{Duration: ms(1)}
	steps := []planner.Step{step("s.1", planner.Pause, "s", w), step("s.2", planner.Pause, "s", w, "s.1"), step("s.3", planner.Pause, "s", w, "s.2")}
	j := &memJournal{failAt: 3} // s.2's start
	res, err := (&Runner{Config: bareConfig("s"), Journal: j}).Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil || !strings.Contains(err.Error(), "cannot write the apply journal: disk full") {
		t.Fatalf("Apply error = %v, want a journal error", err)
	}
	if diff := cmp.Diff([]string{"s.1 start", "s.1 end"}, j.lines()); diff != "" {
		t.Errorf("journal (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"s.3"}, res.Services["s"].NotRun); diff != "" {
		t.Errorf("NotRun (-want +got):\n%s", diff)
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	steps := []planner.Step{
		step("s.1", planner.Pause, "s", planner.StepArgs{Duration: planner.Duration(time.Minute)}),
		step("s.2", planner.Pause, "s", planner.StepArgs{UntilResumed: true}),
		step("s.3", planner.Pause, "s", planner.StepArgs{Duration: ms(1)}, "s.1"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	j := &memJournal{}
	start := time.Now()
	res, err := (&Runner{Config: bareConfig("s"), Journal: j, Resume: make(chan string)}).Apply(ctx, &planner.Plan{Steps: steps})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Apply error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Apply took %s after cancellation", d)
	}
	if res.Services["s"].Outcome != OutcomeFailed {
		t.Errorf("outcome = %s, want failed (no policy runs on cancel)", res.Services["s"].Outcome)
	}
	if diff := cmp.Diff([]string{"s.3"}, res.Services["s"].NotRun); diff != "" {
		t.Errorf("NotRun (-want +got):\n%s", diff)
	}
	// Both interrupted steps are journaled as errors, with the context's own journal.
	errs := 0
	for _, l := range j.lines() {
		if strings.HasSuffix(l, "error: context canceled") {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("journal has %d error entries for the cancelled steps, want 2: %q", errs, j.lines())
	}
}
