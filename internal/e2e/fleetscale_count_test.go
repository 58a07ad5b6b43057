package e2e

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// writeCounter counts the writes one provider receives: how many in all and the
// most in flight at once. A balancer's Batch counts as one write (nginx applies it
// as one test + reload); a member write inside an open batch does not count again.
type writeCounter struct {
	ref lang.ProviderRef

	mu       sync.Mutex
	inflight int
	max      int
	total    int
	batches  int // open batches

	// reads in flight, the most at once and in all (registry listings).
	readsNow, readsMax, reads int
}

// beginRead records the start of a read and returns its end.
func (c *writeCounter) beginRead() func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readsNow++
	c.reads++
	c.readsMax = max(c.readsMax, c.readsNow)
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.readsNow--
	}
}

// readCounts returns the most reads in flight at once and the reads in all.
func (c *writeCounter) readCounts() (most, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readsMax, c.reads
}

// begin records the start of a write and returns its end.
func (c *writeCounter) begin(batch bool) func() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !batch && c.batches > 0 {
		return func() {}
	}
	if batch {
		c.batches++
	}
	c.inflight++
	c.total++
	c.max = max(c.max, c.inflight)
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.inflight--
		if batch {
			c.batches--
		}
	}
}

// reset starts a new count.
func (c *writeCounter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.max, c.total = 0, 0
}

// read returns the most writes in flight at once and the writes in all.
func (c *writeCounter) read() (most, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max, c.total
}

// countWrites wraps every registry and balancer of provs in a counting proxy
// that forwards each call to the real provider, and returns the counters by
// provider.
func countWrites(provs planner.Providers) (planner.Providers, []*writeCounter) {
	out := planner.Providers{}
	var counters []*writeCounter
	for ref, p := range provs {
		c := &writeCounter{ref: ref}
		switch inner := p.(type) {
		case providers.Registry:
			out[ref] = &countingRegistry{Registry: inner, c: c}
		case providers.Balancer:
			cb := &countingBalancer{Balancer: inner, c: c}
			if _, ok := inner.(providers.Batcher); ok {
				out[ref] = &countingBatcher{cb}
			} else {
				out[ref] = cb
			}
		default:
			out[ref] = p
			continue
		}
		counters = append(counters, c)
	}
	sort.Slice(counters, func(i, j int) bool { return counters[i].ref.String() < counters[j].ref.String() })
	return out, counters
}

// countingRegistry forwards to a registry, counting its writes.
type countingRegistry struct {
	providers.Registry
	c *writeCounter
}

func (r *countingRegistry) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	ctx, end := r.writing(ctx)
	defer end()
	return r.Registry.SetInstanceEnabled(ctx, inst, enabled)
}

func (r *countingRegistry) SetInstanceWeight(ctx context.Context, inst providers.InstanceKey, weight float64) error {
	ctx, end := r.writing(ctx)
	defer end()
	return r.Registry.SetInstanceWeight(ctx, inst, weight)
}

// writing counts a write until it ends or, as the executor's slots do, until
// the provider says it only waits from then on (a registry write waiting for its
// listing: providers.WaitsFromHere), which it passes on to the executor.
func (r *countingRegistry) writing(ctx context.Context) (context.Context, func()) {
	var once sync.Once
	done := r.c.begin(false)
	end := func() { once.Do(done) }
	return providers.WithWaitsFromHere(ctx, func() {
		end()
		providers.WaitsFromHere(ctx)
	}), end
}

func (r *countingRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	defer r.c.beginRead()()
	return r.Registry.Instances(ctx, svc)
}

func (r *countingRegistry) Close() error { return closeProvider(r.Registry) }

// countingBalancer forwards to a balancer, counting its writes.
type countingBalancer struct {
	providers.Balancer
	c *writeCounter
}

func (b *countingBalancer) SetMemberWeight(ctx context.Context, pool, address string, weight int) error {
	defer b.c.begin(false)()
	return b.Balancer.SetMemberWeight(ctx, pool, address, weight)
}

func (b *countingBalancer) SetMemberState(ctx context.Context, pool, address string, state providers.MemberState) error {
	defer b.c.begin(false)()
	return b.Balancer.SetMemberState(ctx, pool, address, state)
}

func (b *countingBalancer) Close() error { return closeProvider(b.Balancer) }

// CloseSessions forwards to the balancer when it closes sessions (HAProxy), so
// the drain wait behaves as without the proxy.
func (b *countingBalancer) CloseSessions(ctx context.Context, pool, address string) (int, error) {
	if sc, ok := b.Balancer.(providers.SessionCloser); ok {
		return sc.CloseSessions(ctx, pool, address)
	}
	return 0, nil
}

// countingBatcher is a countingBalancer whose balancer batches (nginx).
type countingBatcher struct{ *countingBalancer }

func (b *countingBatcher) Batch(ctx context.Context, fn func() error) error {
	defer b.c.begin(true)()
	return b.Balancer.(providers.Batcher).Batch(ctx, fn)
}

func closeProvider(p any) error {
	if c, ok := p.(providers.Closer); ok {
		return c.Close()
	}
	return nil
}

// writeSummary renders the counters as "nacos.registry 10 (812 writes), ...".
func writeSummary(counters []*writeCounter) string {
	var parts []string
	for _, c := range counters {
		most, total := c.read()
		parts = append(parts, c.ref.String()+" "+strconv.Itoa(most)+" ("+strconv.Itoa(total)+" writes)")
	}
	return strings.Join(parts, ", ")
}
