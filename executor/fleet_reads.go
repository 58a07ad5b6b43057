package executor

import (
	"context"
	"sync"

	"github.com/nonstop-release/nonstop/providers"
)

// readBounds bounds the listings an apply sends each registry at once to
// Parallelism. Many of an apply's reads poll — a registry guard per service
// every 200ms, the read-back before a service completes every 100ms, health
// waits — so a hundred services would otherwise keep a hundred listings in
// flight against one registry (measured: 32 services, 32 at once). A poll
// that waits for a read slot only polls a little later.
type readBounds struct {
	limit int
	mu    sync.Mutex
	sems  map[string]chan struct{} // by provider reference
}

func newReadBounds(limit int) *readBounds {
	if limit <= 0 {
		limit = DefaultParallelism
	}
	return &readBounds{limit: limit, sems: map[string]chan struct{}{}}
}

// bound returns r with its listings bounded by the slots of provider ref.
func (b *readBounds) bound(ref string, r providers.Registry) providers.Registry {
	b.mu.Lock()
	defer b.mu.Unlock()
	sem, ok := b.sems[ref]
	if !ok {
		sem = make(chan struct{}, b.limit)
		b.sems[ref] = sem
	}
	return boundedRegistry{Registry: r, sem: sem}
}

// boundedRegistry is a registry whose listings take a read slot.
type boundedRegistry struct {
	providers.Registry
	sem chan struct{}
}

// Instances lists the instances once a read slot is free.
func (b boundedRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-b.sem }()
	return b.Registry.Instances(ctx, svc)
}
