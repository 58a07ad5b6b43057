// Package demo drives zero-downtime releases on a real loopback fleet — Polaris as
// the Nacos registry, nginx, HAProxy and demo-service instances deployed by
// examples/demo/deploy.sh — while it measures client traffic on three paths:
// through nginx, through HAProxy, and from a consumer that picks instances from the
// registry as Spring Cloud applications do.
//
// The end-to-end tests (internal/e2e), `make demo` (cmd/nonstop-demo) and `make
// bench` (bench) share it: Stack starts and stops a fleet; Load sends requests and
// keeps every outcome and latency, so that Window tells a release's requests (and
// their p50/p99) from the idle ones before it; Sampler records which members each
// path routes to; Minimum, Floor and MeasureConfirm give a release's physical
// minimum; Result and Table report releases side by side; AnalysisServer stands
// in for Prometheus behind a canary's analysis gate; Config renders the
// configuration the e2e tests release, and WithStrategy and WriteVarFile adapt the
// examples to a fleet.
package demo
