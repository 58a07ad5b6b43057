package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// AppendAudit inserts e into nonstop_audit; committed when it returns. It
// needs no lock.
func (b *Postgres) AppendAudit(octx context.Context, e AuditEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return b.timedOut(octx, ctx, err)
	}
	_, err = conn.Exec(ctx, `INSERT INTO nonstop_audit (workspace, entry) VALUES ($1, $2::jsonb)`, b.workspace, string(data))
	if err != nil {
		return b.timedOut(octx, ctx, b.lost(fmt.Errorf("append to the audit log: %w", err)))
	}
	return nil
}

// readAudit returns the workspace's newest MaxAudit audit entries, oldest first.
func (b *Postgres) readAudit(ctx context.Context, q querier) ([]AuditEntry, error) {
	rows, err := q.Query(ctx, `SELECT entry::text FROM (
		SELECT entry, seq FROM nonstop_audit WHERE workspace = $1 ORDER BY seq DESC LIMIT $2) newest
		ORDER BY seq`, b.workspace, MaxAudit)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		var e AuditEntry
		if json.Unmarshal([]byte(data), &e) == nil && e.Action != "" {
			out = append(out, e)
		}
	}
	return out, rows.Err()
}

// AddResume inserts the resume into nonstop_resumes, in one statement that
// checks that the state's journal is applyID's: a resume never outlives the
// apply it was given to. It needs no lock.
func (b *Postgres) AddResume(octx context.Context, applyID, step string) error {
	if applyID == "" || step == "" {
		return fmt.Errorf("a resume needs an apply id and a step id")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return b.timedOut(octx, ctx, err)
	}
	tag, err := conn.Exec(ctx, `INSERT INTO nonstop_resumes (workspace, apply_id, step_id, given_at)
		SELECT $1, $2, $3, $4 WHERE EXISTS (
			SELECT 1 FROM nonstop_state WHERE workspace = $1 AND state->'journal'->>'apply_id' = $2)`,
		b.workspace, applyID, step, time.Now().UTC())
	if err != nil {
		return b.timedOut(octx, ctx, b.lost(fmt.Errorf("record the resume: %w", err)))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("apply %s is no longer the apply in progress at %s: it ended, or another apply started", applyID, b.where)
	}
	return nil
}

// Resumes returns the steps resumed for applyID, in the order given: one query,
// bounded by the statement timeout.
func (b *Postgres) Resumes(octx context.Context, applyID string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, b.timedOut(octx, ctx, err)
	}
	rows, err := conn.Query(ctx, `SELECT step_id FROM nonstop_resumes
		WHERE workspace = $1 AND apply_id = $2 ORDER BY seq`, b.workspace, applyID)
	if err != nil {
		return nil, b.timedOut(octx, ctx, b.lost(fmt.Errorf("read resumes: %w", err)))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var step string
		if err := rows.Scan(&step); err != nil {
			return nil, b.timedOut(octx, ctx, b.lost(fmt.Errorf("read resumes: %w", err)))
		}
		out = append(out, step)
	}
	if err := rows.Err(); err != nil {
		return nil, b.timedOut(octx, ctx, b.lost(fmt.Errorf("read resumes: %w", err)))
	}
	return out, nil
}

// readLockInfo returns the lock info recorded in nonstop_locks, nil when none.
func (b *Postgres) readLockInfo(octx context.Context) (*LockInfo, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, b.timedOut(octx, ctx, err)
	}
	li, err := b.lockRow(ctx, conn)
	return li, b.timedOut(octx, ctx, err)
}

var (
	_ Auditor = (*Postgres)(nil)
	_ Resumer = (*Postgres)(nil)
)
