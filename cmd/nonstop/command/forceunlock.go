package command

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
)

const forceUnlockHelp = `
Usage: nonstop force-unlock [options] LOCK_ID [DIR]

  Removes the state lock with LOCK_ID (printed by the apply that could not
  take it) from the state backend of the configuration in DIR (default: the
  current directory). It asks for confirmation unless -force is given; when
  stdin is not a terminal, -force is required.

  Both backends release the lock of a process that died, so force-unlock is
  rarely needed. On the local backend a lock held by a running process cannot
  be broken: stop that process. On postgres the holder's database session is
  ended; a running apply checks its lock before every step and twice a
  second, so it stops within about half a second, before its next write to a
  live system, and writes no state. A wrong LOCK_ID is refused.

  A lock removed is recorded in the state's audit log: who removed it, when,
  and who held it for what (history and state show list it).

Exit codes:
  0  the lock was removed
  1  it was not (a live holder, a wrong ID, no confirmation), or the command
     was used wrongly
`

var forceUnlockCommand = &Command{
	Name:     "force-unlock",
	Synopsis: "Release a stuck state lock",
	Help:     forceUnlockHelp,
	Run:      runForceUnlock,
}

func runForceUnlock(m *Meta, args []string) int {
	fs := m.FlagSet("force-unlock", forceUnlockHelp)
	force := fs.Bool("force", false, "do not ask for confirmation")
	var vars VarFlags
	vars.Register(fs)
	pos, code, done := m.parseInterleaved(fs, args)
	if done {
		return code
	}
	if len(pos) == 0 || len(pos) > 2 {
		fmt.Fprintf(m.Stderr, "Error: force-unlock takes a lock ID and at most one directory, got %d arguments.\n\n", len(pos))
		fs.Usage()
		return 1
	}
	id, dir := pos[0], "."
	if len(pos) == 2 {
		dir = pos[1]
	}
	b, ok := m.openStateBackend(dir, vars)
	if !ok {
		return 1
	}
	defer b.Close()

	if !*force {
		if !m.stdinIsTerminal() {
			fmt.Fprintln(m.Stderr, "Error: force-unlock needs confirmation, and stdin is not a terminal: add -force.")
			return 1
		}
		question, detail, _ := strings.Cut(state.ForceUnlockWarning, "\n")
		if !m.confirm(question, detail) {
			fmt.Fprintln(m.Stdout, "\nForce-unlock cancelled.")
			return 1
		}
	}
	entry, err := forceUnlockEntry(b, id)
	if err == nil {
		err = b.ForceUnlock(id)
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "Error: failed to unlock the state: %v\n", err)
		return 1
	}
	m.audit(b, entry)
	fmt.Fprintln(m.Stdout, m.colorize("\x1b[1;32m", "nonstop state has been successfully unlocked!")+`

The state has been unlocked, and nonstop commands should now be able to
obtain a new lock on it.`)
	return 0
}

// forceUnlockEntry is the audit entry of breaking lock id of b: the holder as
// recorded in its lock info, and the apply whose journal the state holds. A
// backend that cannot say who holds the lock cannot break it either: its error
// is returned. A state that cannot be read leaves the apply out.
func forceUnlockEntry(b state.Backend, id string) (state.AuditEntry, error) {
	e := state.AuditEntry{Action: state.AuditForceUnlock, LockID: id}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the backend bounds each call
	defer cancel()
	li, err := state.ReadLockInfo(ctx, b)
	if err != nil {
		return e, err
	}
	if li != nil && li.ID == id {
		e.Holder = li
	}
	if st, err := b.Load(ctx); err == nil && st.Journal != nil {
		e.ApplyID = st.Journal.ApplyID
	}
	return e, nil
}
