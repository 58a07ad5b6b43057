package executor

import (
	"context"

	"github.com/nonstop-release/nonstop/executor/state"
)

// BackendJournal adapts a state backend's AppendJournal to a Journal. The caller
// holds the backend's lock and has saved a state with a started Journal (the
// backend refuses entries otherwise, which aborts the apply).
func BackendJournal(b state.Backend) Journal {
	return JournalFunc(func(ctx context.Context, e JournalEntry) error {
		return b.AppendJournal(ctx, state.JournalEntry{
			StepID: e.StepID, Kind: e.Kind, Target: e.Target, Address: e.Address, Event: e.Event, Error: e.Error, At: e.At, PGID: e.PGID,
		})
	})
}
