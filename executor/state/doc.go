// Package state keeps what nonstop remembers between runs — the applied commit,
// the versions it deployed, the release history and the journal of a running
// apply — and takes the state lock that lets only one apply run at a time.
//
// A Backend is a place to keep state. Two kinds exist: "local" (a directory,
// default .nonstop next to the configuration, locked with flock(2)) and
// "postgres" (tables in a PostgreSQL database, locked with a session-level
// advisory lock). Both release their lock when the holding process dies, so a
// crashed apply never leaves a lock that has to be broken by hand; ForceUnlock
// exists for the cases where it must be.
//
// The protocol an apply follows:
//
//	id, err := b.Lock(ctx, state.NewLockInfo("apply", version)) // ctx deadline = -lock-timeout
//	defer b.Unlock(id)
//	s, err := b.Load(ctx)          // s.Journal != nil: the last apply was interrupted
//	s.Journal = &state.Journal{ApplyID: ..., Started: ..., PlanSummary: ...}
//	err = b.Save(ctx, s)           // starts the journal; s.Serial is now one higher
//	err = b.AppendJournal(ctx, e)  // per step start/end, durable before it returns
//	s.Journal = nil; s.History = append(s.History, release); s.Deployed[...] = ...
//	err = b.Save(ctx, s)           // ends the apply; the journal is dropped
//
// The interface is small on purpose, so that further kinds (etcd, a Nacos
// config with compare-and-set) can follow.
package state
