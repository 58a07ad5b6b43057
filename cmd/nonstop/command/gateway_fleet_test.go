package command

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
	"github.com/nonstop-release/nonstop/providers/gatewayroutes"
)

// TestFleetGatewayRoutes runs gateway routes against the real Polaris
// configuration API: apply publishes the document, which reads back byte for
// byte and plans no change after; a hand edit through the Nacos HTTP config API
// is drift (exit 2) field by field and makes a plan file stale; an edit between
// plan and apply makes the publish refuse with nothing written; a failed step
// after a publish rolls the document back to the content it replaced.
func TestFleetGatewayRoutes(t *testing.T) {
	f := startFleet(t, "1.0.0", []string{"1.0.0", "1.0.0"})
	ctx := context.Background()
	dataID := f.service + ".routes.json"
	key := providers.ConfigKey{DataID: dataID, Group: "GATEWAY"}
	store := f.registry.(providers.ConfigStore)
	t.Cleanup(func() { store.DeleteConfig(context.Background(), key) })
	addGatewayBlocks(t, f, `
  route "beta" {
    match {
      header = { "X-Canary" = "1" }
    }
    version = "1.0.0"
  }

  gateway_routes "spring" {
    provider = nacos.reg
    data_id  = "`+dataID+`"
    group    = "GATEWAY"
  }
`)
	cfg, ds := lang.LoadDir(f.dir, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	want := gatewayroutes.Desired(cfg.Services[f.service], gatewayroutes.SteadyWeights("1.0.0")).Marshal()

	// Missing: drift, then apply creates it.
	r := f.nonstop(t, "drift").mustExit(t, 2)
	if !strings.Contains(r.stdout, dataID) || !strings.Contains(r.stdout, "gateway nacos.reg/GATEWAY/"+dataID+": missing") {
		t.Fatalf("drift of a missing document:\n%s", r)
	}
	r = f.nonstop(t, "apply", "-auto-approve").mustExit(t, 0)
	if !strings.Contains(r.stdout, "gateway.publish") && !strings.Contains(r.stdout, "Apply complete") {
		t.Fatalf("apply:\n%s", r)
	}
	waitDocument(t, store, key, want)
	f.nonstop(t, "plan", "-detailed-exitcode").mustExit(t, 0)
	f.nonstop(t, "drift").mustExit(t, 0)

	// A hand edit is drift, field by field.
	edited := strings.Replace(want, `"1.0.0": 100`, `"1.0.0": 60, "0.9.0": 40`, 1)
	handEdit(t, f, key, edited)
	waitDocument(t, store, key, edited)
	r = f.nonstop(t, "drift").mustExit(t, 2)
	if !strings.Contains(r.stdout, "weights") || !strings.Contains(r.stdout, "0.9.0=40") {
		t.Fatalf("drift after a hand edit:\n%s", r)
	}

	// A plan file made before another edit is stale, and nothing is written.
	planFile := filepath.Join(t.TempDir(), "gw.plan")
	f.nonstop(t, "plan", "-out", planFile).mustExit(t, 2-2)
	edited2 := strings.Replace(edited, `"0.9.0": 40`, `"0.9.1": 40`, 1)
	handEdit(t, f, key, edited2)
	waitDocument(t, store, key, edited2)
	r = f.nonstop(t, "apply", planFile).mustExit(t, 1)
	if !strings.Contains(r.stderr, "plan is stale") || !strings.Contains(r.stderr, "gateway routes document spring") {
		t.Fatalf("stale plan file:\n%s", r)
	}
	assertDocument(t, store, key, edited2, "after the refused plan file")

	// An edit between plan and apply in one run: the publish refuses, nothing written.
	provs, pds := planner.OpenProviders(cfg, nil)
	if pds.HasErrors() {
		t.Fatal(pds)
	}
	t.Cleanup(func() { provs.Close() })
	live, rds := planner.Refresh(ctx, cfg, provs, planner.RefreshOptions{})
	if rds.HasErrors() {
		t.Fatal(rds)
	}
	p, mds := planner.MakePlan(cfg, live, planner.Options{})
	if mds.HasErrors() || len(p.Steps) != 1 || p.Steps[0].Kind != planner.GatewayPublish {
		t.Fatalf("plan: %v %+v", mds, p)
	}
	edited3 := strings.Replace(edited2, `"0.9.1": 40`, `"0.9.2": 40`, 1)
	handEdit(t, f, key, edited3)
	waitDocument(t, store, key, edited3)
	runner := &executor.Runner{Config: cfg, Providers: provs}
	res, err := runner.Apply(ctx, p)
	if err == nil || res == nil || res.Services[f.service] == nil {
		t.Fatalf("apply after an edit: %v, result %+v", err, res)
	}
	sr := res.Services[f.service]
	for _, words := range []string{"changed since it was read", dataID, "group GATEWAY", "nacos.reg", "nothing was written"} {
		if !strings.Contains(sr.Error, words) {
			t.Fatalf("apply after an edit: error %q, want it to say %q", sr.Error, words)
		}
	}
	t.Logf("refused: %s", sr.Error)
	assertDocument(t, store, key, edited3, "after the refused publish")

	// Rollback: a publish, then a failing verify; the document goes back to edited3.
	live, _ = planner.Refresh(ctx, cfg, provs, planner.RefreshOptions{})
	p, mds = planner.MakePlan(cfg, live, planner.Options{})
	if mds.HasErrors() || len(p.Steps) != 1 {
		t.Fatalf("plan: %v %+v", mds, p)
	}
	pub := p.Steps[0]
	p.Steps = append(p.Steps, planner.Step{ID: f.service + ".verify-bad", Kind: planner.Verify, Service: f.service,
		Target: f.service + "/a/" + f.demos[0].Addr, Args: planner.StepArgs{Address: f.demos[0].Addr, Group: "a", Version: "9.9.9"},
		After: []string{pub.ID}})
	res, err = runner.Apply(ctx, p)
	sr = res.Services[f.service]
	if err == nil || !strings.Contains(sr.Error, "9.9.9") || len(sr.RolledBack) != 1 || sr.RollbackError != "" {
		t.Fatalf("apply with a failing verify: %v, result %+v", err, sr)
	}
	assertDocument(t, store, key, edited3, "after the rollback")
	t.Logf("rolled back: %v", sr.RolledBack)
}

// addGatewayBlocks inserts text at the end of the fleet's service block, and
// leaves out the HAProxy balancer (its routes need map files the fleet's
// HAProxy does not have; nginx holds the route).
func addGatewayBlocks(t *testing.T, f *fleet, text string) {
	t.Helper()
	path := filepath.Join(f.dir, "fleet.ns.hcl")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := regexp.MustCompile(`(?s)\n  balancer "tcp" \{.*?\n  \}\n`).ReplaceAllString(string(src), "\n")
	s = strings.TrimRight(s, "\n")
	if !strings.HasSuffix(s, "}") {
		t.Fatalf("%s does not end with the service block", path)
	}
	s = s[:len(s)-1] + text + "}\n"
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// handEdit writes a document through the Nacos HTTP config API, as an operator
// editing it in the console would.
func handEdit(t *testing.T, f *fleet, key providers.ConfigKey, content string) {
	t.Helper()
	form := url.Values{"dataId": {key.DataID}, "group": {key.Group}, "content": {content}}
	resp, err := http.PostForm("http://"+sharedPolaris(t).NacosAddr+"/nacos/v1/cs/configs", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("hand edit: status %d", resp.StatusCode)
	}
}

// waitDocument waits until the document reads content (Polaris' config reads lag
// writes by about a second).
func waitDocument(t *testing.T, store providers.ConfigStore, key providers.ConfigKey, content string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _, found, err := store.GetConfig(context.Background(), key)
		if err == nil && found && got == content {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %s: found=%t err=%v content:\n%s\nwant:\n%s", key.DataID, found, err, got, content)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertDocument checks that the document holds content for two seconds, longer
// than Polaris' read lag, so a write that happened would show.
func assertDocument(t *testing.T, store providers.ConfigStore, key providers.ConfigKey, content, when string) {
	t.Helper()
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		got, _, found, err := store.GetConfig(context.Background(), key)
		if err != nil || !found || got != content {
			t.Fatalf("%s: document found=%t err=%v:\n%s\nwant:\n%s", when, found, err, got, content)
		}
	}
}
