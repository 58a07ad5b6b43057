package executor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

func TestWaitDrain(t *testing.T) {
	tests := map[string]struct {
		sessions  func(polls int) *int
		wantPolls int
		wantWarn  bool
	}{
		"sessions reach zero":    {sessions: func(p int) *int { return intp(max(0, 3-p)) }, wantPolls: 4},
		"lb reports no sessions": {sessions: func(int) *int { return nil }, wantPolls: 1},
		"bound reached":          {sessions: func(int) *int { return intp(7) }, wantWarn: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			lb := newFakeLB("haproxy", "lb", &writeLog{})
			lb.addMember("be", "127.0.0.1:1", 1)
			lb.addMember("be", "127.0.0.1:2", 1)
			var polls atomic.Int32
			lb.sessions = func(addr string) *int {
				if addr != "127.0.0.1:1" {
					return intp(100) // not watched
				}
				return tc.sessions(int(polls.Add(1)) - 1)
			}
			events := &eventLog{}
			r := &Runner{Config: bareConfig("s"), Events: events, PollInterval: 5 * time.Millisecond,
				Providers: map[lang.ProviderRef]providers.Provider{{Kind: "haproxy", Name: "lb"}: lb}}
			st := step("s.1", planner.WaitDrain, "s", planner.StepArgs{Members: []string{"haproxy.lb/be/127.0.0.1:1"}, Duration: ms(60)})
			res := mustApply(t, r, &planner.Plan{Steps: []planner.Step{st}})
			if res.Failed() {
				t.Fatal(res.Summary())
			}
			if tc.wantPolls > 0 && int(polls.Load()) != tc.wantPolls {
				t.Errorf("polled %d times, want %d", polls.Load(), tc.wantPolls)
			}
			warned := strings.Contains(strings.Join(events.types(), ","), EventStepProgress)
			if warned != tc.wantWarn {
				t.Errorf("warning emitted = %t, want %t", warned, tc.wantWarn)
			}
		})
	}
}

