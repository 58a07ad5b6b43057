package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"strconv"
	"strings"
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

// Bounds of every call to the state database, unless the DSN sets its own
// connect_timeout (seconds, as libpq reads it) or statement_timeout (as
// PostgreSQL reads it: milliseconds, or a number with a unit such as "5s").
const (
	// defaultConnectTimeout bounds connecting: TCP, TLS, authentication.
	defaultConnectTimeout = 10 * time.Second
	// defaultStatementTimeout bounds each call's statements (a Load, a Save, a
	// journal append, one try of the lock), on the client: a server that
	// accepted the connection and then stopped answering cannot hang nonstop.
	defaultStatementTimeout = 30 * time.Second
)

// The session's TCP keepalive settings, so that the server notices within
// about half a minute that a lock holder's connection was cut, and releases
// its lock, instead of after the operating system's two hours.
var keepaliveSettings = `SELECT set_config('tcp_keepalives_idle', '15', false),
	set_config('tcp_keepalives_interval', '5', false),
	set_config('tcp_keepalives_count', '3', false)`

// Postgres keeps state in a PostgreSQL database, one row per workspace in
// nonstop_state, with the journal in nonstop_journal, the holder's lock info
// in nonstop_locks, the audit log in nonstop_audit and the resumes given to the
// running apply in nonstop_resumes; the tables are created on first use. The lock is a
// session-level advisory lock held by one dedicated connection for as long as
// the lock is held, so the server releases it when the holder's connection ends
// — also when the holding process is killed.
type Postgres struct {
	config    *pgx.ConnConfig
	workspace string
	key       int32  // second advisory lock key
	where     string // for lock info and messages; holds no password
	// stmtTimeout bounds the statements of one call (see defaultStatementTimeout).
	stmtTimeout time.Duration

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
	if config.ConnectTimeout <= 0 {
		config.ConnectTimeout = defaultConnectTimeout
	}
	stmtTimeout := defaultStatementTimeout
	if v, ok := config.RuntimeParams["statement_timeout"]; ok {
		// The server gets it too, as a setting of the session.
		d, ok := pgDuration(v)
		if !ok {
			return nil, fmt.Errorf("state \"postgres\": the dsn's statement_timeout %q is not a duration such as 30000 (milliseconds) or \"30s\"", v)
		}
		if d > 0 {
			stmtTimeout = d
		}
	}
	// A cancelled context cancels the running statement but keeps the
	// connection, and with it the lock; a server that does not answer the
	// cancel request within the delay loses the connection.
	delay := min(5*time.Second, stmtTimeout)
	config.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: delay}
	}
	h := fnv.New32a()
	h.Write([]byte(workspace))
	return &Postgres{
		config:      config,
		workspace:   workspace,
		key:         int32(h.Sum32() & 0x7fffffff),
		stmtTimeout: stmtTimeout,
		where: fmt.Sprintf("postgres://%s/%s workspace %q",
			net.JoinHostPort(config.Host, strconv.Itoa(int(config.Port))), config.Database, workspace),
	}, nil
}

// pgDuration reads a PostgreSQL time setting: a whole number of milliseconds,
// or a number followed by us, ms, s, min, h or d.
func pgDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := v, "ms"
	if i >= 0 {
		num, unit = v[:i], strings.TrimSpace(v[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	units := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
		"min": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	u, ok := units[unit]
	if err != nil || !ok || f < 0 {
		return 0, false
	}
	return time.Duration(f * float64(u)), true
}

// Bounds returns how long connecting and one call's statements may take.
func (b *Postgres) Bounds() (connect, statements time.Duration) {
	return b.config.ConnectTimeout, b.stmtTimeout
}

// bounded returns ctx limited to the statement timeout, for one call.
func (b *Postgres) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.stmtTimeout)
}

// timedOut names the bound in err when bctx, made by bounded from ctx, ran
// out while ctx did not: the database did not answer in time.
func (b *Postgres) timedOut(ctx, bctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || bctx.Err() == nil || errors.Is(err, ErrLockLost) {
		return err
	}
	return fmt.Errorf("the state database %s did not answer within %s (statement_timeout): %w", b.where, b.stmtTimeout, err)
}

// lostSession is the error of a lock whose database session ended.
func (b *Postgres) lostSession(err error) error {
	if err == nil {
		return fmt.Errorf("%w: the database session that held it at %s has ended (force-unlocked, the database restarted or the connection was cut)", ErrLockLost, b.where)
	}
	return fmt.Errorf("%w: the database session that held it at %s has ended (force-unlocked, the database restarted or the connection was cut): %v", ErrLockLost, b.where, err)
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
		return nil, b.lostSession(nil)
	}
	conn, err := pgx.ConnectConfig(ctx, b.config)
	if err != nil {
		if ctx.Err() == nil && (pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded)) {
			return nil, fmt.Errorf("connect to state database %s: no answer within %s (connect_timeout): %w", b.where, b.config.ConnectTimeout, err)
		}
		return nil, fmt.Errorf("connect to state database %s: %w", b.where, err)
	}
	// Best effort: a server or pooler that refuses these settings still
	// serves the connection; one that does not answer does not.
	if _, err := conn.Exec(ctx, keepaliveSettings); err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		conn.Close(cctx)
		cancel()
		return nil, fmt.Errorf("first statement after connecting: %w", err)
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

// detached returns a context that outlives ctx's cancellation by up to the
// statement timeout, for the statements that must finish once started:
// recording a taken lock, releasing it.
func (b *Postgres) detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), b.stmtTimeout)
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
	`CREATE TABLE IF NOT EXISTS nonstop_audit (
		workspace text NOT NULL,
		seq       bigserial,
		entry     jsonb NOT NULL,
		PRIMARY KEY (workspace, seq))`,
	`CREATE TABLE IF NOT EXISTS nonstop_resumes (
		workspace text NOT NULL,
		apply_id  text NOT NULL,
		seq       bigserial,
		step_id   text NOT NULL,
		given_at  timestamptz NOT NULL DEFAULT now(),
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
	var cutShort error
	err := pollLock(ctx, func() (bool, *LockInfo, error) {
		ok, h, err := b.tryLock(ctx)
		if err != nil && ctx.Err() != nil {
			cutShort = err
			return false, holder, nil // the deadline cut a query short: time is up
		}
		if h != nil {
			holder = h
		}
		return ok, holder, err
	})
	if err != nil {
		if holder == nil && cutShort != nil {
			// No holder was ever seen: the database did not answer in time.
			return "", fmt.Errorf("take the state lock at %s: %w", b.where, cutShort)
		}
		return "", err
	}
	infoJSON, _ := json.Marshal(li)
	wctx, cancel := b.detached(ctx)
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
func (b *Postgres) tryLock(octx context.Context) (bool, *LockInfo, error) {
	ctx, cancel := b.bounded(octx)
	defer cancel()
	conn, err := b.connect(ctx)
	if err != nil {
		return false, nil, b.timedOut(octx, ctx, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, advisoryNamespace, b.key).Scan(&ok); err != nil {
		return false, nil, b.timedOut(octx, ctx, fmt.Errorf("take advisory lock: %w", err))
	}
	if ok {
		return true, nil, nil
	}
	holder, err := b.lockRow(ctx, conn)
	if err != nil {
		return false, nil, b.timedOut(octx, ctx, err)
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
