// Package fleet starts and stops the real components of a loopback fleet as
// processes: Polaris (a Nacos-protocol registry), nginx, HAProxy, PostgreSQL and
// demo-service instances, each on free 127.0.0.1 ports in its own directory. It
// renders their configurations, waits until they serve, and talks to them (the
// HAProxy runtime API, nginx reloads, a DemoFleet's deploy script and pid files).
//
// It does not import testing: `make demo` (cmd/nonstop-demo) and internal/demo
// use it directly. Tests use internal/testfleet, which wraps each starter for a
// testing.TB (temporary directory, t.Cleanup) and re-exports this package.
//
// nginx, HAProxy, Polaris and a StartDemoProcess demo-service each run in their
// own process group and die with this process (Pdeathsig); PostgreSQL runs in its
// own process group, and a DemoFleet's instances are detached by deploy.sh as an
// operator's would be: both are stopped explicitly (Stop). Binaries come from
// Debian (nginx, haproxy, postgresql) and from the Go module proxy (Polaris
// v1.18.1, built once into a cache directory by scripts/polaris.sh).
package fleet
