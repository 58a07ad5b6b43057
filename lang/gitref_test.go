package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

const gitRefConfig = `
provider "nginx" "edge" { upstreams_file = "u.conf" }
service "web" {
  version = %q
  group "a" { instances = ["127.0.0.1:1001"] }
  group "b" { instances = ["127.0.0.1:1002"] }
  balancer "http" {
    provider = nginx.edge
    pool     = "web"
  }
  strategy "rolling" { batch = "group" }
  deploy { command = ["./deploy.sh", trimspace(file("deploy-target.txt"))] }
}
`

// commitFiles writes files under root/sub and commits them; it returns the hash.
func commitFiles(t *testing.T, repo *git.Repository, root, sub string, files map[string]string) string {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(root, sub, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(filepath.ToSlash(filepath.Join(sub, name))); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit("config", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// TestLoadGitRef reads the configuration as committed at a ref, file() included,
// whatever the work tree holds, and records the commit.
func TestLoadGitRef(t *testing.T) {
	root := t.TempDir()
	repo, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "deploy", "prod")
	first := commitFiles(t, repo, root, "deploy/prod", map[string]string{
		"main.ns.hcl":       strings.Replace(gitRefConfig, "%q", `"1.0.0"`, 1),
		"deploy-target.txt": "blue\n",
	})
	if _, err := repo.CreateTag("v1", mustHash(t, repo), nil); err != nil {
		t.Fatal(err)
	}
	second := commitFiles(t, repo, root, "deploy/prod", map[string]string{
		"main.ns.hcl":       strings.Replace(gitRefConfig, "%q", `"2.0.0"`, 1),
		"deploy-target.txt": "green\n",
	})
	// Uncommitted edits in the work tree must not matter at a ref.
	if err := os.WriteFile(filepath.Join(dir, "main.ns.hcl"), []byte(strings.Replace(gitRefConfig, "%q", `"9.9.9"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		ref, version, target, commit string
	}{
		"HEAD":         {"HEAD", "2.0.0", "green", second},
		"tag":          {"v1", "1.0.0", "blue", first},
		"commit hash":  {first, "1.0.0", "blue", first},
		"branch":       {"master", "2.0.0", "green", second},
		"parent of it": {"HEAD~1", "1.0.0", "blue", first},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, ds := LoadGitRef(dir, tt.ref, LoadOptions{Getenv: func(string) (string, bool) { return "", false }})
			if ds.HasErrors() {
				t.Fatal(ds)
			}
			if cfg.Commit != tt.commit || cfg.Services["web"].Version != tt.version {
				t.Errorf("commit %s version %s, want %s %s", cfg.Commit, cfg.Services["web"].Version, tt.commit, tt.version)
			}
			argv, _, d := cfg.Services["web"].EvalDeploy(InstanceVars{Address: Address{Host: "127.0.0.1", Port: 1001}, Group: "a", Version: tt.version, Service: "web"})
			if d.HasErrors() || len(argv) != 2 || argv[1] != tt.target {
				t.Errorf("deploy argv %q (%v), want file() read at the ref: %s", argv, d, tt.target)
			}
		})
	}
	cfg, ds := LoadDir(dir, LoadOptions{Getenv: func(string) (string, bool) { return "", false }})
	if ds.HasErrors() || cfg.Services["web"].Version != "9.9.9" || cfg.Commit != "" {
		t.Errorf("LoadDir should read the work tree: %v %v", cfg, ds)
	}

	for name, ref := range map[string]string{"unknown ref": "no-such-branch"} {
		if _, ds := LoadGitRef(dir, ref, LoadOptions{}); !ds.HasErrors() || !strings.Contains(ds.Error(), "unknown revision") {
			t.Errorf("%s: got %v, want an unknown revision error", name, ds)
		}
	}
	if _, ds := LoadGitRef(t.TempDir(), "HEAD", LoadOptions{}); !ds.HasErrors() {
		t.Error("a directory outside any repository loaded")
	}
}

func mustHash(t *testing.T, repo *git.Repository) plumbing.Hash {
	t.Helper()
	h, err := repo.Head()
	if err != nil {
		t.Fatal(err)
	}
	return h.Hash()
}
