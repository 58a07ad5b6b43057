package testfleet

import (
	"context"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestLaunchPostgres starts a server, checks it answers SQL on loopback only, and
// checks that Stop shuts it down and removes its directory.
func TestLaunchPostgres(t *testing.T) {
	pg, err := LaunchPostgres()
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			pg.Stop()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatalf("connect %s: %v", pg.DSN, err)
	}
	var listen string
	if err := conn.QueryRow(ctx, "SHOW listen_addresses").Scan(&listen); err != nil {
		t.Fatal(err)
	}
	if listen != "127.0.0.1" {
		t.Errorf("listen_addresses = %q, want 127.0.0.1", listen)
	}
	var one int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
	conn.Close(ctx)

	if err := pg.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	stopped = true
	if _, err := os.Stat(pg.Dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (stat err %v)", pg.Dir, err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.Port)), time.Second); err == nil {
		c.Close()
		t.Errorf("port %d still accepts connections after Stop", pg.Port)
	}
}

// TestStartPostgresCleanup checks that StartPostgres stops its server when the
// test that started it finishes.
func TestStartPostgresCleanup(t *testing.T) {
	var dsn string
	t.Run("owner", func(t *testing.T) { dsn = StartPostgres(t) })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, dsn); err == nil {
		conn.Close(ctx)
		t.Fatalf("%s still answers after its test finished", dsn)
	}
}
