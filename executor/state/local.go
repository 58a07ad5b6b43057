package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/zclconf/go-cty/cty"
)

// File names in a local state directory.
const (
	localStateFile   = "state.json"
	localBackupFile  = "state.json.backup"
	localLockFile    = "lock"
	localLockInfo    = "lock.json"
	localJournalFile = "journal.jsonl"
)

// Local keeps state in a directory: state.json (written atomically, the
// previous one kept as state.json.backup), journal.jsonl (the running apply's
// journal, appended and fsynced entry by entry) and the lock — an exclusive
// flock(2) on the file "lock" plus lock.json describing the holder. The kernel
// drops a flock when its holder exits, however it exits, so a crashed apply
// leaves no lock behind; only a stale lock.json, which the next Lock overwrites.
//
// The directory must be on a local file system; flock over network file
// systems is not relied upon.
type Local struct {
	dir string

	mu       sync.Mutex
	lockFile *os.File // open and flocked while the lock is held
	lockID   string
	journal  *os.File // journal.jsonl opened for appending, while locked
	// journalApply is the apply ID appended entries belong to.
	journalApply string
}

// openLocal opens a local backend: attribute "path", default ".nonstop",
// relative to the configuration directory dir.
func openLocal(attrs map[string]cty.Value, dir string) (Backend, error) {
	if err := checkAttrs("local", attrs, "path"); err != nil {
		return nil, err
	}
	path, err := stringAttr("local", attrs, "path", ".nonstop")
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, fmt.Errorf("state \"local\": path must not be empty")
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return NewLocal(path), nil
}

// NewLocal returns a local backend keeping its files in dir, which is created
// on first Lock.
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// Dir returns the state directory.
func (b *Local) Dir() string { return b.dir }

func (b *Local) path(name string) string { return filepath.Join(b.dir, name) }

// Lock takes the flock on the lock file, retrying until ctx ends, and writes
// lock.json. A second Lock on the same Local without Unlock is an error.
func (b *Local) Lock(ctx context.Context, info *LockInfo) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockFile != nil {
		return "", fmt.Errorf("this process already holds the state lock %s", b.lockID)
	}
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return "", fmt.Errorf("create state directory: %w", err)
	}
	li := prepareLockInfo(info, b.path(localLockFile))
	f, err := os.OpenFile(li.Path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", fmt.Errorf("open lock file: %w", err)
	}
	err = pollLock(ctx, func() (bool, *LockInfo, error) {
		ok, err := tryFlock(f)
		if err != nil || ok {
			return ok, nil, err
		}
		return false, b.readLockInfo(), nil
	})
	if err != nil {
		f.Close()
		return "", err
	}
	data, _ := json.MarshalIndent(li, "", "  ")
	if err := writeFileAtomic(b.path(localLockInfo), append(data, '\n')); err != nil {
		f.Close() // closing drops the flock
		return "", fmt.Errorf("write lock info: %w", err)
	}
	b.lockFile, b.lockID = f, li.ID
	return li.ID, nil
}

// tryFlock takes an exclusive flock on f without blocking; false means someone
// else holds it.
func tryFlock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, fmt.Errorf("flock %s: %w", f.Name(), err)
		}
	}
}

// readLockInfo returns the lock info in lock.json, or as much as is known when
// it cannot be read (a holder that has not written it yet).
func (b *Local) readLockInfo() *LockInfo {
	li := &LockInfo{}
	data, err := os.ReadFile(b.path(localLockInfo))
	if err == nil {
		err = json.Unmarshal(data, li)
	}
	if err != nil {
		li = &LockInfo{Info: fmt.Sprintf("lock info unreadable: %v", err)}
	}
	li.Path = b.path(localLockFile)
	return li
}

// Unlock removes lock.json and drops the flock.
func (b *Local) Unlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.unlockLocked(id)
}

