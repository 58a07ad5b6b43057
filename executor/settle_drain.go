package executor

import (
	"context"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// drainSettles remembers, per instance address, until when a balancer that took
// it out of traffic may still send it new requests (providers.Capabilities
// DrainSettle: nginx's reload is a signal). A deploy waits for it first. In a
// plan the propagation wait usually covers it; a service without a registry, and
// a rollback's redeploy of an instance the registry never enabled, have none.
type drainSettles struct {
	until map[string]time.Time
}

// lowered notes a write to balancer b that took addr out of traffic.
func (x *execution) lowered(b providers.Balancer, addr string) {
	settle := providers.CapabilitiesOf(b.Kind()).DrainSettle
	if settle <= 0 {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.settles.until == nil {
		x.settles.until = map[string]time.Time{}
	}
	if t := time.Now().Add(settle); t.After(x.settles.until[addr]) {
		x.settles.until[addr] = t
	}
}

// settled waits until no balancer may still send addr new requests.
func (x *execution) settled(ctx context.Context, addr string) error {
	x.mu.Lock()
	until := x.settles.until[addr]
	x.mu.Unlock()
	return sleep(ctx, time.Until(until))
}
