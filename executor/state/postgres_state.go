package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// querier is what Load needs of a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Load reads the workspace's row of nonstop_state and folds in its journal
// rows. It does not need the lock.
func (b *Postgres) Load(octx context.Context) (*State, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, b.timedOut(octx, ctx, err)
	}
	s, err := b.readState(ctx, conn, false)
	if err != nil {
		return nil, b.timedOut(octx, ctx, b.lost(err))
	}
	if s == nil {
		s = NewState()
	}
	if s.Journal != nil {
		if s.Journal.Entries, err = b.readJournal(ctx, conn, s.Journal.ApplyID); err != nil {
			return nil, b.timedOut(octx, ctx, b.lost(err))
		}
	}
	if s.Audit, err = b.readAudit(ctx, conn); err != nil {
		return nil, b.timedOut(octx, ctx, b.lost(err))
	}
	if b.lockID != "" {
		b.journalApply = s.Journal.applyID()
	}
	return s, nil
}

// readState returns the stored state, nil when there is none; forUpdate locks
// the row until the transaction ends.
func (b *Postgres) readState(ctx context.Context, q querier, forUpdate bool) (*State, error) {
	sql := `SELECT state::text FROM nonstop_state WHERE workspace = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	var data string
	err := q.QueryRow(ctx, sql, b.workspace).Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	s := &State{}
	if err := json.Unmarshal([]byte(data), s); err != nil {
		return nil, fmt.Errorf("read state of %s: %w", b.where, err)
	}
	if s.Version > FormatVersion {
		return nil, fmt.Errorf("state of %s has format version %d; this nonstop reads up to version %d: upgrade nonstop", b.where, s.Version, FormatVersion)
	}
	if s.Deployed == nil {
		s.Deployed = map[string]map[string]string{}
	}
	return s, nil
}

// readJournal returns the journal entries of applyID in the order appended.
func (b *Postgres) readJournal(ctx context.Context, q querier, applyID string) ([]JournalEntry, error) {
	rows, err := q.Query(ctx, `SELECT entry::text FROM nonstop_journal
		WHERE workspace = $1 AND apply_id = $2 ORDER BY seq`, b.workspace, applyID)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer rows.Close()
	var entries []JournalEntry
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		var e JournalEntry
		if err := json.Unmarshal([]byte(data), &e); err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		entries = append(entries, e)
	}
	return entries, rows.Err()
}

// Save writes s and its journal in one transaction, after checking under a row
// lock that the stored serial is the one s was loaded at.
func (b *Postgres) Save(octx context.Context, s *State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockID == "" {
		return fmt.Errorf("save state: %w", ErrNotLocked)
	}
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	var next *State
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		stored, err := b.readState(ctx, tx, true)
		if err != nil {
			return err
		}
		if next, err = prepareSave(s, stored); err != nil {
			return err
		}
		data, err := json.Marshal(next)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO nonstop_state (workspace, serial, lineage, state)
			VALUES ($1, $2, $3, $4::jsonb)
			ON CONFLICT (workspace) DO UPDATE
			SET serial = EXCLUDED.serial, lineage = EXCLUDED.lineage, state = EXCLUDED.state, updated_at = now()`,
			b.workspace, next.Serial, next.Lineage, string(data))
		if err != nil {
			return fmt.Errorf("write state: %w", err)
		}
		var storedJournal *Journal
		if stored != nil {
			storedJournal = stored.Journal
		}
		return b.saveJournal(ctx, tx, s.Journal, storedJournal.applyID())
	})
	if err != nil {
		return b.timedOut(octx, ctx, b.lost(err))
	}
	b.journalApply = s.Journal.applyID()
	afterSave(s, next)
	return nil
}

// saveJournal makes nonstop_journal hold j's journal, inside Save's transaction.
func (b *Postgres) saveJournal(ctx context.Context, tx pgx.Tx, j *Journal, storedApply string) error {
	if j != nil && j.ApplyID == storedApply {
		return nil
	}
	if _, err := tx.Exec(ctx, `DELETE FROM nonstop_journal WHERE workspace = $1`, b.workspace); err != nil {
		return fmt.Errorf("drop journal: %w", err)
	}
	// Resumes belong to the apply they were given to: none outlives it.
	if _, err := tx.Exec(ctx, `DELETE FROM nonstop_resumes WHERE workspace = $1`, b.workspace); err != nil {
		return fmt.Errorf("drop resumes: %w", err)
	}
	if j == nil {
		return nil
	}
	for _, e := range j.Entries {
		if err := insertJournal(ctx, tx, b.workspace, j.ApplyID, e); err != nil {
			return err
		}
	}
	return nil
}

// AppendJournal inserts e as a journal row; the insert is committed (and so
// durable) when it returns.
func (b *Postgres) AppendJournal(octx context.Context, e JournalEntry) error {
	if err := checkJournalEntry(e); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockID == "" {
		return fmt.Errorf("append to journal: %w", ErrNotLocked)
	}
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	if b.journalApply == "" {
		return ErrNoJournal
	}
	if e.At.IsZero() {
		e.At = time.Now().UTC()
	}
	return b.timedOut(octx, ctx, b.lost(insertJournal(ctx, conn, b.workspace, b.journalApply, e)))
}

// lost marks err as ErrLockLost when it closed the connection holding the lock.
func (b *Postgres) lost(err error) error {
	if err != nil && b.lockID != "" && b.conn != nil && b.conn.IsClosed() && !errors.Is(err, ErrLockLost) {
		return b.lostSession(err)
	}
	return err
}

// execer is what insertJournal needs of a connection or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertJournal(ctx context.Context, x execer, workspace, applyID string, e JournalEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = x.Exec(ctx, `INSERT INTO nonstop_journal (workspace, apply_id, entry) VALUES ($1, $2, $3::jsonb)`,
		workspace, applyID, string(data))
	if err != nil {
		return fmt.Errorf("append to journal: %w", err)
	}
	return nil
}

var _ Backend = (*Postgres)(nil)
