package executor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// A registry may undo a write (Polaris applies a client's repeated registration
// whole, isolate flag included); each write itself returns only once a read shows
// it (the nacos provider's confirm: Polaris' listings lag writes by about a
// second). Before an apply reports a service complete it reads the registry back
// until every instance still shows the enabled flag nonstop last wrote.
const (
	settleBound   = 10 * time.Second
	settleRewrite = 3 * time.Second
	settlePoll    = 100 * time.Millisecond
)

// settleRegistries reads back, for every service that completed, the enabled
// flags nonstop last wrote; an instance still showing the old value after
// settleRewrite is written again, and one never showing it within settleBound is
// reported as a warning naming it. Services run in parallel.
func (x *execution) settleRegistries(ctx context.Context) {
	type want struct {
		step    planner.Step
		enabled bool
	}
	bySvc := map[string][]want{}
	x.mu.Lock()
	for _, name := range x.order {
		sr := x.services[name]
		if sr.failed {
			continue
		}
		for _, k := range sr.keys {
			w := sr.latest[k]
			if w.did.Kind == planner.RegistrySetEnabled && w.did.Args.Enabled != nil {
				bySvc[name] = append(bySvc[name], want{w.did, *w.did.Args.Enabled})
			}
		}
	}
	x.mu.Unlock()
	done := make(chan struct{}, len(bySvc))
	for name, wants := range bySvc {
		go func() {
			defer func() { done <- struct{}{} }()
			r, key, err := x.registryOf(&wants[0].step)
			if err != nil {
				return
			}
			start := time.Now()
			rewritten := false
			for {
				list, err := r.Instances(ctx, key)
				x.sawRegistry(name, list, err)
				var off []want
				if err == nil {
					for _, w := range wants {
						in, ok := instanceAt(list, w.step.Args.Address)
						if !ok || in.Enabled != w.enabled {
							off = append(off, w)
						}
					}
				}
				if err == nil && len(off) == 0 {
					return
				}
				if time.Since(start) >= settleBound || ctx.Err() != nil {
					var addrs []string
					for _, w := range off {
						addrs = append(addrs, fmt.Sprintf("%s (want enabled=%t)", w.step.Args.Address, w.enabled))
					}
					slices.Sort(addrs)
					msg := fmt.Sprintf("%s: the registry does not show what nonstop wrote after %s: %v%v", name, settleBound, addrs, errText(err))
					x.log.Warn(msg)
					x.em.emit(Event{Level: LevelWarn, Type: EventStepProgress, Service: name, Message: msg})
					return
				}
				if !rewritten && time.Since(start) >= settleRewrite && err == nil {
					rewritten = true
					for _, w := range off {
						in, ok := instanceAt(list, w.step.Args.Address)
						if !ok {
							in = providers.Instance{Address: w.step.Args.Address}
						}
						ik := instanceKey(key, in)
						x.log.Info("registry still shows an old value; writing it again", "service", name, "address", ik.Address, "enabled", w.enabled)
						_ = r.SetInstanceEnabled(ctx, ik, w.enabled)
					}
				}
				if sleep(ctx, settlePoll) != nil {
					return
				}
			}
		}()
	}
	for range bySvc {
		<-done
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
}
