package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// FormatVersion is the version of the state format this package writes. Load
// refuses state written in a newer format.
const FormatVersion = 1

// Release results recorded in History.
const (
	ResultSuccess     = "success"
	ResultFailed      = "failed"
	ResultRolledBack  = "rolled_back"
	ResultInterrupted = "interrupted"
)

// Journal events recorded per step.
const (
	EventStart = "start"
	EventEnd   = "end"
	EventError = "error"
	// EventProcess records the process group a running deploy step started
	// (JournalEntry.PGID), so that an apply after a crash finds it.
	EventProcess = "process"
)

// State is everything nonstop keeps between runs for one configuration.
type State struct {
	// Version is the format version, FormatVersion once saved.
	Version int `json:"version"`
	// Serial increases by one with every Save; Save refuses a State whose Serial
	// is not the stored one (someone else saved in between).
	Serial int64 `json:"serial"`
	// Lineage identifies one state's history; it is set on the first Save and
	// never changes, so states of different configurations cannot be mixed up.
	Lineage string `json:"lineage"`

	// ConfigHash and Commit identify the configuration last applied.
	ConfigHash string    `json:"config_hash,omitempty"`
	Commit     string    `json:"commit,omitempty"`
	AppliedAt  time.Time `json:"applied_at,omitzero"`

	// Deployed maps service → instance address → the version nonstop last
	// deployed there.
	Deployed map[string]map[string]string `json:"deployed"`
	// History lists releases, oldest first.
	History []Release `json:"history,omitempty"`
	// Journal is the journal of a running or interrupted apply; nil when the
	// last apply finished.
	Journal *Journal `json:"journal,omitempty"`
	// Recovery holds, by service, what interrupted applies left unproven: the
	// next plans repeat the waits of its instances and check its tainted ones
	// again, until an apply of the service completes.
	Recovery map[string]*Recovery `json:"recovery,omitempty"`
	// Audit lists, oldest first, the newest MaxAudit actions taken on the state
	// outside an apply: force-unlock and resume (an apply's own record is its
	// releases in History). Backends keep it apart from the rest of the state,
	// appended without the lock (AppendAudit); Save does not write it.
	Audit []AuditEntry `json:"audit,omitempty"`
}

// Recovery is what an interrupted apply left unproven for one service.
type Recovery struct {
	// Since is when the first interrupted apply of these touched the service.
	Since time.Time `json:"since"`
	// Tainted lists, sorted, the instances whose deploy began but whose health
	// and verify gates never passed: nothing may route to them before they do.
	Tainted []string `json:"tainted,omitempty"`
}

