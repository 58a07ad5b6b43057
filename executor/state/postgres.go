package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/zclconf/go-cty/cty"
)

// advisoryNamespace is the first key of nonstop's two-key advisory locks
// ("nons"), keeping them apart from other applications' advisory locks in the
// same database. The second key is derived from the workspace name.
const advisoryNamespace int32 = 0x6e6f6e73

// ErrLockLost is returned when the connection holding a postgres lock has gone:
// the server released the lock with the session.
var ErrLockLost = errors.New("the database connection holding the state lock was lost, and the lock with it")

// Postgres keeps state in a PostgreSQL database, one row per workspace in
// nonstop_state, with the journal in nonstop_journal and the holder's lock info
// in nonstop_locks; the tables are created on first use. The lock is a
// session-level advisory lock held by one dedicated connection for as long as
// the lock is held, so the server releases it when the holder's connection ends
// — also when the holding process is killed.
type Postgres struct {
	config    *pgx.ConnConfig
	workspace string
	key       int32  // second advisory lock key
	where     string // for lock info and messages; holds no password

	mu           sync.Mutex
	conn         *pgx.Conn
	schemaReady  bool
	lockID       string // "" when not holding the lock
	journalApply string
}

// openPostgres opens a postgres backend: attribute "dsn" (required) and
// "workspace" (default "default"), which lets several configurations share a
// database.
func openPostgres(attrs map[string]cty.Value, dir string) (Backend, error) {
	if err := checkAttrs("postgres", attrs, "dsn", "workspace"); err != nil {
		return nil, err
	}
	dsn, err := stringAttr("postgres", attrs, "dsn", "")
	if err != nil {
		return nil, err
	}
	if dsn == "" {
		return nil, fmt.Errorf("state \"postgres\": attribute \"dsn\" is required")
	}
	workspace, err := stringAttr("postgres", attrs, "workspace", "default")
	if err != nil {
		return nil, err
	}
	return NewPostgres(dsn, workspace)
}

// NewPostgres returns a postgres backend for workspace in the database at dsn.
// It checks the DSN but does not connect.
func NewPostgres(dsn, workspace string) (*Postgres, error) {
	if workspace == "" {
		return nil, fmt.Errorf("state \"postgres\": workspace must not be empty")
	}
	config, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The parse error may quote the DSN, password included.
		return nil, fmt.Errorf("state \"postgres\": the dsn is not a valid PostgreSQL connection string")
	}
	// A cancelled context cancels the running statement but keeps the
	// connection, and with it the lock.
	config.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	h := fnv.New32a()
	h.Write([]byte(workspace))
	return &Postgres{
		config:    config,
		workspace: workspace,
		key:       int32(h.Sum32() & 0x7fffffff),
		where: fmt.Sprintf("postgres://%s/%s workspace %q",
			net.JoinHostPort(config.Host, strconv.Itoa(int(config.Port))), config.Database, workspace),
	}, nil
}

// Workspace returns the workspace this backend keeps state for.
func (b *Postgres) Workspace() string { return b.workspace }

// connect returns the backend's connection, connecting (and creating the
// tables) when needed. A lost connection is not replaced while the lock is
// held: the lock went with it.
func (b *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	if b.conn != nil && !b.conn.IsClosed() {
		return b.conn, nil
	}
	if b.lockID != "" {
		return nil, ErrLockLost
	}
	conn, err := pgx.ConnectConfig(ctx, b.config)
	if err != nil {
		return nil, fmt.Errorf("connect to state database %s: %w", b.where, err)
	}
	b.conn = conn
	if !b.schemaReady {
		if err := createSchema(ctx, conn); err != nil {
			return nil, fmt.Errorf("create state tables: %w", err)
		}
		b.schemaReady = true
	}
	return conn, nil
}

