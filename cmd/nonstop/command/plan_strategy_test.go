package command

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// rollingStrategy is the strategy block of testdata/plan/fleet.ns.hcl.tmpl, which
// the strategy tests replace.
const rollingStrategy = `  strategy "rolling" {
    batch = "group"
  }
`

// useStrategy replaces the fleet configuration's rolling strategy with block
// (which may add blocks of the service after the strategy, such as an analysis).
func (f *fleet) useStrategy(t *testing.T, block string) {
	t.Helper()
	path := filepath.Join(f.dir, "fleet.ns.hcl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), rollingStrategy) {
		t.Fatalf("%s has no rolling strategy block to replace:\n%s", path, b)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), rollingStrategy, block, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// planJSON runs plan -json on the fleet, checks the plan it prints against the
// safety rules on live state read afresh, and returns it.
func (f *fleet) planJSON(t *testing.T) *planner.Plan {
	t.Helper()
	js := f.nonstop(t, "plan", "-json").mustExit(t, 0)
	var p planner.Plan
	if err := json.Unmarshal([]byte(js.stdout), &p); err != nil {
		t.Fatalf("plan -json: %v\n%s", err, js.stdout)
	}
	cfg, ds := lang.LoadDir(f.dir, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	m := newMeta(Streams{Stdout: io.Discard, Stderr: io.Discard})
	provs, live, ds := m.openAndRefresh(context.Background(), cfg, planner.RefreshOptions{})
	defer m.closeProviders(provs)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	if ds := planner.CheckSafety(cfg, live, &p); len(ds) > 0 {
		t.Errorf("the JSON plan fails CheckSafety: %v", ds)
	}
	return &p
}

// humanStep is one numbered step of the human plan: " 19. balancer.switch nginx.edge/web weights=...".
type humanStep struct{ kind, rest string }

var humanStepLine = regexp.MustCompile(`(?m)^\s+\d+\. (\S+) (.*)$`)

// humanSteps returns the numbered steps of a human plan in order, without their
// "(after N, M)" suffixes.
func humanSteps(out string) []humanStep {
	var steps []humanStep
	for _, m := range humanStepLine.FindAllStringSubmatch(out, -1) {
		rest, _, _ := strings.Cut(m[2], " (after ")
		steps = append(steps, humanStep{kind: m[1], rest: rest})
	}
	return steps
}

// milestones returns the kinds of steps among keep, in order, with runs of one
// kind folded into one: the shape of a strategy, whatever the number of
// instances and balancers.
func milestones(steps []humanStep, keep ...string) []string {
	var out []string
	for _, s := range steps {
		if !slices.Contains(keep, s.kind) || (len(out) > 0 && out[len(out)-1] == s.kind) {
			continue
		}
		out = append(out, s.kind)
	}
	return out
}

// checkKinds checks that the human plan and the JSON plan list the same kinds of
// steps in the same order.
func checkKinds(t *testing.T, human []humanStep, p *planner.Plan) {
	t.Helper()
	var fromHuman, fromJSON []string
	for _, s := range human {
		fromHuman = append(fromHuman, s.kind)
	}
	for _, s := range p.Steps {
		fromJSON = append(fromJSON, string(s.Kind))
	}
	if diff := cmp.Diff(fromJSON, fromHuman); diff != "" {
		t.Errorf("the human plan's steps differ from the JSON plan's (-json +human):\n%s", diff)
	}
}

// groupOf returns the fleet's group of addr: startFleet puts the first half of
// the instances in group a.
func (f *fleet) groupOf(addr string) string {
	for i, d := range f.demos {
		if d.Addr == addr {
			if i < len(f.demos)/2 {
				return "a"
			}
			return "b"
		}
	}
	return "?"
}

// TestPlanBlueGreenRealFleet plans a blue-green release with keep_standby of four
// instances behind real nginx and HAProxy, registered in Polaris: one group is
// drained and upgraded, each balancer switches to it in one step, and the other
// group drains and stays on the old version as the standby.
func TestPlanBlueGreenRealFleet(t *testing.T) {
	f := startFleet(t, "1.5.0", []string{"1.4.2", "1.4.2", "1.4.2", "1.4.2"})
	f.useStrategy(t, `  strategy "blue_green" {
    keep_standby = true
  }
`)
	human := f.nonstop(t, "plan").mustExit(t, 0)
	steps := humanSteps(human.stdout)
	want := []string{"wait.drain", "deploy", "wait.drain", "deploy", "balancer.switch", "wait.drain"}
	if diff := cmp.Diff(want, milestones(steps, "wait.drain", "deploy", "balancer.switch")); diff != "" {
		t.Errorf("blue-green steps (-want +got):\n%s\n%s", diff, human.stdout)
	}
	// Both deploys go to one group; the switches give it the traffic, one step
	// per balancer, and keep_standby leaves the other group at 1.4.2.
	var deployed []string
	for _, s := range steps {
		if s.kind == "deploy" {
			deployed = append(deployed, f.groupOf(targetAddress(strings.Fields(s.rest)[0])))
			if !strings.HasSuffix(s.rest, "1.4.2 -> 1.5.0") {
				t.Errorf("deploy %s, want 1.4.2 -> 1.5.0", s.rest)
			}
		}
	}
	if len(deployed) != 2 || deployed[0] != deployed[1] || deployed[0] == "?" {
		t.Fatalf("deploys go to groups %v, want both instances of one group\n%s", deployed, human.stdout)
	}
	var switched []string
	for _, s := range steps {
		if s.kind != "balancer.switch" {
			continue
		}
		pool := strings.Fields(s.rest)[0]
		switched = append(switched, pool)
		for _, d := range f.demos {
			weight := "0"
			if f.groupOf(d.Addr) == deployed[0] {
				weight = "1"
			}
			if !strings.Contains(s.rest, d.Addr+"="+weight) {
				t.Errorf("switch of %s does not give %s weight %s: %s", pool, d.Addr, weight, s.rest)
			}
		}
	}
	if diff := cmp.Diff([]string{"nginx.edge/web", "haproxy.lb/web"}, switched); diff != "" {
		t.Errorf("balancer.switch steps (-want +got):\n%s", diff)
	}
	f.nonstop(t, "plan", "-detailed-exitcode").mustExit(t, 2)
	checkKinds(t, steps, f.planJSON(t))
}

// TestPlanCanaryRealFleet plans a canary release of four instances behind real
// nginx and HAProxy, registered in Polaris, with a traffic step of 10% that
// pauses and runs an analysis against a metrics endpoint: the first group is
// upgraded, traffic moves to it by weights, holds, is analysed, is promoted, and
// only then does the second group follow.
func TestPlanCanaryRealFleet(t *testing.T) {
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"0.001"]}}`)
	}))
	t.Cleanup(metrics.Close)
	f := startFleet(t, "1.5.0", []string{"1.4.2", "1.4.2", "1.4.2", "1.4.2"})
	f.useStrategy(t, `  strategy "canary" {
    step {
      weight   = 10
      pause    = "1m"
      analysis = ["error-rate"]
    }
    step { weight = 100 }
  }

  analysis "error-rate" {
    http      = "`+metrics.URL+`/api/v1/query?query=error_rate"
    max_value = 0.01
  }
