// Package testfleet starts the real systems nonstop is tested against — Polaris (a
// Nacos-protocol registry), nginx, HAProxy, PostgreSQL and demo-service instances —
// for a test: each in a temporary directory of the test, stopped by t.Cleanup. The
// processes themselves are started by internal/fleet; testfleet holds the thin
// testing.TB wrappers (StartHAProxy, StartNginx, StartEdgeNginx, StartPolaris,
// StartPostgres, StartDemo, StartDemoFleet) and re-exports fleet's types and
// functions under their old names, so tests need only this package.
//
// It also has in-process test doubles that need no binary: Backend (a loopback
// HTTP server that answers with its address, counted by CountByBackend),
// SilentServer and StalledPostgres.
//
// Only tests import it; `make demo` and internal/demo use internal/fleet, so the
// demo binary does not link this package (nor testing through it).
package testfleet
