// Package executor applies a plan: it runs the plan's steps against the providers in
// dependency order, journals every step, reports progress as events, and on failure
// puts traffic back on safe instances (rollback or pause, per service).
//
// The engine is the Runner. Steps whose After dependencies have completed run
// concurrently, bounded by Runner.Parallelism. A failed step stops the start of new
// steps of its service only: the service's steps already running finish, steps of
// other services go on, and steps that depend on the failed service's steps are never
// started. When the failed service has nothing running any more, its on_failure
// policy runs:
//
//   - "rollback" (the default) first restores the balancer and registry values the
//     apply changed on instances that were never deployed (they still run the old
//     version), then routes; then each deployed ("touched") instance is drained,
//     redeployed at its previous version (Args.FromVersion), health-checked and put
//     back to its original values — instances already out of traffic first, so that
//     the pool never loses its last serving member.
//   - "pause" restores traffic only to instances that were drained but never deployed
//     and leaves every deployed instance as it is: an instance that failed its health
//     check never gets traffic back.
//
// Rollback is derived from what actually completed in this apply: each write step
// reads the live value it replaces just before writing, and the inverse of the
// first write to each object is its original value. Nothing is guessed.
//
// A cancelled context stops the apply promptly (running deploy commands are
// signalled) and runs no rollback: the next apply re-plans from live state.
package executor