func (b *Local) unlockLocked(id string) error {
	if b.lockFile == nil {
		return fmt.Errorf("cannot unlock %s: %w by this process", id, ErrNotLocked)
	}
	if id != b.lockID {
		return fmt.Errorf("lock ID %q does not match the held lock %q", id, b.lockID)
	}
	// lock.json goes first, while the flock still keeps others out; only our
	// own: a lock.json naming another lock is not ours to remove.
	errInfo := b.verifyLocked()
	if errInfo == nil {
		errInfo = os.Remove(b.path(localLockInfo))
		if errors.Is(errInfo, os.ErrNotExist) {
			errInfo = nil
		}
	}
	if b.journal != nil {
		b.journal.Close()
	}
	syscall.Flock(int(b.lockFile.Fd()), syscall.LOCK_UN)
	errClose := b.lockFile.Close()
	b.lockFile, b.lockID, b.journal, b.journalApply = nil, "", nil, ""
	return errors.Join(errInfo, errClose)
}

// CheckLock reports whether this backend still holds its lock: the lock file
// at the state directory's path is still the one it flocked, and lock.json
// still names its lock. A flock cannot be taken from a running holder, but the
// files can be removed or replaced under it (a deleted state directory, a lock
// file recreated by hand), and then another process can lock the new file.
func (b *Local) CheckLock(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockFile == nil {
		return fmt.Errorf("check the state lock: %w", ErrNotLocked)
	}
	return b.verifyLocked()
}

// verifyLocked checks, for a backend holding the flock, that its lock file and
// lock.json are still in place; an error wraps ErrLockLost. b.mu is held.
func (b *Local) verifyLocked() error {
	path := b.path(localLockFile)
	held, err := b.lockFile.Stat()
	if err != nil {
		return fmt.Errorf("%w: cannot stat the lock file %s: %v", ErrLockLost, path, err)
	}
	now, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: the lock file %s was removed", ErrLockLost, path)
	case err != nil:
		return fmt.Errorf("%w: cannot stat the lock file %s: %v", ErrLockLost, path, err)
	case !os.SameFile(held, now):
		return fmt.Errorf("%w: the lock file %s was replaced by another file", ErrLockLost, path)
	}
	info := b.path(localLockInfo)
	data, err := os.ReadFile(info)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w: the lock info %s was removed", ErrLockLost, info)
	}
	if err != nil {
		return fmt.Errorf("%w: cannot read the lock info %s: %v", ErrLockLost, info, err)
	}
	var li LockInfo
	if err := json.Unmarshal(data, &li); err != nil {
		return fmt.Errorf("%w: the lock info %s was overwritten: %v", ErrLockLost, info, err)
	}
	if li.ID != b.lockID {
		return fmt.Errorf("%w: the lock info %s now names lock %s (%s, %s), not %s", ErrLockLost, info, li.ID, li.Who, li.Operation, b.lockID)
	}
	return nil
}

// ForceUnlock removes lock.json when its ID is id and no live process holds
// the flock. A flock held by a running process cannot be broken from outside:
// ForceUnlock then fails, naming the holder, and that process has to be
// stopped (its lock goes with it). Since a dead holder's flock is already gone
// and the next Lock overwrites its lock.json, ForceUnlock on a local backend
// only tidies up; it is never needed to make progress.
func (b *Local) ForceUnlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockFile != nil && b.lockID == id {
		return b.unlockLocked(id)
	}
	data, err := os.ReadFile(b.path(localLockInfo))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no lock info at %s: the state is not locked", b.path(localLockInfo))
	}
	if err != nil {
		return err
	}
	var held LockInfo
	if err := json.Unmarshal(data, &held); err != nil {
		return fmt.Errorf("read %s: %w", b.path(localLockInfo), err)
	}
	if held.ID != id {
		return fmt.Errorf("lock ID %q does not match the existing lock ID %q", id, held.ID)
	}
	f, err := os.OpenFile(b.path(localLockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close() // drops our flock, if taken
	ok, err := tryFlock(f)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("lock %s is held by a running process (%s, %s since %s): a local lock is released when its holder exits; stop that process instead",
			id, held.Who, held.Operation, held.Created.Format("2006-01-02 15:04:05 MST"))
	}
	return os.Remove(b.path(localLockInfo))
}

// Close releases the lock if this backend holds it.
func (b *Local) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockFile != nil {
		return b.unlockLocked(b.lockID)
	}
	return nil
}

var _ Backend = (*Local)(nil)