func TestParseMember(t *testing.T) {
	got, err := parseMember("nginx.edge/team/backend/127.0.0.1:80")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(drainMember{"nginx.edge", "team/backend", "127.0.0.1:80"}, got, cmp.AllowUnexported(drainMember{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{"x", "a/b", "/p/a", "a/p/"} {
		if _, err := parseMember(bad); err == nil {
			t.Errorf("parseMember(%q) succeeded", bad)
		}
	}
}

func TestPauseUntilResumed(t *testing.T) {
	resume := make(chan string, 1)
	events := &eventLog{}
	r := &Runner{Config: bareConfig("s"), Resume: resume, Events: events}
	steps := []planner.Step{
		step("s.1", planner.Pause, "s", planner.StepArgs{UntilResumed: true}),
		step("s.2", planner.Pause, "s", planner.StepArgs{UntilResumed: true}, "s.1"),
	}
	resume <- "s.2" // an early resume is remembered
	go func() {
		for !strings.Contains(strings.Join(events.types(), ","), EventStepWaiting+" s.1") {
			time.Sleep(5 * time.Millisecond)
		}
		resume <- "s.1"
	}()
	res := mustApply(t, r, &planner.Plan{Steps: steps})
	if res.Failed() {
		t.Fatal(res.Summary())
	}

	_, err := (&Runner{Config: bareConfig("s")}).Apply(context.Background(), &planner.Plan{Steps: steps[:1]})
	if err == nil {
		t.Error("a pause until resumed with no resume channel succeeded")
	}
}

func TestRegistryAndRouteWritesAreUndoable(t *testing.T) {
	log := &writeLog{}
	reg := newFakeRegistry("prod", log)
	reg.add("s", "127.0.0.1:1")
	lb := newFakeLB("nginx", "edge", log)
	lb.routes["be"] = []providers.Route{{Pool: "be", Name: "old", Version: "1.0.0"}}
	provs := map[lang.ProviderRef]providers.Provider{{Kind: "nacos", Name: "prod"}: reg, {Kind: "nginx", Name: "edge"}: lb}
	steps := []planner.Step{
		step("s.1", planner.RegistrySetEnabled, "s", planner.StepArgs{Provider: "nacos.prod", Address: "127.0.0.1:1", Enabled: boolp(false)}),
		step("s.2", planner.RegistrySetWeight, "s", planner.StepArgs{Provider: "nacos.prod", Address: "127.0.0.1:1", RegistryWeight: new(float64)}, "s.1"),
		step("s.3", planner.RouteSet, "s", planner.StepArgs{Provider: "nginx.edge", Route: &providers.Route{Pool: "be", Name: "beta", Version: "2.0.0"}}, "s.2"),
		step("s.4", planner.RouteDelete, "s", planner.StepArgs{Provider: "nginx.edge", Pool: "be", Route: &providers.Route{Name: "old"}}, "s.3"),
		step("s.5", planner.GateAnalysis, "s", planner.StepArgs{Analysis: []string{"missing"}}, "s.4"),
	}
	res, err := (&Runner{Config: bareConfig("s"), Providers: provs}).Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("the gate with an unknown analysis passed")
	}
	want := []string{
		"nacos.prod enabled 127.0.0.1:1 false",
		"nacos.prod regweight 127.0.0.1:1 0",
		"nginx.edge route beta -> 2.0.0",
		"nginx.edge route old deleted",
		// rollback: registry first (no balancer writes), then routes in first-write order
		"nacos.prod enabled 127.0.0.1:1 true",
		"nacos.prod regweight 127.0.0.1:1 1",
		"nginx.edge route beta deleted",
		"nginx.edge route old -> 1.0.0",
	}
	if diff := cmp.Diff(want, log.list()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if res.Services["s"].Outcome != OutcomeRolledBack {
		t.Errorf("outcome %s, want rolled_back", res.Services["s"].Outcome)
	}
}

func TestGateAnalysis(t *testing.T) {
	tests := map[string]struct {
		body, noData string
		status       int
		resume       bool
		wantErr      string
	}{
		"plain number under":      {body: "0.003"},
		"prometheus vector under": {body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.003"]}]}}`},
		"prometheus vector over": {body: `{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"0.001"]},{"value":[1,"0.5"]}]}}`,
			wantErr: "analysis error-rate: value 0.5 is above max_value 0.01"},
		"no data fails":     {body: `{"status":"success","data":{"resultType":"vector","result":[]}}`, wantErr: `analysis error-rate returned no data (no_data = "fail")`},
		"no data passes":    {body: `null`, noData: "pass"},
		"no data pauses":    {body: `{"data":{"result":[{"value":[1,"NaN"]}]}}`, noData: "pause", resume: true},
		"server error":      {body: "oops", status: 500, wantErr: "answered status 500"},
		"not a number":      {body: `"abc"`, wantErr: `"abc" is not a number`},
		"prometheus scalar": {body: `{"status":"success","data":{"resultType":"scalar","result":[1,"0.02"]}}`, wantErr: "value 0.02 is above"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			cfg := bareConfig("s")
			cfg.Services["s"].Analyses = map[string]*lang.Analysis{"error-rate": {Name: "error-rate", HTTP: srv.URL, MaxValue: 0.01, NoData: tc.noData}}
			r := &Runner{Config: cfg}
			if tc.resume {
				ch := make(chan string, 1)
				ch <- "s.1"
				r.Resume = ch
			}
			st := step("s.1", planner.GateAnalysis, "s", planner.StepArgs{Analysis: []string{"error-rate"}})
			res, err := r.Apply(context.Background(), &planner.Plan{Steps: []planner.Step{st}})
			got := res.Services["s"].Error
			if (err != nil) != (got != "") {
				t.Errorf("Apply error %v with step error %q", err, got)
			}
			if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Errorf("error = %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func TestWatchResumeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resume")
	if err := os.WriteFile(path, []byte("s.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := WatchResumeFile(ctx, path, 5*time.Millisecond)
	if got := <-ch; got != "s.1" {
		t.Fatalf("first id %q, want s.1", got)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "s.2") // not yet a complete line
	time.Sleep(20 * time.Millisecond)
	fmt.Fprint(f, "\n")
	f.Close()
	if got := <-ch; got != "s.2" {
		t.Fatalf("second id %q, want s.2", got)
	}
	cancel()
	if _, open := <-ch; open {
		t.Error("the channel stays open after cancel")
	}
}
