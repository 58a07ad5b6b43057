package lang

import (
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
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

// ErrNoDirAtRef is wrapped by the errors of GitDirTree for a directory that does
// not exist at the commit: a configuration added after it.
var ErrNoDirAtRef = errors.New("no such directory at the commit")

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
		return nil, "", "", fmt.Errorf("unknown revision: %v%s", err, historyHint(repo, ref))
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, "", "", fmt.Errorf("%v%s", err, historyHint(repo, ref))
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, "", "", err
	}
	rel = filepath.ToSlash(rel)
	if rel != "." {
		tree, err = tree.Tree(rel)
		if errors.Is(err, object.ErrDirectoryNotFound) {
			return nil, "", "", fmt.Errorf("%w: the directory %s does not exist at commit %s", ErrNoDirAtRef, rel, hash)
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

// historyHint explains a revision the clone cannot resolve when the clone lacks
// history: a shallow clone (actions/checkout fetches one commit by default) or
// a remote-tracking branch that was never fetched.
func historyHint(repo *git.Repository, ref string) string {
	if shallow, err := repo.Storer.Shallow(); err == nil && len(shallow) > 0 {
		return fmt.Sprintf("; the repository is a shallow clone, so %q may lie outside the history it holds: "+
			"fetch the whole history (actions/checkout: fetch-depth: 0; GitLab CI: GIT_DEPTH: 0; or git fetch --unshallow)", ref)
	}
	if remote, branch, ok := strings.Cut(ref, "/"); ok && branch != "" {
		if _, err := repo.Remote(remote); err == nil {
			return fmt.Sprintf("; the clone has no remote-tracking branch %s: fetch it (git fetch %s %s, or actions/checkout with fetch-depth: 0)", ref, remote, branch)
		}
	}
	return ""
}

// GitDirTree returns the commit ref resolves to ("" means HEAD) in the git
// repository holding dir, and the hash of the tree of dir at that commit: two
// commits whose trees of dir are equal hold the same configuration directory,
// deploy scripts and file() inputs included.
func GitDirTree(dir, ref string) (commit, tree string, err error) {
	if ref == "" {
		ref = "HEAD"
	}
	t, _, c, err := gitTree(dir, ref)
	if err != nil {
		return "", "", err
	}
	return c, t.Hash.String(), nil
}

// GitDirChanges lists the files under dir that differ between the trees of dir
// at commits from and to of the repository holding dir, by path relative to
// dir, sorted. It fails when either commit is not in the clone.
func GitDirChanges(dir, from, to string) ([]string, error) {
	a, _, _, err := gitTree(dir, from)
	if err != nil {
		return nil, err
	}
	b, _, _, err := gitTree(dir, to)
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(a, b)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			if name != "" && !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
