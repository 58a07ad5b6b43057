// Package operation runs one whole nonstop apply below the command line, from
// opening the state backend to releasing its lock, so that the CLI, the demo and
// the end-to-end tests all apply the same way.
//
// Apply follows one path (Terraform: internal/command builds an operation,
// internal/backend/local runs it):
//
//	open the state backend → lock (Options.LockTimeout) → load the state
//	→ recover an interrupted apply (report its journal, record its releases as
//	  interrupted, forget the versions of instances it was deploying)
//	→ refresh → plan (known versions from the state), or read a plan file
//	  (configuration check, stale check by value)
//	→ show and approve → start the journal and record the planned releases
//	→ run the steps (executor.Runner), fenced by the lock: checked before every
//	  step and every 500ms, a lost lock stops them and nothing more is saved
//	→ record the result and the history → save → unlock, on every path.
//
// Plan runs the refresh and plan part without the lock, and Refresh the refresh
// alone. Nothing here prints: an operation speaks through its View (diagnostics,
// the plan, the approval question, an interrupted apply, the result) and its
// progress events, and returns a Result for the caller to turn into an exit code.
package operation
