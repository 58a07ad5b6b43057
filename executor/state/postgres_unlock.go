package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Unlock deletes the lock info and releases the advisory lock.
func (b *Postgres) Unlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.unlockLocked(id)
}

func (b *Postgres) unlockLocked(id string) error {
	if b.lockID == "" {
		return fmt.Errorf("cannot unlock %s: %w by this process", id, ErrNotLocked)
	}
	if id != b.lockID {
		return fmt.Errorf("lock ID %q does not match the held lock %q", id, b.lockID)
	}
	b.lockID, b.journalApply = "", ""
	if b.conn == nil || b.conn.IsClosed() {
		return b.lostSession(nil)
	}
	ctx, cancel := b.detached(context.Background())
	defer cancel()
	// The row goes first, while the advisory lock still keeps others out.
	_, err := b.conn.Exec(ctx, `DELETE FROM nonstop_locks WHERE workspace = $1 AND id = $2`, b.workspace, id)
	if err != nil {
		// Ending the session is the sure way to drop the advisory lock.
		lost := b.conn.IsClosed()
		b.conn.Close(ctx)
		if lost {
			return b.lostSession(err)
		}
		return fmt.Errorf("delete lock info: %w", err)
	}
	var released bool
	err = b.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1, $2)`, advisoryNamespace, b.key).Scan(&released)
	if err != nil || !released {
		b.conn.Close(ctx)
		return b.lostSession(err)
	}
	return nil
}

// CheckLock asks the database, on the connection holding the lock, whether
// that session still holds the advisory lock and nonstop_locks still names
// this lock. A session that ended (force-unlock, a restarted database, a cut
// connection) fails the query; a lock row naming another lock means the lock
// was broken and taken. One round trip, bounded by the statement timeout.
func (b *Postgres) CheckLock(octx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockID == "" {
		return fmt.Errorf("check the state lock: %w", ErrNotLocked)
	}
	if b.conn == nil || b.conn.IsClosed() {
		return b.lostSession(nil)
	}
	ctx, cancel := b.bounded(octx)
	defer cancel()
	var held bool
	var rowID *string
	err := b.conn.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()
			AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2),
		(SELECT id FROM nonstop_locks WHERE workspace = $3)`,
		advisoryNamespace, b.key, b.workspace).Scan(&held, &rowID)
	switch {
	case err != nil && b.conn.IsClosed():
		return b.lostSession(err)
	case err != nil:
		return b.timedOut(octx, ctx, fmt.Errorf("cannot confirm the state lock at %s: %w", b.where, err))
	case !held:
		return fmt.Errorf("%w: the database session at %s no longer holds the advisory lock", ErrLockLost, b.where)
	case rowID == nil:
		return fmt.Errorf("%w: the lock info of %s was removed (force-unlock?)", ErrLockLost, b.where)
	case *rowID != b.lockID:
		return fmt.Errorf("%w: the lock info of %s now names lock %s", ErrLockLost, b.where, *rowID)
	}
	return nil
}

// ForceUnlock breaks the lock with ID id. When another session holds it, that
// session is ended with pg_terminate_backend — which needs superuser or the
// pg_signal_backend role, or the same database role as the holder — so the
// server drops the advisory lock; the holder's next statement fails with
// ErrLockLost instead of writing state it no longer owns. When no session holds
// it (the holder died), only the stale lock info is removed.
func (b *Postgres) ForceUnlock(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockID != "" && b.lockID == id {
		return b.unlockLocked(id)
	}
	ctx, cancel := b.detached(context.Background())
	defer cancel()
	return b.timedOut(context.Background(), ctx, b.forceUnlock(ctx, id))
}

func (b *Postgres) forceUnlock(ctx context.Context, id string) error {
	conn, err := b.connect(ctx)
	if err != nil {
		return err
	}
	held, err := b.lockRow(ctx, conn)
	if err != nil {
		return err
	}
	pid, err := b.holderPID(ctx, conn)
	if err != nil {
		return err
	}
	switch {
	case held == nil && pid == 0:
		return fmt.Errorf("%s is not locked", b.where)
	case held == nil:
		return fmt.Errorf("%s is locked by database session %d, which recorded no lock info; its ID cannot be checked", b.where, pid)
	case held.ID != id:
		return fmt.Errorf("lock ID %q does not match the existing lock ID %q", id, held.ID)
	}
	if pid != 0 {
		if err := terminateHolder(ctx, conn, b, pid); err != nil {
			return err
		}
	}
	_, err = conn.Exec(ctx, `DELETE FROM nonstop_locks WHERE workspace = $1 AND id = $2`, b.workspace, id)
	return err
}

// holderPID returns the backend PID of the session holding the advisory lock,
// 0 when none does.
func (b *Postgres) holderPID(ctx context.Context, conn *pgx.Conn) (int32, error) {
	var pid int32
	err := conn.QueryRow(ctx, `SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND granted
		  AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2`,
		advisoryNamespace, b.key).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find the lock holder: %w", err)
	}
	return pid, nil
}

// terminateHolder ends session pid and waits until its advisory lock is gone.
func terminateHolder(ctx context.Context, conn *pgx.Conn, b *Postgres, pid int32) error {
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil {
		return fmt.Errorf("end the lock holder's database session %d (needs superuser or pg_signal_backend): %w", pid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		now, err := b.holderPID(ctx, conn)
		if err != nil {
			return err
		}
		if now != pid {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("database session %d still holds the lock 10s after pg_terminate_backend", pid)
		}
	}
}

// Close releases the lock if held and closes the connection.
func (b *Postgres) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var err error
	if b.lockID != "" {
		err = b.unlockLocked(b.lockID)
	}
	if b.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		b.conn.Close(ctx)
		cancel()
		b.conn = nil
	}
	return err
}
