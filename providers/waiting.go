package providers

import (
	"context"
	"sync"
)

// The executor bounds how many writes run at once per provider: a write holds a
// slot of its provider while it loads that system. A provider call that has done
// its write and only waits from then on (a registry write waiting for its listing
// to show it; a balancer waiting for its own health checks) gives the slot back
// with WaitsFromHere, so that waiting stays free and a fleet of services releases
// in the time of one.

type waitsKey struct{}

// WithWaitsFromHere returns a context whose WaitsFromHere calls release, once.
func WithWaitsFromHere(ctx context.Context, release func()) context.Context {
	var once sync.Once
	return context.WithValue(ctx, waitsKey{}, func() { once.Do(release) })
}

// WaitsFromHere tells the caller's scheduler that the call only waits from now
// on. Without a scheduler (a context without WithWaitsFromHere) it does nothing.
func WaitsFromHere(ctx context.Context) {
	if release, ok := ctx.Value(waitsKey{}).(func()); ok {
		release()
	}
}