// Release is one service's release by one apply.
type Release struct {
	ID       string    `json:"id"`
	Service  string    `json:"service"`
	From     string    `json:"from,omitempty"`
	To       string    `json:"to"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Result is one of ResultSuccess, ResultFailed, ResultRolledBack and
	// ResultInterrupted.
	Result string `json:"result"`
	Commit string `json:"commit,omitempty"`
	// By is who ran the apply (Actor: NONSTOP_ACTOR, the CI's user, else
	// user@host) and RunURL the CI run it ran in, when a CI says (RunURL).
	By     string `json:"by,omitempty"`
	RunURL string `json:"run_url,omitempty"`
	// PlanHash is the hex SHA-256 of the applied plan's JSON: the "sha256" that
	// plan -out records in a plan file, so a release names the plan reviewed.
	PlanHash string `json:"plan_hash,omitempty"`
	// FailedStep is the step of the service that failed and Error why (first
	// line, sensitive values redacted).
	FailedStep string `json:"failed_step,omitempty"`
	Error      string `json:"error,omitempty"`
	// OnFailure is the on_failure policy that ran after the failure ("rollback"
	// or "pause"); RollbackSucceeded, set when a rollback ran, says whether it
	// brought every instance back, and RollbackError why not.
	OnFailure         string `json:"on_failure,omitempty"`
	RollbackSucceeded *bool  `json:"rollback_succeeded,omitempty"`
	RollbackError     string `json:"rollback_error,omitempty"`
	// Timeline is the release's story as the apply recorded it (executor.Timeline
	// as JSON: steps, traffic read back per pool, gates, rollbacks), for
	// `nonstop history -report`. Only the newest releases keep one.
	Timeline json.RawMessage `json:"timeline,omitempty"`
}

// Journal records the steps of one apply as they run, so that the next apply
// can tell that this one was interrupted and where.
type Journal struct {
	ApplyID     string    `json:"apply_id"`
	Started     time.Time `json:"started"`
	PlanSummary string    `json:"plan_summary,omitempty"`
	// Entries are the entries appended with AppendJournal, in order. Backends
	// keep them apart from the rest of the state, so appending stays cheap.
	Entries []JournalEntry `json:"entries,omitempty"`
}

// JournalEntry is one event of one plan step.
type JournalEntry struct {
	StepID string `json:"step_id"`
	Kind   string `json:"kind"`
	Target string `json:"target,omitempty"`
	// Address is the instance the step acts on, when it acts on one.
	Address string `json:"address,omitempty"`
	// Event is one of EventStart, EventEnd, EventError and EventProcess.
	Event string    `json:"event"`
	Error string    `json:"error,omitempty"`
	At    time.Time `json:"at"`
	// PGID is the process group of a deploy (EventProcess).
	PGID int `json:"pgid,omitempty"`
}

// NewState returns the empty state a backend loads before anything was saved.
func NewState() *State {
	return &State{Version: FormatVersion, Deployed: map[string]map[string]string{}}
}

// SetDeployed records that version was deployed to address of service.
func (s *State) SetDeployed(service, address, version string) {
	if s.Deployed == nil {
		s.Deployed = map[string]map[string]string{}
	}
	if s.Deployed[service] == nil {
		s.Deployed[service] = map[string]string{}
	}
	s.Deployed[service][address] = version
}

// header returns a copy of j without its entries: the part of the journal kept
// with the state itself.
func (j *Journal) header() *Journal {
	if j == nil {
		return nil
	}
	h := *j
	h.Entries = nil
	return &h
}

// applyID returns j's apply ID, or "" for no journal.
func (j *Journal) applyID() string {
	if j == nil {
		return ""
	}
	return j.ApplyID
}

// checkJournalEntry reports what is wrong with e, if anything.
func checkJournalEntry(e JournalEntry) error {
	switch e.Event {
	case EventStart, EventEnd, EventError, EventProcess:
	default:
		return fmt.Errorf("journal entry for step %q: event %q is not start, end or error", e.StepID, e.Event)
	}
	if e.StepID == "" {
		return fmt.Errorf("journal entry has no step id")
	}
	return nil
}

// prepareSave checks s against the stored state (nil when none) and returns the
// state to write: a copy with the next serial, the lineage and format version set
// and the journal reduced to its header.
func prepareSave(s *State, stored *State) (*State, error) {
	if s.Journal != nil && s.Journal.ApplyID == "" {
		return nil, fmt.Errorf("state journal has no apply id")
	}
	next := *s
	next.Version = FormatVersion
	if stored != nil {
		if stored.Version > FormatVersion {
			return nil, fmt.Errorf("stored state has format version %d; this nonstop writes version %d: upgrade nonstop", stored.Version, FormatVersion)
		}
		if s.Lineage != stored.Lineage {
			return nil, fmt.Errorf("%w: stored state has lineage %q, saving lineage %q", ErrStale, stored.Lineage, s.Lineage)
		}
		if s.Serial != stored.Serial {
			return nil, fmt.Errorf("%w: stored serial is %d, saving a state loaded at serial %d", ErrStale, stored.Serial, s.Serial)
		}
	} else {
		if s.Serial != 0 {
			return nil, fmt.Errorf("%w: no state is stored, saving a state loaded at serial %d", ErrStale, s.Serial)
		}
		if next.Lineage == "" {
			next.Lineage = newID()
		}
	}
	next.Serial = s.Serial + 1
	if next.Deployed == nil {
		next.Deployed = map[string]map[string]string{}
	}
	next.Journal = s.Journal.header()
	next.Audit = nil // kept apart, appended with AppendAudit
	return &next, nil
}

// afterSave copies what Save decided back into the caller's state.
func afterSave(s, saved *State) {
	s.Version, s.Serial, s.Lineage = saved.Version, saved.Serial, saved.Lineage
}

// newID returns a random UUID (version 4) string.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