// detached returns a context that outlives ctx's cancellation by up to 30
// seconds, for the statements that must finish once started: recording a taken
// lock, releasing it.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// schema creates nonstop's tables; a transaction-level advisory lock keeps
// concurrent first uses from racing on CREATE TABLE.
var schema = []string{
	`SELECT pg_advisory_xact_lock(` + strconv.Itoa(int(advisoryNamespace)) + `, 0)`,
	`CREATE TABLE IF NOT EXISTS nonstop_state (
		workspace  text PRIMARY KEY,
		serial     bigint NOT NULL,
		lineage    text NOT NULL,
		state      jsonb NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS nonstop_locks (
		workspace text PRIMARY KEY,
		id        text NOT NULL,
		info      jsonb NOT NULL,
		pid       integer NOT NULL,
		locked_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS nonstop_journal (
		workspace text NOT NULL,
		apply_id  text NOT NULL,
		seq       bigserial,
		entry     jsonb NOT NULL,
		PRIMARY KEY (workspace, apply_id, seq))`,
}

func createSchema(ctx context.Context, conn *pgx.Conn) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, stmt := range schema {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	})
}

// Lock polls pg_try_advisory_lock until it succeeds or ctx ends, then records
// info in nonstop_locks.
func (b *Postgres) Lock(ctx context.Context, info *LockInfo) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lockID != "" {
		return "", fmt.Errorf("this process already holds the state lock %s", b.lockID)
	}
	li := prepareLockInfo(info, b.where)
	var holder *LockInfo
	err := pollLock(ctx, func() (bool, *LockInfo, error) {
		ok, h, err := b.tryLock(ctx)
		if err != nil && ctx.Err() != nil {
			return false, holder, nil // the deadline cut a query short: time is up
		}
		if h != nil {
			holder = h
		}
		return ok, holder, err
	})
	if err != nil {
		return "", err
	}
	infoJSON, _ := json.Marshal(li)
	wctx, cancel := detached(ctx)
	defer cancel()
	_, err = b.conn.Exec(wctx, `INSERT INTO nonstop_locks (workspace, id, info, pid)
		VALUES ($1, $2, $3::jsonb, pg_backend_pid())
		ON CONFLICT (workspace) DO UPDATE
		SET id = EXCLUDED.id, info = EXCLUDED.info, pid = EXCLUDED.pid, locked_at = now()`,
		b.workspace, li.ID, string(infoJSON))
	if err != nil {
		b.conn.Exec(wctx, `SELECT pg_advisory_unlock($1, $2)`, advisoryNamespace, b.key)
		return "", fmt.Errorf("record lock info: %w", err)
	}
	b.lockID = li.ID
	return li.ID, nil
}

// tryLock tries the advisory lock once; when it is held it returns the
// holder's info from nonstop_locks.
func (b *Postgres) tryLock(ctx context.Context) (bool, *LockInfo, error) {
	conn, err := b.connect(ctx)
	if err != nil {
		return false, nil, err
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, advisoryNamespace, b.key).Scan(&ok); err != nil {
		return false, nil, fmt.Errorf("take advisory lock: %w", err)
	}
	if ok {
		return true, nil, nil
	}
	holder, err := b.lockRow(ctx, conn)
	if err != nil {
		return false, nil, err
	}
	if holder == nil {
		holder = &LockInfo{Info: "the holder has not recorded its lock info"}
	}
	holder.Path = b.where
	return false, holder, nil
}

// lockRow reads the lock info in nonstop_locks; nil when there is none.
func (b *Postgres) lockRow(ctx context.Context, conn *pgx.Conn) (*LockInfo, error) {
	var infoJSON string
	err := conn.QueryRow(ctx, `SELECT info::text FROM nonstop_locks WHERE workspace = $1`, b.workspace).Scan(&infoJSON)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock info: %w", err)
	}
	li := &LockInfo{}
	if err := json.Unmarshal([]byte(infoJSON), li); err != nil {
		return nil, fmt.Errorf("read lock info: %w", err)
	}
	li.Path = b.where
	return li, nil
}
