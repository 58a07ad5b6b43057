// Package state keeps what nonstop remembers between runs — the applied commit,
// the versions it deployed, the release history and the journal of a running
// apply — and takes the state lock that lets only one apply run at a time.
//
// A Backend is a place to keep state. Two kinds exist: "local" (a directory,
// default .nonstop next to the configuration, locked with flock(2)) and
// "postgres" (tables in a PostgreSQL database, locked with a session-level
// advisory lock). Both release their lock when the holding process dies, so a
// crashed apply never leaves a lock that has to be broken by hand; ForceUnlock
// exists for the cases where it must be. CheckLock tells a holder whether its
// lock is still its own, so that one whose lock was broken (force-unlocked, its
// database session ended) stops writing: the apply fences every step with it.
// Every call to a database is bounded (connect_timeout, statement_timeout).
//
// One apply's use of a backend — lock (with -lock-timeout), load, recover a
// journal left by an interrupted apply, save a started journal, append an entry
// per step start and end, save the outcome and history (dropping the journal),
// unlock on every path — is executor/operation's Apply, which the CLI and the
// end-to-end tests call rather than following these steps themselves.
//
// The interface is small on purpose, so that further kinds (etcd, a Nacos
// config with compare-and-set) can follow.
package state
