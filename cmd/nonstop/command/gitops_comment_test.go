package command

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/planner"
)

// splitReport renders a plan of n deploy steps as nonstop plan -format markdown
// does, split to fit maxChars, with its markers.
func splitReport(n, maxChars int) string {
	p := &planner.Plan{FormatVersion: planner.FormatVersion, Summary: planner.Summary{Upgrades: n}}
	for i := range n {
		addr := fmt.Sprintf("a/10.0.0.%d:8080", i)
		p.Changes = append(p.Changes, planner.Change{Action: planner.Update, Service: "shop", Object: "instance", Address: addr, Field: "version", Before: "1", After: "2"})
		p.Steps = append(p.Steps, planner.Step{ID: strconv.Itoa(i), Kind: planner.Deploy, Service: "shop", Target: "shop/" + addr})
	}
	where := reportWhere{dir: "deploy", workspace: "default"}
	parts := views.RenderPlanReportMarkdown(views.PlanReport{Plan: p, Header: where.header("plan"),
		Marker: func(part string) string { return where.marker("plan", part) }}, maxChars)
	return strings.Join(parts, "\n"+markdownPartSeparator+"\n")
}

// runScript runs a CI script of docs/ci/scripts with env.
func runScript(t *testing.T, env map[string]string, script string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(ciDir, "scripts", script)}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestCommentScriptGitHub: a report split in three parts becomes three comments;
// the next report, in two parts, updates the first two and deletes the third;
// comments of others and of another directory are left alone.
func TestCommentScriptGitHub(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.comments[7] = []*ghComment{{ID: 1, Body: "LGTM"}, {ID: 2, Body: "<!-- nonstop:plan dir=other workspace=default -->\n**Plan:** other"}}
	env := map[string]string{"GITHUB_API_URL": gh.server.URL, "GITHUB_REPOSITORY": "acme/shop", "GITHUB_TOKEN": fakeToken, "NONSTOP_PR": "7"}
	report := filepath.Join(t.TempDir(), "plan.md")
	post := func(text string) {
		t.Helper()
		if err := os.WriteFile(report, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := runScript(t, env, "comment.sh", "github", report); err != nil {
			t.Fatalf("comment.sh: %v\n%s", err, out)
		}
	}
	three := splitReport(60, 2000)
	if n := strings.Count(three, markdownPartSeparator); n != 2 {
		t.Fatalf("the report has %d separators, want 2 (three parts)", n)
	}
	post(three)
	comments, _ := gh.state(7)
	if len(comments) != 5 {
		t.Fatalf("%d comments after a three-part report, want 2 + 3", len(comments))
	}
	for i, c := range comments[2:] {
		if !strings.HasPrefix(c.Body, fmt.Sprintf("<!-- nonstop:plan dir=deploy workspace=default part=%d/3 -->\n", i+1)) {
			t.Errorf("comment %d: %.80q", i, c.Body)
		}
	}
	ids := []int{comments[2].ID, comments[3].ID}
	post(splitReport(40, 2000))
	comments, _ = gh.state(7)
	var got []int
	for _, c := range comments {
		got = append(got, c.ID)
	}
	if want := []int{1, 2, ids[0], ids[1]}; !slices.Equal(got, want) {
		t.Errorf("comments after a two-part report: %v, want %v (two updated, the third deleted, others untouched)", got, want)
	}
	if !strings.Contains(comments[2].Body, "part=1/2") {
		t.Errorf("the first part was not updated: %.80q", comments[2].Body)
	}
	post(splitReport(1, 0))
	if comments, _ = gh.state(7); len(comments) != 3 || comments[2].ID != ids[0] {
		t.Errorf("after a one-part report: %v", comments)
	}
	out, err := runScript(t, map[string]string{"GITHUB_API_URL": gh.server.URL, "GITHUB_REPOSITORY": "acme/shop", "GITHUB_TOKEN": "wrong", "NONSTOP_PR": "7"},
		"comment.sh", "github", report)
	if err == nil || !strings.Contains(out, "Bad credentials") {
		t.Errorf("comment.sh with a wrong token: want a failure saying why\n%s", out)
	}
}

// TestCommentScriptGitLab: the same on a merge request's notes.
func TestCommentScriptGitLab(t *testing.T) {
	var mu sync.Mutex
	notes := []map[string]any{{"id": 1, "body": "LGTM"}}
	next := 10
	mux := http.NewServeMux()
	base := "/api/v4/projects/42/merge_requests/3/notes"
	mux.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(page(r, notes))
	})
	mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		next++
		n := map[string]any{"id": next, "body": b["body"]}
		notes = append(notes, n)
		json.NewEncoder(w).Encode(n)
	})
	mux.HandleFunc("PUT "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		for _, n := range notes {
			if fmt.Sprint(n["id"]) == r.PathValue("id") {
				n["body"] = b["body"]
				json.NewEncoder(w).Encode(n)
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) {
		notes = slices.DeleteFunc(notes, func(n map[string]any) bool { return fmt.Sprint(n["id"]) == r.PathValue("id") })
		w.WriteHeader(204)
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "glpat" {
			http.Error(w, `{"message":"401 Unauthorized"}`, 401)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()
	env := map[string]string{"CI_API_V4_URL": srv.URL + "/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "3", "NONSTOP_GITLAB_TOKEN": "glpat"}
	report := filepath.Join(t.TempDir(), "plan.md")
	for _, text := range []string{splitReport(60, 2000), splitReport(2, 0)} {
		os.WriteFile(report, []byte(text), 0o644)
		if out, err := runScript(t, env, "comment.sh", "gitlab", report); err != nil {
			t.Fatalf("comment.sh gitlab: %v\n%s", err, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(notes) != 2 || notes[0]["body"] != "LGTM" || !strings.HasPrefix(fmt.Sprint(notes[1]["body"]), "<!-- nonstop:plan dir=deploy workspace=default -->\n") {
		t.Errorf("notes after a three-part then a one-part report: %v", notes)
	}
}
