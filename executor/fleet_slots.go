package executor

import (
	"context"

	"github.com/nonstop-release/nonstop/providers"
)

// withSlotRelease returns ctx carrying release, called at most once: the step or
// the provider it calls gives the step's slots back early (waitsFromHere,
// providers.WaitsFromHere).
func withSlotRelease(ctx context.Context, release func()) context.Context {
	return providers.WithWaitsFromHere(ctx, release)
}

// waitsFromHere gives back the slots of the running step: it has done what
// loads another system and only waits from now on (a raised member's
// confirmation by the balancer's own checks, a few seconds; a registry write
// waiting for its listing), and waiting is free. Outside the scheduler (rollback
// units) it does nothing.
func waitsFromHere(ctx context.Context) {
	providers.WaitsFromHere(ctx)
}
