package testfleet

import (
	"net"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/nonstop-release/nonstop/internal/fleet"
)

// Postgres is fleet's: a throwaway PostgreSQL server on 127.0.0.1.
type Postgres = fleet.Postgres

// LaunchPostgres is fleet.LaunchPostgres: a server for TestMain, stopped with Stop.
func LaunchPostgres() (*Postgres, error) { return fleet.LaunchPostgres() }

// StartPostgres starts a PostgreSQL server for the test and returns its DSN. The
// server is stopped when the test (or benchmark) and its subtests finish. A server
// that cannot start fails the test: there is no skip.
func StartPostgres(tb testing.TB) string {
	tb.Helper()
	pg, err := fleet.LaunchPostgres()
	if err != nil {
		tb.Fatalf("start postgres: %v", err)
	}
	tb.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			tb.Errorf("stop postgres: %v", err)
		}
	})
	return pg.DSN
}

// SilentServer listens on 127.0.0.1, accepts every connection and never
// answers, as a database or API server that hangs does. It returns the
// address, host:port; the listener and its connections close when the test
// ends.
func SilentServer(tb testing.TB) string {
	tb.Helper()
	return serve(tb, func(net.Conn) {})
}

// StalledPostgres is a PostgreSQL server that lets clients connect (trust
// authentication, no TLS) and then never answers a query: a database that
// accepted the session and hung. It returns a DSN for it; cancel requests are
// accepted and ignored.
func StalledPostgres(tb testing.TB) string {
	tb.Helper()
	addr := serve(tb, func(c net.Conn) {
		be := pgproto3.NewBackend(c, c)
	startup:
		for {
			msg, err := be.ReceiveStartupMessage()
			if err != nil {
				return
			}
			switch msg.(type) {
			case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
				if _, err := c.Write([]byte("N")); err != nil {
					return
				}
			case *pgproto3.CancelRequest:
				return
			default:
				break startup
			}
		}
		be.Send(&pgproto3.AuthenticationOk{})
		be.Send(&pgproto3.ParameterStatus{Name: "server_version", Value: "16.0"})
		be.Send(&pgproto3.ParameterStatus{Name: "client_encoding", Value: "UTF8"})
		be.Send(&pgproto3.ParameterStatus{Name: "standard_conforming_strings", Value: "on"})
		be.Send(&pgproto3.BackendKeyData{ProcessID: 4242, SecretKey: []byte{0, 0, 0x10, 0x92}})
		be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		if be.Flush() != nil {
			return
		}
		for { // read every query, answer none
			if _, err := be.Receive(); err != nil {
				return
			}
		}
	})
	return "postgres://postgres@" + addr + "/postgres?sslmode=disable"
}

// serve accepts connections on 127.0.0.1 and hands each to handle, which runs
// in its own goroutine; connections stay open until the test ends.
func serve(tb testing.TB, handle func(net.Conn)) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go handle(c)
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
