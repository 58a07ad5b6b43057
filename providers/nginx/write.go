package nginx

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// load reads and parses the upstreams file. A missing file is an empty one; old is
// nil then.
func (n *Nginx) load() (f *upstreamsFile, old []byte, err error) {
	old, err = os.ReadFile(n.file)
	if errors.Is(err, fs.ErrNotExist) {
		return &upstreamsFile{}, nil, nil
	}
	if err != nil {
		return nil, nil, n.errorf("read upstreams file: %v", err)
	}
	f, err = parseUpstreams(string(old))
	if err != nil {
		return nil, nil, n.errorf("%s: %v", n.file, err)
	}
	return f, old, nil
}

// appliedPath is where the provider keeps a copy of the file as of the last reload
// it completed, and pendingPath the content it is writing until that reload
// completes: dot files beside the file, which nginx's include globs skip.
func (n *Nginx) appliedPath() string {
	return filepath.Join(filepath.Dir(n.file), "."+filepath.Base(n.file)+".applied")
}

func (n *Nginx) pendingPath() string {
	return filepath.Join(filepath.Dir(n.file), "."+filepath.Base(n.file)+".pending")
}

// loadServed reads what the running nginx serves. That is the file, except after
// a process died between writing the file and reloading nginx (kill -9 of an
// apply): the pending marker still holds what it wrote, and nginx still serves
// the copy of the last completed reload. Reads then report that copy, so that the
// next write reloads. (A hand edit, with or without a reload, is read from the
// file as it is.)
func (n *Nginx) loadServed() (*upstreamsFile, error) {
	f, cur, err := n.load()
	if err != nil || !n.interrupted(cur) {
		return f, err
	}
	data, err := os.ReadFile(n.appliedPath())
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, n.errorf("read %s: %v", n.appliedPath(), err)
	}
	applied, err := parseUpstreams(string(data))
	if err != nil {
		return nil, n.errorf("%s: %v", n.appliedPath(), err)
	}
	return applied, nil
}

// interrupted reports whether the file holds a write whose reload never
// completed: the pending marker exists and matches the file.
func (n *Nginx) interrupted(file []byte) bool {
	pending, err := os.ReadFile(n.pendingPath())
	return err == nil && file != nil && bytes.Equal(pending, file)
}

// modify applies change to a copy of the file's content. Inside a Batch the result
// is kept for the end of the batch; otherwise it is committed with the writes
// that arrive meanwhile (groupCommit).
func (n *Nginx) modify(ctx context.Context, change func(*upstreamsFile) error) error {
	// Outside a batch a write must not wait for n.mu, which a commit holds for
	// its test and reload: it would join the next group late.
	if !n.batchOpen.Load() {
		return n.groupCommit(ctx, change)
	}
	n.mu.Lock()
	if n.pending != nil {
		defer n.mu.Unlock()
		next := n.pending.clone()
		if err := change(next); err != nil {
			return n.errorf("%v", err)
		}
		if _, err := next.render(n.String()); err != nil {
			return n.errorf("%v", err)
		}
		n.pending = next
		return nil
	}
	n.mu.Unlock()
	return n.groupCommit(ctx, change)
}

// String returns "nginx.NAME".
func (n *Nginx) String() string { return "nginx." + n.name }

// Batch runs fn with every write collected in memory, then writes the file, tests
// and reloads once. If fn fails nothing is written. Writes made by other goroutines
// while a batch is open join it. Batches do not nest.
func (n *Nginx) Batch(ctx context.Context, fn func() error) error {
	n.batchMu.Lock()
	defer n.batchMu.Unlock()
	n.mu.Lock()
	start, old, err := n.load()
	if err != nil {
		n.mu.Unlock()
		return err
	}
	n.pending = start
	n.batchOpen.Store(true)
	n.mu.Unlock()

	fnErr := fn()

	n.mu.Lock()
	defer n.mu.Unlock()
	result := n.pending
	n.pending = nil
	n.batchOpen.Store(false)
	if fnErr != nil {
		return fnErr
	}
	// The file may have been edited by hand meanwhile: never overwrite such an edit
	// with a batch computed from older content.
	now, err := os.ReadFile(n.file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n.errorf("read upstreams file: %v", err)
	}
	if !bytes.Equal(now, old) {
		return n.errorf("%s changed while a batch was open; nothing was written", n.file)
	}
	return n.commit(ctx, result, old)
}

// commit writes f, checks the whole configuration with the test command and
// reloads. If the test fails the previous file is put back and nginx is not
// reloaded. A file that nginx already serves as it is is neither tested nor
// reloaded; one written but never reloaded (a crash in between) is reloaded.
func (n *Nginx) commit(ctx context.Context, f *upstreamsFile, old []byte) error {
	data, err := f.render(n.String())
	if err != nil {
		return n.errorf("%v", err)
	}
	wasPending := n.interrupted(old)
	if old != nil && bytes.Equal(data, old) && !wasPending {
		return nil
	}
	if err := writeAtomic(n.pendingPath(), data); err != nil {
		return n.errorf("write %s: %v", n.pendingPath(), err)
	}
	if err := writeAtomic(n.file, data); err != nil {
		return n.errorf("write upstreams file: %v", err)
	}
	if out, err := n.run(ctx, n.test); err != nil {
		if rerr := n.restore(old, wasPending); rerr != nil {
			return n.errorf("%s rejected %s (%v): %s; restoring the previous file failed too: %v",
				strings.Join(n.test, " "), n.file, err, out, rerr)
		}
		return n.errorf("%s rejected %s, previous file restored, nginx not reloaded (%v): %s",
			strings.Join(n.test, " "), n.file, err, out)
	}
	if out, err := n.run(ctx, n.reload); err != nil {
		if rerr := n.restore(old, wasPending); rerr != nil {
			return n.errorf("%s failed (%v): %s; restoring the previous file failed too: %v",
				strings.Join(n.reload, " "), err, out, rerr)
		}
		return n.errorf("%s failed (%v): %s; previous file restored",
			strings.Join(n.reload, " "), err, out)
	}
	n.logger.Debug("reloaded nginx", "provider", n.String(), "file", n.file)
	if err := writeAtomic(n.appliedPath(), data); err != nil {
		return n.errorf("nginx reloaded, but recording what it serves failed: %v", err)
	}
	if err := os.Remove(n.pendingPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return n.errorf("nginx reloaded, but clearing %s failed: %v", n.pendingPath(), err)
	}
	return nil
}

// restore puts back the previous content, or removes a file that did not exist,
// and the pending marker as it was: old itself may never have been reloaded.
func (n *Nginx) restore(old []byte, oldPending bool) error {
	if oldPending {
		if err := writeAtomic(n.pendingPath(), old); err != nil {
			return err
		}
	} else {
		_ = os.Remove(n.pendingPath())
	}
	if old == nil {
		return os.Remove(n.file)
	}
	return writeAtomic(n.file, old)
}

// run runs a command and returns its trimmed combined output.
func (n *Nginx) run(ctx context.Context, argv []string) (string, error) {
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// writeAtomic replaces path with data through a temporary file in the same
// directory and a rename, keeping the mode of the file it replaces.
func writeAtomic(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
