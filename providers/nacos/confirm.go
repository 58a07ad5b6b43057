package nacos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// A registry write returns once a read shows it. Polaris answers its discovery
// API from a cache that lags the store by about a second (measured on v1.18.1: a
// read right after an isolate write still shows the instance enabled), and
// consumers are pushed from that cache. So a write is done when the registry
// serves it:
//   - the propagation wait after a disable starts when consumers can first learn
//     of the change;
//   - an enable is in consumers' lists before the plan takes the next member out
//     (an enable that returned at once let a rolling release disable group b while
//     a's last instance was not yet listed: 1 of 4 serving on the registry path);
//   - a plan or rollback made right after a write reads what was written (a plan
//     made right after a rollback re-enabled an instance read it as disabled and
//     redeployed it without a propagation wait).
//
// A write no read shows after confirmRewrite is sent again: Polaris applies an
// application's repeated registration whole, isolate flag included, so a
// registration retried just after nonstop's enable isolates the instance again.

// confirmBound bounds how long a write waits for a read to show it.
var confirmBound = 10 * time.Second

// confirmRewrite is how long a write may stay unshown before it is sent again.
var confirmRewrite = 3 * time.Second

// confirmEvery is how often an unconfirmed write reads the service again.
var confirmEvery = 50 * time.Millisecond

// serviceRead is the newest listing of one service and when its read started.
// Writes of one service waiting at once share reads: a listing counts for every
// write that returned before the read started.
type serviceRead struct {
	mu      sync.Mutex
	started time.Time
	insts   []providers.Instance
	err     error
}

// readAfter returns a listing of svc read entirely after since: the shared newest
// one when it started after since, else a new read (which the others then share).
func (n *Nacos) readAfter(ctx context.Context, svc providers.ServiceKey, since time.Time) ([]providers.Instance, error) {
	n.readsMu.Lock()
	if n.reads == nil {
		n.reads = map[providers.ServiceKey]*serviceRead{}
	}
	r := n.reads[svc]
	if r == nil {
		r = &serviceRead{}
		n.reads[svc] = r
	}
	n.readsMu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started.After(since) {
		return r.insts, r.err
	}
	r.started = time.Now()
	r.insts, r.err = n.Instances(ctx, svc)
	return r.insts, r.err
}

// writeShown sends a write (send) and waits until a read shows inst as want
// says: want reports whether a listed instance shows the write, and gone what a
// missing instance means (true: the write's goal holds without it, as for a
// disable). A write not shown after confirmRewrite is sent again, every
// confirmRewrite, until confirmBound.
func (n *Nacos) writeShown(ctx context.Context, op string, inst providers.InstanceKey, send func(context.Context) error, want func(providers.Instance) bool, gone bool) error {
	if err := send(ctx); err != nil {
		return err
	}
	// The write is done; waiting for the listing loads the registry with one
	// shared read per service every confirmEvery, so it holds no write slot.
	providers.WaitsFromHere(ctx)
	ctx, cancel := context.WithTimeout(ctx, confirmBound)
	defer cancel()
	wrote := time.Now()
	tick := time.NewTicker(confirmEvery)
	defer tick.Stop()
	start, sent := wrote, wrote
	for {
		insts, err := n.readAfter(ctx, inst.ServiceKey, wrote)
		if err == nil {
			found := false
			for _, in := range insts {
				if in.Address == inst.Address {
					found = true
					if want(in) {
						n.logger.Trace("write confirmed by a read", "op", op, "after", time.Since(start))
						return nil
					}
				}
			}
			if !found && gone {
				return nil
			}
		}
		if err == nil && time.Since(sent) >= confirmRewrite {
			n.logger.Info("the registry does not show a write yet; sending it again", "op", op, "after", time.Since(start).Round(time.Millisecond))
			sent = time.Now()
			if err := send(ctx); err != nil && ctx.Err() == nil {
				return err
			}
		}
		wrote = time.Now()
		select {
		case <-ctx.Done():
			why := "the registry still shows the old value"
			if err != nil {
				why = err.Error()
			}
			return n.serviceErr(op, inst.ServiceKey, n.readAddress(),
				fmt.Errorf("the write was accepted but no read showed it within %s: %s", confirmBound, why))
		case <-tick.C:
		}
	}
}

// readAddress is the address instance listings are read from.
func (n *Nacos) readAddress() string {
	if n.cfg.Flavor == FlavorPolaris {
		return n.cfg.PolarisAddress
	}
	return n.cfg.Addresses[0]
}
