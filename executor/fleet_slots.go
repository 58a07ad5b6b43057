package executor

import (
	"context"
	"sync"
)

// slotReleaseKey carries, in a step's context, the function that gives the
// step's slots back early.
type slotReleaseKey struct{}

// withSlotRelease returns ctx carrying release, called at most once.
func withSlotRelease(ctx context.Context, release func()) context.Context {
	var once sync.Once
	return context.WithValue(ctx, slotReleaseKey{}, func() { once.Do(release) })
}

// waitsFromHere gives back the slots of the running step: it has done what
// loads another system and only waits from now on (a raised member's
// confirmation by the balancer's own checks, a few seconds), and waiting is
// free. Outside the scheduler (rollback units) it does nothing.
func waitsFromHere(ctx context.Context) {
	if release, ok := ctx.Value(slotReleaseKey{}).(func()); ok {
		release()
	}
}
