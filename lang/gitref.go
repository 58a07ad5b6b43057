package lang

import (
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// maxGitFile bounds what file() and the loader read from a ref, like the disk reader.
const maxGitFile = 4 << 20

// LoadGitRef loads the *.ns.hcl files of dir as they are at ref ("main",
// "origin/main", a tag or a commit hash) in the git repository that holds dir, so
// that a pipeline can plan or apply exactly what was merged, whatever the work tree
// holds. file() reads from the same ref. Config.Commit is the resolved commit.
func LoadGitRef(dir, ref string, opts LoadOptions) (*Config, diags.Diagnostics) {
	tree, rel, commit, err := gitTree(dir, ref)
	if err != nil {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "Cannot read the configuration at a git ref",
			fmt.Sprintf("nonstop could not read %s at %q: %v.", dir, ref, err))}
	}
	files := map[string][]byte{}
	var ds diags.Diagnostics
	for _, e := range tree.Entries {
		if !e.Mode.IsFile() || !strings.HasSuffix(e.Name, FileSuffix) {
			continue
		}
		b, err := readTreeFile(tree, e.Name)
		if err != nil {
			ds = ds.Append(diags.Sourceless(diags.Error, "Cannot read configuration file",
				fmt.Sprintf("%s at %s: %v.", path.Join(rel, e.Name), commit, err)))
			continue
		}
		files[e.Name] = b
	}
	if ds.HasErrors() {
		return nil, ds
	}
	if len(files) == 0 {
		return nil, diags.Diagnostics{diags.Sourceless(diags.Error, "No configuration files",
			fmt.Sprintf("The directory %s has no *%s files at %q (commit %s).", dir, FileSuffix, ref, commit))}
	}
	if opts.ReadFile == nil {
		opts.ReadFile = func(name string) ([]byte, error) {
			if filepath.IsAbs(name) {
				return nil, fmt.Errorf("file(%q): a configuration read from a git ref can only read files of the repository, by relative path", name)
			}
			return readTreeFile(tree, filepath.ToSlash(name))
		}
	}
	cfg, d := LoadFiles(dir, files, opts)
	if cfg != nil {
		cfg.Commit = commit
	}
	return cfg, d
}

// gitTree resolves ref in the repository holding dir and returns the tree of dir
// at that commit, dir's path inside the repository, and the commit hash.
func gitTree(dir, ref string) (*object.Tree, string, string, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, "", "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, "", "", err
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", "", err
	}
	root, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return nil, "", "", err
	}
	if d, err := filepath.EvalSymlinks(absDir); err == nil {
		absDir = d
	}
	rel, err := filepath.Rel(root, absDir)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, "", "", fmt.Errorf("%s is not inside the repository at %s", dir, root)
	}
	hash, err := repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return nil, "", "", fmt.Errorf("unknown revision: %v", err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, "", "", err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, "", "", err
	}
	rel = filepath.ToSlash(rel)
	if rel != "." {
		tree, err = tree.Tree(rel)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, "", "", fmt.Errorf("the directory %s does not exist at commit %s", rel, hash)
		}
		if err != nil {
			return nil, "", "", err
		}
	}
	return tree, rel, hash.String(), nil
}

// readTreeFile reads a regular file of tree by slash-separated relative path.
func readTreeFile(tree *object.Tree, name string) ([]byte, error) {
	f, err := tree.File(path.Clean(name))
	if err != nil {
		return nil, err
	}
	if f.Size > maxGitFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, maxGitFile)
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, maxGitFile))
}
