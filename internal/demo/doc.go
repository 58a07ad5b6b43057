// Package demo drives a zero-downtime release on a real loopback fleet — Polaris as
// the Nacos registry, nginx, HAProxy and demo-service instances deployed by
// examples/demo/deploy.sh — while it measures client traffic on three paths: through
// nginx, through HAProxy, and from a consumer that picks instances from the registry
// as Spring Cloud applications do.
//
// The end-to-end tests (internal/e2e) and `make demo` (cmd/nonstop-demo) share it:
// Load counts every request's outcome, Config renders the configuration, and
// Release runs refresh → plan → safety check → apply through the library.
package demo
