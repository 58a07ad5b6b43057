package command

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The GitOps test runs the CI recipes of docs/ci as written: it reads the run
// blocks of the GitHub workflows and executes them with bash, as a runner would,
// against a fake of the GitHub REST API the recipes' scripts call (this file) and
// the real test fleet (gitops_test.go).

// fakeGitHub is the part of the GitHub REST API the CI scripts use, in memory:
// issue and pull request comments, issues, workflow runs and their artifacts.
type fakeGitHub struct {
	t      *testing.T
	server *httptest.Server

	mu       sync.Mutex
	nextID   int
	comments map[int][]*ghComment // by issue or pull request number
	issues   map[int]*ghIssue
	runs     []*ghRun
	// applyRuns is how many runs of the apply workflow are in progress.
	applyRuns int
}

type ghComment struct {
	ID   int    `json:"id"`
	Body string `json:"body"`
}

type ghIssue struct {
	Number int       `json:"number"`
	Title  string    `json:"title"`
	Body   string    `json:"body"`
	State  string    `json:"state"`
	Labels []ghLabel `json:"labels"`
}

type ghLabel struct {
	Name string `json:"name"`
}

type ghRun struct {
	ID        int    `json:"id"`
	RunNumber int    `json:"run_number"`
	HeadSHA   string `json:"head_sha"`
	Path      string `json:"path"`
	artifact  []byte // the zip of "nonstop-plan"
}

const fakeToken = "test-token"

func newFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{t: t, nextID: 100, comments: map[int][]*ghComment{}, issues: map[int]*ghIssue{}}
	mux := http.NewServeMux()
	repo := "/repos/acme/shop"
	mux.HandleFunc("GET "+repo+"/issues/{n}/comments", g.listComments)
	mux.HandleFunc("POST "+repo+"/issues/{n}/comments", g.postComment)
	mux.HandleFunc("PATCH "+repo+"/issues/comments/{id}", g.patchComment)
	mux.HandleFunc("DELETE "+repo+"/issues/comments/{id}", g.deleteComment)
	mux.HandleFunc("GET "+repo+"/issues", g.listIssues)
	mux.HandleFunc("POST "+repo+"/issues", g.postIssue)
	mux.HandleFunc("PATCH "+repo+"/issues/{n}", g.patchIssue)
	mux.HandleFunc("GET "+repo+"/actions/runs", g.listRuns)
	mux.HandleFunc("GET "+repo+"/actions/runs/{id}/artifacts", g.listArtifacts)
	mux.HandleFunc("GET /download/{id}", g.download)
	mux.HandleFunc("GET "+repo+"/actions/workflows/{wf}/runs", g.workflowRuns)
	g.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+fakeToken {
			http.Error(w, `{"message": "Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(g.server.Close)
	return g
}

func (g *fakeGitHub) reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// page returns the page of items the query asks for (per_page, page).
func page[T any](r *http.Request, items []T) []T {
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	p, _ := strconv.Atoi(r.URL.Query().Get("page"))
	if per <= 0 {
		per = 30
	}
	if p <= 0 {
		p = 1
	}
	start := min((p-1)*per, len(items))
	return items[start:min(start+per, len(items))]
}

func (g *fakeGitHub) body(r *http.Request) map[string]any {
	var m map[string]any
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		g.t.Errorf("%s %s: body is not JSON: %v", r.Method, r.URL.Path, err)
	}
	return m
}

func (g *fakeGitHub) listComments(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	out := make([]*ghComment, 0)
	out = append(out, g.comments[n]...)
	g.reply(w, 200, page(r, out))
}

func (g *fakeGitHub) postComment(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	g.nextID++
	c := &ghComment{ID: g.nextID, Body: fmt.Sprint(g.body(r)["body"])}
	g.comments[n] = append(g.comments[n], c)
	g.reply(w, 201, c)
}

func (g *fakeGitHub) findComment(id int) (int, int) {
	for n, cs := range g.comments {
		for i, c := range cs {
			if c.ID == id {
				return n, i
			}
		}
	}
	return 0, -1
}

func (g *fakeGitHub) patchComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	n, i := g.findComment(id)
	if i < 0 {
		g.reply(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	g.comments[n][i].Body = fmt.Sprint(g.body(r)["body"])
	g.reply(w, 200, g.comments[n][i])
}

func (g *fakeGitHub) deleteComment(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	n, i := g.findComment(id)
	if i < 0 {
		g.reply(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	g.comments[n] = slices.Delete(g.comments[n], i, i+1)
	w.WriteHeader(204)
}

func (g *fakeGitHub) listIssues(w http.ResponseWriter, r *http.Request) {
	state, label := r.URL.Query().Get("state"), r.URL.Query().Get("labels")
	out := make([]*ghIssue, 0)
	for _, n := range slices.Sorted(mapKeys(g.issues)) {
		is := g.issues[n]
		if (state == "" || state == is.State) && (label == "" || slices.Contains(is.Labels, ghLabel{label})) {
			out = append(out, is)
		}
	}
	g.reply(w, 200, page(r, out))
}

func mapKeys[V any](m map[int]V) func(func(int) bool) {
	return func(yield func(int) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (g *fakeGitHub) postIssue(w http.ResponseWriter, r *http.Request) {
	b := g.body(r)
	g.nextID++
	is := &ghIssue{Number: g.nextID, Title: fmt.Sprint(b["title"]), Body: fmt.Sprint(b["body"]), State: "open"}
	if ls, ok := b["labels"].([]any); ok {
		for _, l := range ls {
			is.Labels = append(is.Labels, ghLabel{fmt.Sprint(l)})
		}
	}
	g.issues[is.Number] = is
	g.reply(w, 201, is)
}

func (g *fakeGitHub) patchIssue(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.PathValue("n"))
	is := g.issues[n]
	if is == nil {
		g.reply(w, 404, map[string]string{"message": "Not Found"})
		return
	}
	b := g.body(r)
	if v, ok := b["body"]; ok {
		is.Body = fmt.Sprint(v)
	}
	if v, ok := b["state"]; ok {
		is.State = fmt.Sprint(v)
	}
	g.reply(w, 200, is)
}

func (g *fakeGitHub) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := make([]*ghRun, 0)
	for _, run := range g.runs {
		if run.HeadSHA == q.Get("head_sha") && q.Get("status") == "success" {
			out = append(out, run)
		}
	}
	g.reply(w, 200, map[string]any{"total_count": len(out), "workflow_runs": page(r, out)})
}

func (g *fakeGitHub) listArtifacts(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	out := make([]map[string]any, 0)
	for _, run := range g.runs {
		if run.ID == id && run.artifact != nil {
			out = append(out, map[string]any{"name": "nonstop-plan", "expired": false,
				"archive_download_url": fmt.Sprintf("%s/download/%d", g.server.URL, run.ID)})
		}
	}
	g.reply(w, 200, map[string]any{"total_count": len(out), "artifacts": out})
}

func (g *fakeGitHub) download(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	for _, run := range g.runs {
		if run.ID == id {
			w.Header().Set("Content-Type", "application/zip")
			_, _ = w.Write(run.artifact)
			return
		}
	}
	http.NotFound(w, r)
}

func (g *fakeGitHub) workflowRuns(w http.ResponseWriter, r *http.Request) {
	n := 0
	if r.PathValue("wf") == "nonstop-apply.yml" && r.URL.Query().Get("status") == "in_progress" {
		n = g.applyRuns
	}
	g.reply(w, 200, map[string]any{"total_count": n, "workflow_runs": []any{}})
}

// state returns copies of the comments on number and of the issues.
func (g *fakeGitHub) state(number int) ([]ghComment, []ghIssue) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var cs []ghComment
	for _, c := range g.comments[number] {
		cs = append(cs, *c)
	}
	var is []ghIssue
	for _, n := range slices.Sorted(mapKeys(g.issues)) {
		is = append(is, *g.issues[n])
	}
	return cs, is
}

// workflow is what the test reads of a GitHub workflow file: its env and, per
// job, its steps. It reads the recipes' own layout (two-space indents, steps as
// "- " items), not any YAML.
type workflow struct {
	env  map[string]string
	jobs map[string][]wfStep
}

type wfStep struct {
	name, id, uses, run string
	env, with           map[string]string
}

// readWorkflow parses the workflow file at path.
func readWorkflow(t *testing.T, path string) workflow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wf := workflow{env: map[string]string{}, jobs: map[string][]wfStep{}}
	var (
		section, job, sub string
		step              *wfStep
		inSteps           bool
		runIndent         = -1
	)
	indentOf := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	value := func(s string) string {
		s = strings.TrimSpace(s)
		if i := strings.Index(s, " #"); i >= 0 && !strings.HasPrefix(s, `"`) {
			s = strings.TrimSpace(s[:i])
		}
		return strings.Trim(s, `"`)
	}
	flush := func() {
		if step != nil {
			wf.jobs[job] = append(wf.jobs[job], *step)
			step = nil
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		ind := indentOf(line)
		if runIndent >= 0 {
			if trimmed == "" || ind >= runIndent {
				if trimmed != "" {
					step.run += line[runIndent:] + "\n"
				} else {
					step.run += "\n"
				}
				continue
			}
			runIndent = -1
		}
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		switch {
		case ind == 0:
			flush()
			section, _, _ = strings.Cut(trimmed, ":")
		case section == "env" && ind == 2:
			k, v, _ := strings.Cut(trimmed, ":")
			wf.env[k] = value(v)
		case section == "jobs" && ind == 2:
			flush()
			job, _, _ = strings.Cut(trimmed, ":")
			wf.jobs[job] = nil
			inSteps = false
		case section == "jobs" && ind == 4:
			flush()
			inSteps = trimmed == "steps:"
		case section == "jobs" && inSteps && ind == 6 && strings.HasPrefix(trimmed, "- "):
			flush()
			step = &wfStep{env: map[string]string{}, with: map[string]string{}}
			trimmed, ind, sub = strings.TrimPrefix(trimmed, "- "), 8, ""
			fallthrough
		case section == "jobs" && inSteps && step != nil && ind == 8:
			k, v, _ := strings.Cut(trimmed, ":")
			sub = ""
			switch k {
			case "name":
				step.name = value(v)
			case "id":
				step.id = value(v)
			case "uses":
				step.uses = value(v)
			case "run":
				if strings.TrimSpace(v) == "|" {
					runIndent = 10
				} else {
					step.run = strings.TrimSpace(v) + "\n"
				}
			case "env", "with":
				sub = k
			}
		case section == "jobs" && inSteps && step != nil && ind == 10 && sub != "":
			k, v, _ := strings.Cut(trimmed, ":")
			if sub == "env" {
				step.env[k] = value(v)
			} else {
				step.with[k] = value(v)
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return wf
}

var expression = regexp.MustCompile(`\$\{\{\s*([^}]*?)\s*\}\}`)

// expand replaces the ${{ ... }} expressions of s with their values in exprs;
// an expression the test does not know fails it.
func expand(t *testing.T, s string, exprs map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		key := expression.FindStringSubmatch(m)[1]
		v, ok := exprs[key]
		if !ok {
			t.Fatalf("the recipe uses ${{ %s }}, which the test does not provide", key)
		}
		return v
	})
}

// runner is one job's runner: its workspace, environment and outputs.
type runner struct {
	t         *testing.T
	workspace string
	env       map[string]string // the job's environment besides the workflow's and the step's
	exprs     map[string]string // the values of ${{ }} expressions
	// uses runs a "uses:" step; nil fails the test on one.
	uses func(s wfStep) error
	// log is every step's output, for failures.
	log strings.Builder
}

// runJob runs the steps of job in wf in order and stops at the first that fails,
// returning its error. Run steps run with bash -e, as GitHub's default shell.
func (r *runner) runJob(wf workflow, job string) error {
	r.t.Helper()
	steps, ok := wf.jobs[job]
	if !ok || len(steps) == 0 {
		r.t.Fatalf("the workflow has no job %q with steps", job)
	}
	for _, s := range steps {
		if s.uses != "" {
			if err := r.uses(s); err != nil {
				return fmt.Errorf("step %q (%s): %w", s.name, s.uses, err)
			}
			continue
		}
		script := expand(r.t, s.run, r.exprs)
		cmd := exec.Command("bash", "-e", "-c", script)
		cmd.Dir = r.workspace
		env := map[string]string{}
		for k, v := range r.env {
			env[k] = v
		}
		for k, v := range wf.env {
			env[k] = expand(r.t, v, r.exprs)
		}
		for k, v := range s.env {
			env[k] = expand(r.t, v, r.exprs)
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		fmt.Fprintf(&r.log, "--- step %q\n$ %s%s", s.name, script, out)
		if err != nil {
			return fmt.Errorf("step %q: %v\n%s", s.name, err, out)
		}
	}
	return nil
}

// outputs reads the step outputs written to $GITHUB_OUTPUT.
func (r *runner) outputs() map[string]string {
	b, _ := os.ReadFile(r.env["GITHUB_OUTPUT"])
	out := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			out[k] = v
		}
	}
	return out
}

// newRunner returns a runner for one job with a fresh workspace and the
// environment GitHub gives a job: GITHUB_* (the API is the fake), a PATH with
// the built nonstop first, and a home of its own.
func newRunner(t *testing.T, gh *fakeGitHub, event map[string]any, exprs map[string]string) *runner {
	t.Helper()
	tmp := t.TempDir()
	eventPath := filepath.Join(tmp, "event.json")
	b, _ := json.Marshal(event)
	if err := os.WriteFile(eventPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"output", "path"} {
		if err := os.WriteFile(filepath.Join(tmp, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws := filepath.Join(tmp, "workspace")
	return &runner{t: t, workspace: ws, exprs: exprs, env: map[string]string{
		"PATH":              filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME":              filepath.Join(tmp, "home"),
		"GITHUB_ACTIONS":    "true",
		"GITHUB_API_URL":    gh.server.URL,
		"GITHUB_REPOSITORY": "acme/shop",
		"GITHUB_EVENT_PATH": eventPath,
		"GITHUB_OUTPUT":     filepath.Join(tmp, "output"),
		"GITHUB_PATH":       filepath.Join(tmp, "path"),
		"GITHUB_WORKSPACE":  ws,
		"NONSTOP_LOG":       "warn",
	}}
}
