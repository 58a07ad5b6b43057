// Package testfleet starts the real systems nonstop is tested against — Polaris (a
// Nacos-protocol registry), nginx, HAProxy, PostgreSQL and demo-service instances —
// on free loopback ports, each in its own temporary directory, and stops what it
// started.
//
// Tests, `make demo` and CI all use it. Binaries come from Debian (nginx, haproxy,
// postgresql) and from the Go module proxy (Polaris v1.18.1, built once into a
// cache directory by scripts/polaris.sh).
package testfleet
