package state

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/zclconf/go-cty/cty"
)

// Backend keeps state and its lock.
//
// Load may be called without the lock (to show history, say); Save and
// AppendJournal need it. A Backend's methods are safe for concurrent use, so
// steps running in parallel may append to the journal at the same time.
type Backend interface {
	// Lock takes the state lock for the operation described by info and returns
	// its ID. It retries until ctx ends (its deadline is -lock-timeout; a ctx
	// without deadline means one try) and then returns a *LockError holding the
	// holder's info.
	Lock(ctx context.Context, info *LockInfo) (id string, err error)
	// Unlock releases the lock this Backend took with ID id.
	Unlock(id string) error
	// ForceUnlock breaks the lock with ID id, whoever holds it. See each
	// backend for what that means for a holder that is still running.
	ForceUnlock(id string) error

	// Load returns the stored state with its journal entries folded into
	// State.Journal; an empty state (NewState) when none was saved yet.
	Load(ctx context.Context) (*State, error)
	// Save stores s, which must have been loaded from this backend (its Serial
	// is the stored serial, else ErrStale), and sets s.Serial to the new serial.
	// It needs the lock. A journal with a new apply ID replaces the stored one,
	// seeded with s.Journal.Entries; the same apply ID keeps the stored entries;
	// a nil journal drops them.
	Save(ctx context.Context, s *State) error
	// AppendJournal adds e to the journal started by the last Save, durably,
	// before it returns. It needs the lock.
	AppendJournal(ctx context.Context, e JournalEntry) error
	// CheckLock reports whether the lock this Backend took is still its own:
	// nil when it is, an error wrapping ErrLockLost when it was broken
	// (force-unlocked, its database session ended, its lock file replaced),
	// ErrNotLocked when this Backend holds none, and another error when it
	// cannot tell in time. It is cheap enough to call before every step of an
	// apply (a few file system calls, or one round trip to the database), and
	// bounded like every call of a Backend.
	CheckLock(ctx context.Context) error
	// Close releases the lock if held and frees the backend's resources.
	Close() error
}

var (
	// ErrNotLocked is returned by Save and AppendJournal called without the lock.
	ErrNotLocked = errors.New("the state lock is not held")
	// ErrLockLost is returned by CheckLock, Save, AppendJournal and Unlock when
	// the lock this Backend took was taken from it: the postgres session that
	// held it ended (force-unlock, a restarted database, a cut connection), or
	// the local lock file or its lock info were replaced. Whoever holds the
	// lock now may be writing; the holder that lost it must stop writing.
	ErrLockLost = errors.New("the state lock is no longer held by this process")
	// ErrStale is returned by Save when the stored state changed since s was loaded.
	ErrStale = errors.New("state changed since it was loaded")
	// ErrNoJournal is returned by AppendJournal when no journal was started.
	ErrNoJournal = errors.New("no apply journal is started: save a state with a Journal first")
)

// opener opens one kind of backend from its attributes; dir is the
// configuration directory that relative paths are resolved against.
type opener func(attrs map[string]cty.Value, dir string) (Backend, error)

var kinds = map[string]opener{
	"local":    openLocal,
	"postgres": openPostgres,
}

// Kinds returns the backend kinds Open knows, sorted.
func Kinds() []string {
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// Open opens the backend of the given kind with the evaluated attributes of its
// state block; dir is the configuration directory. Kind "" means the default,
// state "local" { path = ".nonstop" }. Open connects to nothing: connections
// are made on first use.
func Open(kind string, attrs map[string]cty.Value, dir string) (Backend, error) {
	if kind == "" {
		kind = "local"
	}
	open, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("unknown state backend %q (known: %v)", kind, Kinds())
	}
	return open(attrs, dir)
}

// stringAttr returns the string attribute name of attrs, def when absent or null.
func stringAttr(kind string, attrs map[string]cty.Value, name, def string) (string, error) {
	v, ok := attrs[name]
	if !ok || v == cty.NilVal || v.IsNull() {
		return def, nil
	}
	if !v.IsKnown() || v.Type() != cty.String {
		return "", fmt.Errorf("state %q: attribute %q must be a known string", kind, name)
	}
	return v.AsString(), nil
}

// checkAttrs reports attributes of attrs not in allowed.
func checkAttrs(kind string, attrs map[string]cty.Value, allowed ...string) error {
	for name := range attrs {
		found := false
		for _, a := range allowed {
			found = found || a == name
		}
		if !found {
			return fmt.Errorf("state %q has no attribute %q (allowed: %v)", kind, name, allowed)
		}
	}
	return nil
}
