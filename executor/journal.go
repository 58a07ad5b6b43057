package executor

import (
	"context"
	"time"
)

// Journal events.
const (
	JournalStart   = "start"
	JournalEnd     = "end"
	JournalError   = "error"
	JournalProcess = "process" // a deploy's process group, in PGID
)

// JournalEntry is one line of the apply journal: a step starting, ending or failing.
// It mirrors the state backend's entry so an adapter is a field-by-field copy.
type JournalEntry struct {
	StepID  string
	Kind    string
	Target  string
	Address string // the instance the step acts on, "" for none
	Event   string // JournalStart, JournalEnd, JournalError or JournalProcess
	Error   string
	At      time.Time
	PGID    int // JournalProcess: the deploy's process group
}

// Journal durably records step entries. The state backend satisfies it through an
// adapter (its AppendJournal); a Record error aborts the apply, because an apply
// whose progress cannot be recorded cannot be recovered safely.
type Journal interface {
	Record(ctx context.Context, e JournalEntry) error
}

// JournalFunc adapts a function to a Journal, e.g. a state backend's AppendJournal.
type JournalFunc func(ctx context.Context, e JournalEntry) error

// Record calls f.
func (f JournalFunc) Record(ctx context.Context, e JournalEntry) error { return f(ctx, e) }
