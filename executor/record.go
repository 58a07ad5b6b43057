package executor

import (
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// write is one object a step changed: the single-object step that was applied and
// the step that restores the value read just before the write.
type write struct {
	key     string
	address string // instance address; "" for routes
	did     planner.Step
	undo    planner.Step
}

// Object classes, in the order rollback restores traffic.
const (
	classBalancer = iota
	classRegistry
	classRoute
)

// class says which kind of object a write is about.
func (w write) class() int {
	switch w.did.Kind {
	case planner.RegistrySetEnabled, planner.RegistrySetWeight:
		return classRegistry
	case planner.RouteSet, planner.RouteDelete, planner.GatewayPublish:
		return classRoute
	}
	return classBalancer
}

// traffic reports whether the write switches traffic on or off (as opposed to a
// registry weight or a route), and whether its value serves traffic.
func traffic(st planner.Step) (isTraffic, serving bool) {
	switch st.Kind {
	case planner.BalancerSetWeight:
		return true, st.Args.Weight != nil && *st.Args.Weight > 0
	case planner.BalancerSetState:
		return true, st.Args.State == providers.StateReady || st.Args.State == ""
	case planner.RegistrySetEnabled:
		return true, st.Args.Enabled != nil && *st.Args.Enabled
	}
	return false, false
}

// serviceRun is what happened to one service during an apply: the scheduler's
// bookkeeping and the in-memory journal rollback is derived from.
type serviceRun struct {
	name string

	// Scheduler state (only the scheduler goroutine writes these).
	running    int
	failed     bool
	handled    bool
	failedStep string
	failErr    error

	// Guarded by execution.mu.
	completed   []planner.Step
	rolledBack  []planner.Step
	keys        []string                 // object keys in first-write order
	origin      map[string]write         // the first write of each object
	latest      map[string]write         // the last write of each object
	touched     []string                 // addresses whose deploy started, in order
	views       map[string]*InstanceView // read back after a pause or rollback
	touchedBy   map[string]planner.Step
	deployed    map[string]string // address -> version a completed deploy put there
	policy      string            // the on_failure policy that ran
	rollbackErr error
	notRestored []string // addresses rollback could not bring back
	skippedBy   string   // the failed service this one depends on, "" when not skipped
}

func newServiceRun(name string) *serviceRun {
	return &serviceRun{
		name:      name,
		origin:    map[string]write{},
		latest:    map[string]write{},
		touchedBy: map[string]planner.Step{},
		deployed:  map[string]string{},
	}
}

// touch records that a deploy started on an instance: from now on its version is
// the plan's business, not the old one.
func (sr *serviceRun) touch(st *planner.Step) {
	addr := st.Args.Address
	if _, ok := sr.touchedBy[addr]; !ok {
		sr.touched = append(sr.touched, addr)
	}
	sr.touchedBy[addr] = *st
	delete(sr.deployed, addr)
}

// complete records a completed step and the writes it made.
func (sr *serviceRun) complete(st *planner.Step, writes []write, rollback bool) {
	if rollback {
		sr.rolledBack = append(sr.rolledBack, *st)
	} else {
		sr.completed = append(sr.completed, *st)
	}
	if st.Kind == planner.Deploy {
		sr.deployed[st.Args.Address] = st.Args.Version
	}
	sr.noteWrites(writes)
}

// noteWrites records objects a step wrote: the first write of an object is its
// origin, which rollback restores. A step that failed after writing (a raise the
// balancer never confirmed) notes its writes too.
func (sr *serviceRun) noteWrites(writes []write) {
	for _, w := range writes {
		if _, ok := sr.origin[w.key]; !ok {
			sr.origin[w.key] = w
			sr.keys = append(sr.keys, w.key)
		}
		sr.latest[w.key] = w
	}
}

// servingNow reports whether the last values written to an instance let it take
// traffic anywhere.
func (sr *serviceRun) servingNow(addr string) bool {
	for _, k := range sr.keys {
		w := sr.latest[k]
		if w.address != addr {
			continue
		}
		if isTraffic, serving := traffic(w.did); isTraffic && serving {
			return true
		}
	}
	return false
}

// outOfTraffic lists the instances nonstop took out of traffic that no path
// serves: as read back after a pause or rollback, else by what nonstop last wrote.
func (sr *serviceRun) outOfTraffic() []string {
	if sr.views != nil {
		var addrs []string
		for _, k := range sr.keys {
			if a := sr.latest[k].address; a != "" {
				addrs = append(addrs, a)
			}
		}
		return outOfTrafficLive(sr.views, append(addrs, sr.touched...))
	}
	seen := map[string]bool{}
	var out []string
	for _, k := range sr.keys {
		w := sr.latest[k]
		if w.address == "" || seen[w.address] {
			continue
		}
		if isTraffic, serving := traffic(w.did); isTraffic && !serving && !sr.servingNow(w.address) {
			seen[w.address] = true
			out = append(out, w.address)
		}
	}
	return out
}
