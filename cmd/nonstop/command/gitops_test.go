package command

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// ciDir is where the recipes live in this repository; a user copies the
// workflows to .github/workflows/ and the scripts to ci/nonstop/, as the test does.
var ciDir = filepath.Join("..", "..", "..", "docs", "ci")

// git runs git in dir and returns its output; a failure fails the test.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// copyTree copies the files under src into dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// zipDir returns the files of dir as a zip, as upload-artifact stores them.
func zipDir(t *testing.T, dir string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(e.Name())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGitOpsRecipes runs the GitHub recipes of docs/ci in order, as written,
// against a temporary git repository (main, a pull request branch, its merge), a
// fake GitHub API and the real test fleet (Polaris, nginx, HAProxy, demo-service
// instances restarted by deploy.sh, state in PostgreSQL shared by the jobs'
// separate checkouts):
//
//  1. the plan workflow on the pull request posts one comment (the
//     configuration change with its file:line, the plan, the weight someone
//     set by hand apart as drift repair) and keeps the sealed plan; a second
//     run updates the same comment;
//  2. the plan applied with another version is refused and changes nothing;
//  3. the merge's apply workflow fetches that plan and applies it, from a
//     checkout of the merge commit, with only credentials in the environment;
//  4. the drift workflow opens one issue on a hand-made change, updates it,
//     stands back while an apply runs, and closes it once back in sync.
//
// The workflow files pass actionlint, and -ref on a shallow clone says to fetch
// the history.
func TestGitOpsRecipes(t *testing.T) {
	for _, tool := range []string{"git", "bash", "curl", "jq", "unzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the recipes need %s (no skips): %v", tool, err)
		}
	}
	actionlint(t)

	// The fleet: four instances at 1.0.0 (groups a, b) behind nginx and HAProxy,
	// registered in Polaris; state in PostgreSQL.
	pol := sharedPolaris(t)
	service := "gitops-shop"
	addrs := make([]string, 4)
	for i := range addrs {
		port, err := testfleet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	fleetDemo := testfleet.StartDemoFleetWith(t, pol.NacosAddr, service, addrs, "1.0.0", func(d *testfleet.DemoFleet) { d.StartDelay, d.Warmup = 0, 0 })
	nginx := testfleet.StartEdgeNginx(t, "order_backend", addrs)
	haproxy := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: "order_backend", Servers: addrs}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "www", DefaultBackend: "order_backend"}},
	})
	if err := haproxy.WaitConfirmed("order_backend", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	dsn := testfleet.StartPostgres(t)
	lb := openProvider(t, "haproxy", map[string]cty.Value{"runtime_api": cty.StringVal(haproxy.TCPURL())}).(providers.Balancer)
	registry := openProvider(t, "nacos", map[string]cty.Value{
		"addresses": stringsVal([]string{pol.NacosAddr}), "flavor": cty.StringVal("polaris"), "polaris_address": cty.StringVal(pol.NativeAddr),
	}).(providers.Registry)

	text, err := demo.Config{
		Service: service, Version: "1.0.0", Nacos: pol.NacosAddr, PolarisNative: pol.NativeAddr,
		UpstreamsFile: nginx.UpstreamsFile, NginxTest: nginx.Command("-t"), NginxReload: nginx.Command("-s", "reload"),
		RuntimeAPI: haproxy.TCPURL(), Pool: "order_backend", GroupA: addrs[:2], GroupB: addrs[2:],
		Strategy: `strategy "rolling" { batch = "group" }`, FleetDir: fleetDemo.Dir, DemoBin: fleetDemo.Bin,
		MinAvailable: 1, HealthTimeout: "30s",
	}.Render()
	if err != nil {
		t.Fatal(err)
	}
	config := strings.NewReplacer(
		`state "local" { path = ".nonstop" }`, "state \"postgres\" {\n    dsn       = env(\"NONSTOP_PG_DSN\")\n    workspace = \"gitops\"\n  }",
		`version = "1.0.0"`, `version = var.order_version`,
		`propagation     = "4s"`, `propagation     = "1s"`,
		`propagation = "4s"`, `propagation = "1s"`,
	).Replace(string(text))
	config = "variable \"order_version\" {\n  type    = string\n  default = \"1.0.0\"\n}\n\n" + config

	// origin: main with the configuration, the deploy script, the recipes.
	origin := filepath.Join(t.TempDir(), "origin")
	gitIn(t, t.TempDir(), "init", "-q", "-b", "main", origin)
	if err := os.MkdirAll(filepath.Join(origin, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(origin, "deploy", "main.ns.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join("..", "..", "..", "examples", "demo"), filepath.Join(origin, "deploy"))
	if err := os.WriteFile(filepath.Join(origin, "deploy", "main.ns.hcl"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	copyTree(t, filepath.Join(ciDir, "scripts"), filepath.Join(origin, "ci", "nonstop"))
	copyTree(t, filepath.Join(ciDir, "github"), filepath.Join(origin, ".github", "workflows"))
	gitIn(t, origin, "add", "-A")
	gitIn(t, origin, "commit", "-q", "-m", "nonstop configuration")
	base := gitIn(t, origin, "rev-parse", "HEAD")

	creds := map[string]string{"NONSTOP_PG_DSN": dsn, "NONSTOP_LOG": "warn"}
	// Converge once from main, as the first release would have.
	converge := filepath.Join(t.TempDir(), "converge")
	gitIn(t, t.TempDir(), "clone", "-q", origin, converge)
	if r := runBinary(t, converge, creds, "apply", "-auto-approve", "deploy"); r.code != 0 {
		t.Fatalf("first apply: %s", r)
	}

	// The pull request: 1.0.0 → 1.1.0 on branch bump.
	gitIn(t, origin, "checkout", "-q", "-b", "bump")
	bumped := strings.Replace(config, `default = "1.0.0"`, `default = "1.1.0"`, 1)
	if err := os.WriteFile(filepath.Join(origin, "deploy", "main.ns.hcl"), []byte(bumped), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, origin, "commit", "-q", "-am", "order 1.1.0")
	head := gitIn(t, origin, "rev-parse", "HEAD")
	gitIn(t, origin, "checkout", "-q", "main")

	// Someone sets a HAProxy weight by hand.
	ctx := context.Background()
	if err := lb.SetMemberWeight(ctx, "order_backend", addrs[3], 7); err != nil {
		t.Fatal(err)
	}

	gh := newFakeGitHub(t)
	exprs := map[string]string{
		"github.token":                     fakeToken,
		"secrets.NACOS_PASSWORD":           "",
		"secrets.NONSTOP_PG_DSN":           dsn,
		"github.event.pull_request.number": "7",
	}
	checkout := func(r *runner, ref string) func(s wfStep) error {
		return func(s wfStep) error {
			switch {
			case strings.HasPrefix(s.uses, "actions/checkout@"):
				gitIn(t, filepath.Dir(r.workspace), "clone", "-q", "--no-checkout", origin, r.workspace)
				want := ref
				if s.with["ref"] != "" {
					want = expand(t, s.with["ref"], r.exprs)
				}
				gitIn(t, r.workspace, "checkout", "-q", want)
				return nil
			case strings.HasPrefix(s.uses, "actions/setup-go@"):
				return nil
			}
			return fmt.Errorf("the test does not run %s", s.uses)
		}
	}

	// 1. The plan workflow, twice (a second push): one comment, updated.
	planWF := readWorkflow(t, filepath.Join(origin, ".github", "workflows", "nonstop-plan.yml"))
	prEvent := map[string]any{"pull_request": map[string]any{"number": 7, "head": map[string]any{"sha": head}}}
	var firstID int
	for run := 1; run <= 2; run++ {
		r := newRunner(t, gh, prEvent, exprs)
		r.env["GITHUB_BASE_REF"] = "main"
		co := checkout(r, head)
		r.uses = func(s wfStep) error {
			if strings.HasPrefix(s.uses, "actions/upload-artifact@") {
				if s.with["name"] != "nonstop-plan" || s.with["path"] != "nonstop-plan/" {
					return fmt.Errorf("upload-artifact with %v", s.with)
				}
				gh.mu.Lock()
				gh.runs = append(gh.runs, &ghRun{ID: 9000 + run, RunNumber: run, HeadSHA: head,
					Path: ".github/workflows/nonstop-plan.yml", artifact: zipDir(t, filepath.Join(r.workspace, "nonstop-plan"))})
				gh.mu.Unlock()
				return nil
			}
			return co(s)
		}
		if err := r.runJob(planWF, "nonstop-plan"); err != nil {
			t.Fatalf("plan workflow run %d: %v\n%s", run, err, r.log.String())
		}
		comments, _ := gh.state(7)
		if len(comments) != 1 {
			t.Fatalf("after plan run %d the pull request has %d comments, want 1:\n%v", run, len(comments), comments)
		}
		c := comments[0]
		if run == 1 {
			firstID = c.ID
		} else if c.ID != firstID {
			t.Errorf("the second plan run posted comment %d instead of updating %d", c.ID, firstID)
		}
		for _, want := range []string{
			"<!-- nonstop:plan dir=deploy workspace=gitops -->\n### nonstop plan · `deploy` · workspace `gitops` · commit `" + head[:12] + "` · base `origin/main` (`" + base[:12] + "`)\n**Plan:** 4 instances to upgrade",
			`! service gitops-shop version "1.0.0" → "1.1.0" (deploy/main.ns.hcl:3)`,
			"Drift repair: objects changed outside nonstop (1)",
			"! gitops-shop haproxy.lb/order_backend/" + addrs[3] + " weight 7 -> 1",
		} {
			if !strings.Contains(c.Body, want) {
				t.Errorf("plan comment lacks %q:\n%s", want, c.Body)
			}
		}
	}

	// 2. The tester's case: the reviewed plan applied with another version is
	// refused, nothing changes.
	scratch := filepath.Join(t.TempDir(), "scratch")
	gitIn(t, t.TempDir(), "clone", "-q", origin, scratch)
	gitIn(t, scratch, "checkout", "-q", head)
	gh.mu.Lock()
	planZip := gh.runs[len(gh.runs)-1].artifact
	gh.mu.Unlock()
	zr, err := zip.NewReader(bytes.NewReader(planZip), int64(len(planZip)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		os.WriteFile(filepath.Join(scratch, f.Name), b.Bytes(), 0o600)
	}
	if raw, _ := os.ReadFile(filepath.Join(scratch, "plan.bin")); bytes.Contains(raw, []byte(dsn)) {
		t.Error("the plan artifact holds the state DSN")
	}
	r := runBinary(t, scratch, creds, "apply", "-var", "order_version=1.0.5", "plan.bin", "deploy")
	if r.code != 1 || !strings.Contains(r.stderr, `variable order_version: the plan was made with "1.1.0", -var order_version sets "1.0.5"`) {
		t.Errorf("apply -var order_version=1.0.5 of the 1.1.0 plan: want a refusal naming the variable\n%s", r)
	}
	if v := liveVersions(t, registry, service); v != "1.0.0 1.0.0 1.0.0 1.0.0" {
		t.Errorf("a refused apply changed versions: %s", v)
	}

	// 3. The merge, and the apply workflow on its commit.
	gitIn(t, origin, "merge", "-q", "--no-ff", "-m", "Merge pull request #7", "bump")
	merge := gitIn(t, origin, "rev-parse", "HEAD")
	applyWF := readWorkflow(t, filepath.Join(origin, ".github", "workflows", "nonstop-apply.yml"))
	applyExprs := map[string]string{}
	for k, v := range exprs {
		applyExprs[k] = v
	}
	applyExprs["github.event.pull_request.merge_commit_sha"] = merge
	applyExprs["github.event.pull_request.head.sha"] = head
	ra := newRunner(t, gh, map[string]any{"pull_request": map[string]any{"number": 7, "merged": true,
		"merge_commit_sha": merge, "head": map[string]any{"sha": head}}}, applyExprs)
	ra.uses = checkout(ra, "main")
	if err := ra.runJob(applyWF, "nonstop-apply"); err != nil {
		t.Fatalf("apply workflow: %v\n%s", err, ra.log.String())
	}
	if v := liveVersions(t, registry, service); v != "1.1.0 1.1.0 1.1.0 1.1.0" {
		t.Errorf("after the apply workflow the instances run %s, want 1.1.0 everywhere", v)
	}
	if members, err := lb.Pool(ctx, "order_backend"); err != nil || weightOf(members, addrs[3]) != 1 {
		t.Errorf("the hand-set weight was not repaired: %v %v", members, err)
	}
	pg, err := state.NewPostgres(dsn, "gitops")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	st, err := pg.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := st.History[len(st.History)-1]
	if last.From != "1.0.0" || last.To != "1.1.0" || last.Result != state.ResultSuccess || last.Commit != merge {
		t.Errorf("the release recorded: %+v, want 1.0.0 → 1.1.0, success, at the merge commit %s", last, merge)
	}
	comments, _ := gh.state(7)
	if len(comments) != 2 || !strings.HasPrefix(comments[1].Body, "<!-- nonstop:apply dir=deploy -->\n**Apply:** done") {
		t.Errorf("the pull request does not say the apply is done: %v", comments)
	}

	// 4. The drift workflow: in sync, a hand-made change (an issue), still
	// drifting (the same issue), an apply running (nothing), back in sync (closed).
	driftWF := readWorkflow(t, filepath.Join(origin, ".github", "workflows", "nonstop-drift.yml"))
	drift := func() {
		t.Helper()
		busy := newRunner(t, gh, map[string]any{}, exprs)
		busy.uses = checkout(busy, "main")
		if err := busy.runJob(driftWF, "release-busy"); err != nil {
			t.Fatalf("release-busy: %v\n%s", err, busy.log.String())
		}
		if b := busy.outputs()["busy"]; b != "false" {
			t.Fatalf("release-busy says busy=%q with no apply running", b)
		}
		rd := newRunner(t, gh, map[string]any{}, exprs)
		rd.uses = checkout(rd, "main")
		if err := rd.runJob(driftWF, "nonstop-drift"); err != nil {
			t.Fatalf("drift workflow: %v\n%s", err, rd.log.String())
		}
	}
	drift()
	if _, issues := gh.state(0); len(issues) != 0 {
		t.Fatalf("a drift issue was opened with live state in sync: %+v", issues)
	}
	nginxLB := openProvider(t, "nginx", map[string]cty.Value{"upstreams_file": cty.StringVal(nginx.UpstreamsFile),
		"test": stringsVal(nginx.Command("-t")), "reload": stringsVal(nginx.Command("-s", "reload"))}).(providers.Balancer)
	if err := nginxLB.SetMemberWeight(ctx, "order_backend", addrs[0], 5); err != nil {
		t.Fatal(err)
	}
	drift()
	drift()
	_, issues := gh.state(0)
	if len(issues) != 1 || issues[0].State != "open" || !strings.HasPrefix(issues[0].Body, "<!-- nonstop:drift dir=deploy workspace=gitops -->") ||
		!strings.Contains(issues[0].Body, "`nginx.edge/order_backend/"+addrs[0]+"` | weight | `1` | `5`") {
		t.Fatalf("after two drift runs on a hand-made change: want one open issue with the weight\n%+v", issues)
	}

	// An apply holds the lock: the drift check stands back.
	id, err := pg.Lock(ctx, state.NewLockInfo("apply", lang.Version))
	if err != nil {
		t.Fatal(err)
	}
	rd := newRunner(t, gh, map[string]any{}, exprs)
	rd.uses = checkout(rd, "main")
	if err := rd.runJob(driftWF, "nonstop-drift"); err != nil || !strings.Contains(rd.log.String(), "A release is in progress: drift not checked.") {
		t.Errorf("drift during an apply: want it to stand back (%v)\n%s", err, rd.log.String())
	}
	pg.Unlock(id)
	gh.mu.Lock()
	gh.applyRuns = 1
	gh.mu.Unlock()
	busy := newRunner(t, gh, map[string]any{}, exprs)
	busy.uses = checkout(busy, "main")
	if err := busy.runJob(driftWF, "release-busy"); err != nil || busy.outputs()["busy"] != "true" {
		t.Errorf("release-busy with an apply run in progress: busy=%q (%v)", busy.outputs()["busy"], err)
	}
	gh.mu.Lock()
	gh.applyRuns = 0
	gh.mu.Unlock()

	if err := nginxLB.SetMemberWeight(ctx, "order_backend", addrs[0], 1); err != nil {
		t.Fatal(err)
	}
	drift()
	issueComments, issues := gh.state(issues[0].Number)
	if len(issues) != 1 || issues[0].State != "closed" || len(issueComments) != 1 ||
		!strings.HasPrefix(issueComments[0].Body, "Live state matches the configuration again") {
		t.Errorf("back in sync: want the issue closed with a comment\n%+v\n%+v", issues, issueComments)
	}

	// A shallow clone cannot read another revision: the error says what to fetch.
	shallow := filepath.Join(t.TempDir(), "shallow")
	gitIn(t, t.TempDir(), "clone", "-q", "--depth", "1", "file://"+origin, shallow)
	r = runBinary(t, shallow, creds, "validate", "-ref", "HEAD~1", "deploy")
	if r.code != 1 || !strings.Contains(r.stderr, "fetch-depth: 0") {
		t.Errorf("validate -ref HEAD~1 in a shallow clone: want an error saying fetch-depth: 0\n%s", r)
	}
}

// liveVersions returns the versions the registry lists for service's instances,
// sorted by address, separated by spaces.
func liveVersions(t *testing.T, reg providers.Registry, service string) string {
	t.Helper()
	var out []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		insts, err := reg.Instances(context.Background(), providers.ServiceKey{Service: service, Group: "DEFAULT_GROUP"})
		out = out[:0]
		for _, in := range insts {
			out = append(out, in.Version)
		}
		if err == nil && len(out) == 4 {
			return strings.Join(out, " ")
		}
		if time.Now().After(deadline) {
			return fmt.Sprintf("%v (%v)", out, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func weightOf(members []providers.Member, addr string) int {
	for _, m := range members {
		if m.Address == addr {
			return m.Weight
		}
	}
	return -1
}

// actionlint checks the GitHub workflows with actionlint, from $PATH or built
// from the Go module proxy at a pinned version.
func actionlint(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("actionlint")
	if err != nil {
		gobin := filepath.Join(os.TempDir(), "nonstop-actionlint")
		bin = filepath.Join(gobin, "actionlint")
		if _, err := os.Stat(bin); err != nil {
			cmd := exec.Command("go", "install", "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12")
			cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("installing actionlint from the Go module proxy: %v\n%s", err, out)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(ciDir, "github", "nonstop-*.yml"))
	if len(files) != 3 {
		t.Fatalf("found %d workflows in %s, want 3", len(files), ciDir)
	}
	args := append([]string{"-config-file", filepath.Join(ciDir, "github", "actionlint.yaml")}, files...)
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}
