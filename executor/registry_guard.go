package executor

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// guardRewrite is how long a guard trusts its own disable before it writes again:
// registries list writes with a lag (Polaris' cache, about a second), and a
// guard that wrote on every list would hammer the registry for nothing.
const guardRewrite = 2 * time.Second

// guardPoll is how often a registry guard lists a service's instances. A consumer
// that refreshes every second learns of an enabled instance about a second after
// the registry does; the guard disables it well within that.
const guardPoll = 200 * time.Millisecond

// registryGuards keep deployed instances out of registry traffic until their gates
// pass. A restarted application registers itself, and on Polaris a new
// registration is enabled at once: nonstop asks the deploy to register disabled
// (NONSTOP_REGISTER_ENABLED=false), and from the deploy's start until the step that
// enables the instance, a guard watches the registry and disables the instance
// the moment it shows up enabled, reporting it.
type registryGuards struct {
	x *execution
	// writing is held from a guard's decision to disable an instance until its
	// write returns, and by release: an enable never races a guard's disable.
	writing sync.Mutex
	mu      sync.Mutex
	byName  map[string]*serviceGuard // by service
	// caught holds, by "service|address", when a guard last disabled an instance:
	// registry consumers may have picked it up, so a redeploy must wait for
	// propagation.
	caught map[string]time.Time
}

// serviceGuard watches one service's registry for its guarded addresses.
type serviceGuard struct {
	step   planner.Step // a step of the service, for registryOf
	addrs  map[string]bool
	cancel context.CancelFunc
	done   chan struct{}
}

func newRegistryGuards(x *execution) *registryGuards {
	return &registryGuards{x: x, byName: map[string]*serviceGuard{}, caught: map[string]time.Time{}}
}

// hold starts guarding the instance of a deploy step.
func (g *registryGuards) hold(ctx context.Context, st *planner.Step) {
	g.mu.Lock()
	defer g.mu.Unlock()
	sg := g.byName[st.Service]
	if sg == nil {
		gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		sg = &serviceGuard{step: *st, addrs: map[string]bool{}, cancel: cancel, done: make(chan struct{})}
		g.byName[st.Service] = sg
		go g.watch(gctx, st.Service, sg)
	}
	sg.addrs[st.Args.Address] = true
}

// release stops guarding an address: nonstop is about to enable it. It returns
// once no guard write to the address is in flight.
func (g *registryGuards) release(service, addr string) {
	g.writing.Lock()
	defer g.writing.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if sg := g.byName[service]; sg != nil {
		delete(sg.addrs, addr)
	}
}

// wasCaught reports whether a guard found the instance enabled during this apply.
func (g *registryGuards) wasCaught(service, addr string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.caught[service+"|"+addr]
	return ok
}

// stop ends every guard and waits for them.
func (g *registryGuards) stop() {
	g.mu.Lock()
	guards := make([]*serviceGuard, 0, len(g.byName))
	for _, sg := range g.byName {
		sg.cancel()
		guards = append(guards, sg)
	}
	g.byName = map[string]*serviceGuard{}
	g.mu.Unlock()
	for _, sg := range guards {
		<-sg.done
	}
}

// guarded returns the addresses a service guard holds now, sorted.
func (g *registryGuards) guarded(sg *serviceGuard) []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, 0, len(sg.addrs))
	for a := range sg.addrs {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// watch lists the service's instances every guardPoll and disables a guarded one
// that is enabled.
func (g *registryGuards) watch(ctx context.Context, service string, sg *serviceGuard) {
	defer close(sg.done)
	x := g.x
	r, key, err := x.registryOf(&sg.step)
	if err != nil {
		x.log.Warn("registry guard: "+err.Error(), "service", service)
		return
	}
	for {
		if addrs := g.guarded(sg); len(addrs) > 0 {
			list, err := r.Instances(ctx, key)
			x.sawRegistry(service, list, err)
			if err != nil && ctx.Err() == nil {
				x.log.Debug("registry guard: listing instances", "service", service, "error", err)
			}
			for _, in := range list {
				if !in.Enabled || !slices.Contains(addrs, in.Address) {
					continue
				}
				g.disable(ctx, r, key, service, in)
			}
		}
		if err := sleep(ctx, guardPoll); err != nil {
			return
		}
	}
}

// disable turns off an instance that registered enabled before its gates passed.
func (g *registryGuards) disable(ctx context.Context, r providers.Registry, key providers.ServiceKey, service string, in providers.Instance) {
	x := g.x
	ik := instanceKey(key, in)
	// Enabling may have begun since the list call: decide, and write, under
	// g.writing, which release takes too.
	g.writing.Lock()
	defer g.writing.Unlock()
	g.mu.Lock()
	sg := g.byName[service]
	still := sg != nil && sg.addrs[in.Address]
	ck := service + "|" + in.Address
	last, seen := g.caught[ck]
	if still && (!seen || time.Since(last) >= guardRewrite) {
		g.caught[ck] = time.Now()
	} else {
		still = false
	}
	g.mu.Unlock()
	if !still {
		return
	}
	err := r.SetInstanceEnabled(ctx, ik, false)
	msg := fmt.Sprintf("%s: %s registered itself enabled before its health and verify gates passed; nonstop disabled it "+
		"(have the deploy register it disabled: NONSTOP_REGISTER_ENABLED=false)", service, in.Address)
	if err != nil {
		msg = fmt.Sprintf("%s: %s registered itself enabled before its gates passed, and disabling it failed: %v", service, in.Address, err)
	}
	if seen && err == nil {
		x.log.Debug("registry guard: the registry still lists the instance enabled; disabled it again", "service", service, "address", in.Address)
		return
	}
	x.log.Warn(msg)
	x.em.emit(Event{Level: LevelWarn, Type: EventStepProgress, Service: service, Message: msg})
}
