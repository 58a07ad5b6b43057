package state

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPostgresWorkspaces checks that workspaces sharing a database have their
// own lock and state, and that the tables were created on first use.
func TestPostgresWorkspaces(t *testing.T) {
	blue, err := NewPostgres(pgDSN, t.Name()+"/blue")
	if err != nil {
		t.Fatal(err)
	}
	defer blue.Close()
	green, err := NewPostgres(pgDSN, t.Name()+"/green")
	if err != nil {
		t.Fatal(err)
	}
	defer green.Close()
	sb, sg := lockAndLoad(t, blue), lockAndLoad(t, green) // both locks at once
	sb.Commit, sg.Commit = "blue-commit", "green-commit"
	if err := blue.Save(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := green.Save(ctx, sg); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, blue).Commit; got != "blue-commit" {
		t.Errorf("blue commit = %q", got)
	}
	if got := mustLoad(t, green).Commit; got != "green-commit" {
		t.Errorf("green commit = %q", got)
	}

	conn, err := pgx.Connect(ctx, pgDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables, locks int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables
		WHERE tablename IN ('nonstop_state', 'nonstop_locks', 'nonstop_journal')`).Scan(&tables)
	if err != nil || tables != 3 {
		t.Errorf("nonstop tables: %d, %v; want 3", tables, err)
	}
	err = conn.QueryRow(ctx, `SELECT count(*) FROM nonstop_locks WHERE workspace LIKE $1`, t.Name()+"/%").Scan(&locks)
	if err != nil || locks != 2 {
		t.Errorf("lock rows: %d, %v; want 2", locks, err)
	}
}