`)
	human := f.nonstop(t, "plan").mustExit(t, 0)
	steps := humanSteps(human.stdout)
	want := []string{"deploy", "balancer.switch", "registry.set_weight", "pause", "gate.analysis",
		"balancer.switch", "registry.set_weight", "deploy"}
	got := milestones(steps, "deploy", "balancer.switch", "registry.set_weight", "pause", "gate.analysis")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("canary steps (-want +got):\n%s\n%s", diff, human.stdout)
	}
	var holds []string
	for _, s := range steps {
		switch s.kind {
		case "pause", "gate.analysis":
			holds = append(holds, s.kind+" "+s.rest)
		case "deploy":
			// The canary group (a) is upgraded before the hold, the rest after it.
			g := f.groupOf(targetAddress(strings.Fields(s.rest)[0]))
			if beforeHold := len(holds) == 0; beforeHold != (g == "a") {
				t.Errorf("deploy %s of group %s comes before the hold: %t\n%s", s.rest, g, beforeHold, human.stdout)
			}
		}
	}
	wantHolds := []string{
		"pause " + f.service + "/canary step 1 (10%) 1m0s",
		"gate.analysis " + f.service + "/canary step 1 (10%) version=1.5.0 analysis=error-rate",
	}
	if diff := cmp.Diff(wantHolds, holds); diff != "" {
		t.Errorf("canary holds (-want +got):\n%s", diff)
	}
	f.nonstop(t, "plan", "-detailed-exitcode").mustExit(t, 2)
	checkKinds(t, steps, f.planJSON(t))
}
