package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestValidateAtRef reads the configuration as committed with -ref, ignoring the
// work tree, as a pipeline that plans exactly what was merged does.
func TestValidateAtRef(t *testing.T) {
	root := t.TempDir()
	repo, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile("testdata/validate/valid/main.ns.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(root, "main.ns.hcl")
	if err := os.WriteFile(cfgFile, valid, 0o644); err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add("main.ns.hcl"); err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Commit("valid", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	// Break the work tree without committing.
	if err := os.WriteFile(cfgFile, []byte(strings.Replace(string(valid), "nginx.edge", "ngin.edge", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	if r := run(t, nil, "", "validate", root); r.code != 1 {
		t.Errorf("validate of the broken work tree: exit %d, want 1\n%s", r.code, r.stderr)
	}
	if r := run(t, nil, "", "validate", "-ref", "HEAD", root); r.code != 0 {
		t.Errorf("validate -ref HEAD: exit %d, want 0\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := run(t, nil, "", "validate", "-ref", "no-such-branch", root)
	if r.code != 1 || !strings.Contains(r.stderr, "unknown revision") {
		t.Errorf("validate -ref no-such-branch: exit %d, want 1 naming the revision\n%s", r.code, r.stderr)
	}
}
