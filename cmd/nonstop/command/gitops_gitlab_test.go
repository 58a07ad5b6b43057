package command

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeGitLab is the part of the GitLab REST API the CI scripts use for a merge
// request's plan artifact and the drift issue.
type fakeGitLab struct {
	mu     sync.Mutex
	issues []map[string]any
	notes  map[string][]string // by issue iid
	next   int
	server *httptest.Server
}

func newFakeGitLab(t *testing.T, mrSHA string, artifact []byte) *fakeGitLab {
	g := &fakeGitLab{notes: map[string][]string{}, next: 1}
	mux := http.NewServeMux()
	p := "/api/v4/projects/42"
	reply := func(w http.ResponseWriter, v any) { json.NewEncoder(w).Encode(v) }
	mux.HandleFunc("GET "+p+"/repository/commits/{sha}/merge_requests", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("sha") != "merge0" {
			reply(w, []any{})
			return
		}
		reply(w, []any{map[string]any{"iid": 3, "sha": mrSHA}})
	})
	mux.HandleFunc("GET "+p+"/pipelines", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sha") != mrSHA || r.URL.Query().Get("status") != "success" {
			reply(w, []any{})
			return
		}
		reply(w, []any{map[string]any{"id": 77}})
	})
	mux.HandleFunc("GET "+p+"/pipelines/77/jobs", func(w http.ResponseWriter, r *http.Request) {
		reply(w, []any{map[string]any{"id": 500, "name": "nonstop-fmt"}, map[string]any{"id": 501, "name": "nonstop-plan"}})
	})
	mux.HandleFunc("GET "+p+"/jobs/501/artifacts", func(w http.ResponseWriter, r *http.Request) { w.Write(artifact) })
	mux.HandleFunc("GET "+p+"/issues", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for _, is := range g.issues {
			if is["state"] == r.URL.Query().Get("state") && strings.Contains(fmt.Sprint(is["labels"]), r.URL.Query().Get("labels")) {
				out = append(out, is)
			}
		}
		reply(w, page(r, out))
	})
	mux.HandleFunc("POST "+p+"/issues", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		b["iid"], b["state"] = g.next, "opened"
		g.next++
		g.issues = append(g.issues, b)
		reply(w, b)
	})
	mux.HandleFunc("PUT "+p+"/issues/{iid}", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		for _, is := range g.issues {
			if fmt.Sprint(is["iid"]) == r.PathValue("iid") {
				if d, ok := b["description"]; ok {
					is["description"] = d
				}
				if b["state_event"] == "close" {
					is["state"] = "closed"
				}
				reply(w, is)
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("POST "+p+"/issues/{iid}/notes", func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		json.NewDecoder(r.Body).Decode(&b)
		g.notes[r.PathValue("iid")] = append(g.notes[r.PathValue("iid")], fmt.Sprint(b["body"]))
		reply(w, map[string]any{"id": 1})
	})
	g.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != "glpat" {
			http.Error(w, `{"message":"401 Unauthorized"}`, 401)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(g.server.Close)
	return g
}

// TestGitLabScripts: on GitLab the merge job finds the merge request of its
// commit and fetches the plan its pipeline kept (GitLab keeps the artifact's
// path, nonstop-plan/), and the drift job keeps one issue: opened on drift,
// updated, left alone during a release, closed once in sync. nonstop itself is
// a stand-in here that prints a report and exits as told; the real commands run
// in TestGitOpsRecipes.
func TestGitLabScripts(t *testing.T) {
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	for name, body := range map[string]string{"nonstop-plan/plan.bin": "PLAN", "nonstop-plan/plan.md": "REPORT"} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	g := newFakeGitLab(t, "head1", zipped.Bytes())
	env := map[string]string{"CI_API_V4_URL": g.server.URL + "/api/v4", "CI_PROJECT_ID": "42", "NONSTOP_GITLAB_TOKEN": "glpat", "CI_COMMIT_SHA": "merge0"}

	dest := filepath.Join(t.TempDir(), "reviewed")
	if out, err := runScript(t, env, "fetch-plan.sh", "gitlab", "", dest); err != nil {
		t.Fatalf("fetch-plan.sh gitlab: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "plan.bin")); string(b) != "PLAN" {
		t.Errorf("fetched plan.bin = %q", b)
	}
	env["CI_COMMIT_SHA"] = "direct-push"
	if out, err := runScript(t, env, "fetch-plan.sh", "gitlab", "", dest); err == nil || !strings.Contains(out, "belongs to no merge request") {
		t.Errorf("fetch-plan.sh for a commit of no merge request: want a refusal\n%s", out)
	}

	// A stand-in nonstop: drift prints $FAKE_REPORT and exits $FAKE_CODE.
	bin := t.TempDir()
	fake := "#!/usr/bin/env bash\nprintf '%s' \"$FAKE_REPORT\"\nexit \"$FAKE_CODE\"\n"
	if err := os.WriteFile(filepath.Join(bin, "nonstop"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	drift := func(code int, report string) string {
		t.Helper()
		e := map[string]string{"PATH": bin + ":" + os.Getenv("PATH"), "FAKE_CODE": fmt.Sprint(code), "FAKE_REPORT": report}
		for k, v := range env {
			e[k] = v
		}
		cmd := []string{filepath.Join(ciDir, "scripts", "drift-issue.sh"), "gitlab", "deploy"}
		out, err := runBash(t, e, cmd...)
		if err != nil {
			t.Fatalf("drift-issue.sh (nonstop exit %d): %v\n%s", code, err, out)
		}
		return out
	}
	marker := "<!-- nonstop:drift dir=deploy workspace=default -->\n"
	drift(0, marker+"**Drift:** none.\n")
	drift(2, marker+"**Drift:** 1 difference.\n")
	drift(2, marker+"**Drift:** 2 differences.\n")
	if out := drift(3, ""); !strings.Contains(out, "A release is in progress") {
		t.Errorf("drift during a release: %s", out)
	}
	g.mu.Lock()
	if len(g.issues) != 1 || g.issues[0]["state"] != "opened" || g.issues[0]["description"] != marker+"**Drift:** 2 differences.\n" || g.issues[0]["labels"] != "nonstop-drift" {
		t.Errorf("issues after drift twice and a release: %v", g.issues)
	}
	g.mu.Unlock()
	drift(0, marker+"**Drift:** none.\n")
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.issues[0]["state"] != "closed" || len(g.notes["1"]) != 1 || !strings.HasPrefix(g.notes["1"][0], "Live state matches the configuration again") {
		t.Errorf("back in sync: issue %v, notes %v", g.issues[0], g.notes)
	}
}

// runBash runs args with bash and env (PATH from env when it has one).
func runBash(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	e := map[string]string{"PATH": os.Getenv("PATH"), "HOME": t.TempDir()}
	for k, v := range env {
		e[k] = v
	}
	var list []string
	for k, v := range e {
		list = append(list, k+"="+v)
	}
	cmd := exec.Command("bash", args...)
	cmd.Env = list
	out, err := cmd.CombinedOutput()
	return string(out), err
}
