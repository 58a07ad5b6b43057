package planner

import (
	"encoding/json"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
)

// The -update flag rewrites golden files; another test file may declare it first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

// planCaseOptions is a case's optional options.json.
type planCaseOptions struct {
	Targets       []string                     `json:"targets"`
	KnownVersions map[string]map[string]string `json:"known_versions"`
	Recovery      map[string]struct {
		OwesWaits bool     `json:"owes_waits"`
		Tainted   []string `json:"tainted"`
	} `json:"recovery"`
}

// loadPlanCase reads testdata/<dir>: config.ns.hcl, live.json and options.json.
func loadPlanCase(t *testing.T, dir string) (*lang.Config, *Live, Options) {
	t.Helper()
	cfg, ds := lang.LoadDir(dir, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatalf("loading %s: %v", dir, ds)
	}
	var live Live
	readJSON(t, filepath.Join(dir, "live.json"), &live, false)
	var co planCaseOptions
	readJSON(t, filepath.Join(dir, "options.json"), &co, true)
	opts := Options{Targets: co.Targets, KnownVersions: co.KnownVersions, Commit: "0123abc"}
	for svc, r := range co.Recovery {
		if opts.Recovery == nil {
			opts.Recovery = map[string]Recovery{}
		}
		rec := Recovery{OwesWaits: r.OwesWaits}
		for _, a := range r.Tainted {
			if rec.Tainted == nil {
				rec.Tainted = map[string]bool{}
			}
			rec.Tainted[a] = true
		}
		opts.Recovery[svc] = rec
	}
	return cfg, &live, opts
}

func readJSON(t *testing.T, path string, v any, optional bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if optional && os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestPlanGolden plans every testdata/<case> that holds a config.ns.hcl and compares
// the result with plan.json, or with error.txt when planning fails. Every plan it
// makes must also pass CheckSafety. The case's plan.txt, the human rendering of
// plan.json, is checked by the views package (cmd/nonstop/views).
func TestPlanGolden(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "*", "config.ns.hcl"))
	if len(dirs) < 15 {
		t.Fatalf("found %d golden cases, want at least 15", len(dirs))
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			cfg, live, opts := loadPlanCase(t, dir)
			p, ds := MakePlan(cfg, live, opts)
			errPath := filepath.Join(dir, "error.txt")
			if ds.HasErrors() {
				compareGolden(t, errPath, renderDiags(ds))
				return
			}
			if _, err := os.Stat(errPath); err == nil && !updating() {
				t.Fatalf("planning succeeded but %s expects an error", errPath)
			}
			if sds := CheckSafety(cfg, live, p); sds.HasErrors() {
				t.Fatalf("the plan fails its own safety check: %v", sds)
			}
			js, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join(dir, "plan.json"), string(js)+"\n")
		})
	}
}

// renderDiags renders diagnostics one per paragraph, with the file's base name.
func renderDiags(ds interface{ Error() string }) string {
	return strings.ReplaceAll(ds.Error(), "testdata/", "") + "\n"
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// compareGolden compares got with the file at path, or rewrites it under -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if updating() {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPlanGolden -update to create it)", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

// TestParallelPlanMatchesSequential plans random fleets twice, once with every
// service in one chunk and once with chunks of one service built, replayed and
// diffed in parallel: plans and diagnostics must be identical.
func TestParallelPlanMatchesSequential(t *testing.T) {
	r := rand.New(rand.NewSource(424242))
	defer func(n int) { minPerWorker = n }(minPerWorker)
	for i := range 100 {
		cfg, live, opts := randomFleet(r)
		minPerWorker = 1 << 30
		seq, seqDs := MakePlan(cfg, live, opts)
		minPerWorker = 1
		par, parDs := MakePlan(cfg, live, opts)
		if d := cmp.Diff(planJSON(t, seq), planJSON(t, par)); d != "" {
			t.Fatalf("fleet %d: parallel plan differs (-sequential +parallel):\n%s", i, d)
		}
		if d := cmp.Diff(details(seqDs), details(parDs)); d != "" {
			t.Fatalf("fleet %d: parallel diagnostics differ (-sequential +parallel):\n%s", i, d)
		}
	}
}

// planJSON renders a plan (nil for none) as indented JSON.
func planJSON(t *testing.T, p *Plan) string {
	t.Helper()
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
