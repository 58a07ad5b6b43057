package nacos

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// A registry write is done when a read shows it. Polaris answers its discovery API
// from a cache that lags the store by about a second (measured on v1.18.1: a read
// right after an isolate write still shows the instance enabled), and consumers are
// pushed from that cache. Without this, a plan made right after a rollback
// re-enabled an instance read it as disabled and redeployed it without waiting for
// consumers to drop it.
//
// A write that takes traffic away (a disable, a weight change) returns once a read
// shows it, so the propagation wait that follows starts when consumers can first
// learn of the change. A write that gives traffic back (an enable) returns at once
// and stays pending: the next listing of its service, and Close, wait until a read
// shows it. Nothing in an instance's path waits on an enable, but every read still
// sees what was written.

// confirmBound bounds how long a write waits for a read to show it.
var confirmBound = 10 * time.Second

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
	r.insts, r.err = n.list(ctx, svc)
	return r.insts, r.err
}

// confirm waits until a read shows inst as want says: want reports whether a
// listed instance shows the write and gone what a missing instance means (true:
// the write's goal holds without it, as for a disable).
func (n *Nacos) confirm(ctx context.Context, op string, inst providers.InstanceKey, want func(providers.Instance) bool, gone bool) error {
	ctx, cancel := context.WithTimeout(ctx, confirmBound)
	defer cancel()
	wrote := time.Now()
	tick := time.NewTicker(confirmEvery)
	defer tick.Stop()
	start := wrote
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

// pendingWrite is an enable that returned before a read showed it.
type pendingWrite struct {
	op    string
	inst  providers.InstanceKey
	want  func(providers.Instance) bool
	wrote time.Time
}

// deferConfirm records w as pending, in place of any earlier pending write of its
// instance.
func (n *Nacos) deferConfirm(w pendingWrite) {
	n.pendMu.Lock()
	defer n.pendMu.Unlock()
	n.dropPendingLocked(w.inst)
	if n.pending == nil {
		n.pending = map[providers.ServiceKey][]pendingWrite{}
	}
	n.pending[w.inst.ServiceKey] = append(n.pending[w.inst.ServiceKey], w)
}

// dropPending forgets the pending write of inst (a later write supersedes it).
func (n *Nacos) dropPending(inst providers.InstanceKey) {
	n.pendMu.Lock()
	defer n.pendMu.Unlock()
	n.dropPendingLocked(inst)
}

func (n *Nacos) dropPendingLocked(inst providers.InstanceKey) {
	ws := n.pending[inst.ServiceKey]
	for i, w := range ws {
		if w.inst.Address == inst.Address {
			n.pending[inst.ServiceKey] = append(ws[:i:i], ws[i+1:]...)
			return
		}
	}
}

// settlePending waits until a read of svc shows every pending write of it, and
// returns that read. A write no read showed within confirmBound of its write is
// dropped with a warning (the listing then shows what the registry serves).
func (n *Nacos) settlePending(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	for {
		start := time.Now()
		insts, err := n.list(ctx, svc)
		if err != nil {
			return nil, err
		}
		n.pendMu.Lock()
		var left []pendingWrite
		for _, w := range n.pending[svc] {
			shown := false
			for _, in := range insts {
				if in.Address == w.inst.Address && w.want(in) {
					shown = true
				}
			}
			switch {
			case shown:
				n.logger.Trace("write confirmed by a read", "op", w.op, "after", time.Since(w.wrote))
			case start.Sub(w.wrote) > confirmBound:
				n.logger.Warn("the registry accepted a write but no read showed it", "op", w.op,
					"service", svc.Service, "within", confirmBound)
			default:
				left = append(left, w)
			}
		}
		if len(left) == 0 {
			delete(n.pending, svc)
		} else {
			n.pending[svc] = left
		}
		n.pendMu.Unlock()
		if len(left) == 0 {
			return insts, nil
		}
		select {
		case <-ctx.Done():
			return nil, n.serviceErr("list instances of", svc, n.readAddress(),
				fmt.Errorf("waiting for a read to show %d write(s) of nonstop: %w", len(left), ctx.Err()))
		case <-time.After(confirmEvery):
		}
	}
}

// settleAll waits for every pending write (Close calls it), within confirmBound.
func (n *Nacos) settleAll() {
	n.pendMu.Lock()
	svcs := make([]providers.ServiceKey, 0, len(n.pending))
	for svc := range n.pending {
		svcs = append(svcs, svc)
	}
	n.pendMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), confirmBound)
	defer cancel()
	var wg sync.WaitGroup
	for _, svc := range svcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := n.settlePending(ctx, svc); err != nil {
				n.logger.Warn("closing with registry writes no read showed yet", "error", err)
			}
		}()
	}
	wg.Wait()
}
