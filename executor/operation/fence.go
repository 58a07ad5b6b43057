package operation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
)

// lockCheckInterval is how often a running apply asks its state backend
// whether it still holds the lock, besides asking before every step: a step
// that runs for long (a deploy, a wait) is stopped within this much of the
// lock being broken.
var lockCheckInterval = 500 * time.Millisecond

// lockCheckTimeout bounds one check. A backend that cannot confirm the lock in
// time counts as having lost it: writing on without knowing is what fencing
// is there to prevent.
const lockCheckTimeout = 5 * time.Second

// fence watches the state lock of an apply while its steps run. It is the
// Runner's Fence (a check before every step) and a heartbeat that cancels the
// steps' context the moment the lock is found lost, so that a step in flight
// stops too. Once lost, the lock stays lost.
type fence struct {
	b      state.Backend
	cancel context.CancelCauseFunc
	stop   chan struct{}
	done   chan struct{}

	mu   sync.Mutex
	lost error
}

// startFence starts watching b's lock. The steps run with the returned
// context, which ends with ctx or when the lock is lost; close stops the
// watch.
func startFence(ctx context.Context, b state.Backend) (context.Context, *fence) {
	runCtx, cancel := context.WithCancelCause(ctx)
	f := &fence{b: b, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	go f.watch(runCtx)
	return runCtx, f
}

// watch checks the lock every lockCheckInterval until it is lost, the run
// ends or close is called.
func (f *fence) watch(ctx context.Context) {
	defer close(f.done)
	t := time.NewTicker(lockCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			if f.check(ctx) != nil {
				return
			}
		}
	}
}

// check asks the backend whether the lock is still this apply's, unless it is
// known lost already; a loss cancels the steps' context. It is Runner.Fence.
// An ended ctx (an interrupted apply) does not count as a lost lock.
func (f *fence) check(ctx context.Context) error {
	if err := f.err(); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockCheckTimeout)
	defer cancel()
	err := f.b.CheckLock(cctx)
	if err == nil {
		return nil
	}
	f.mu.Lock()
	if f.lost == nil {
		f.lost = err
	}
	err = f.lost
	f.mu.Unlock()
	f.cancel(fmt.Errorf("%w: %w", ErrLockLost, err))
	return err
}

// err returns why the lock was lost, nil while it is held.
func (f *fence) err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lost
}

// close stops the watch and waits for a check in flight.
func (f *fence) close() {
	close(f.stop)
	<-f.done
	f.cancel(context.Canceled)
}

// lockLost returns why an apply lost its lock: the fence's finding, or a
// journal write the backend refused because the lock was gone. Nil when the
// lock held throughout.
func (f *fence) lockLost(runErr error) error {
	if err := f.err(); err != nil {
		return err
	}
	if errors.Is(runErr, state.ErrLockLost) {
		return runErr
	}
	return nil
}
