package planner

import (
	"container/heap"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/providers"
)

// DefaultPerHostDeploys bounds the deploys running at once on one host when
// Bounds.DeploysPerHost is zero.
const DefaultPerHostDeploys = 10

// Bounds are the limits an apply runs under. They bound what loads other
// systems — writes to a provider, deploy commands — and never a step that only
// waits: a propagation wait, a drain, a health check, a verify, a gate or a
// pause holds no slot, so a hundred services that mostly wait release in about
// the time of one.
type Bounds struct {
	// WritesPerProvider bounds the writes in flight to one provider: registry,
	// balancer and route writes (-parallelism).
	WritesPerProvider int `json:"writes_per_provider"`
	// Deploys bounds the deploy commands running at once (-parallelism).
	Deploys int `json:"deploys"`
	// DeploysPerHost bounds the deploy commands running at once on one host
	// (-parallelism-per-host), so that one VM is not asked to restart many
	// services at once.
	DeploysPerHost int `json:"deploys_per_host"`
}

// NewBounds returns the bounds of an apply run with -parallelism parallelism
// and -parallelism-per-host perHost; zero or less means the default (10 each).
func NewBounds(parallelism, perHost int) Bounds {
	if parallelism <= 0 {
		parallelism = DefaultParallelism
	}
	if perHost <= 0 {
		perHost = DefaultPerHostDeploys
	}
	return Bounds{WritesPerProvider: parallelism, Deploys: parallelism, DeploysPerHost: perHost}
}

// withDefaults returns b with each bound of zero or less set to its default.
func (b Bounds) withDefaults() Bounds {
	d := NewBounds(0, 0)
	if b.WritesPerProvider <= 0 {
		b.WritesPerProvider = d.WritesPerProvider
	}
	if b.Deploys <= 0 {
		b.Deploys = d.Deploys
	}
	if b.DeploysPerHost <= 0 {
		b.DeploysPerHost = d.DeploysPerHost
	}
	return b
}

// Slots returns the slots a step holds while it runs, with the limit of each:
// "provider KIND.NAME" for a write, "deploy" and "host HOST" for a deploy. A
// step that only waits needs none (nil), nor does a write to a provider whose
// kind groups the writes it receives at once (Capabilities.GroupsWrites). The executor schedules by it and the
// estimate simulates it, so both read the same rule.
func (b Bounds) Slots(st *Step) map[string]int {
	primary, limit, host, grouped := b.slotKeys(st)
	if primary == "" || grouped {
		return nil
	}
	k := map[string]int{primary: limit}
	if host != "" {
		k[host] = b.DeploysPerHost
	}
	return k
}

// slotKeys returns a step's primary slot ("provider KIND.NAME" or "deploy")
// with its limit, and for a deploy its host's slot ("host HOST"); "" for none.
// grouped is set for a write to a provider that groups the writes it receives
// at once: it holds no slot, and the estimate simulates its groups.
func (b Bounds) slotKeys(st *Step) (primary string, limit int, host string, grouped bool) {
	switch st.Kind {
	case BalancerSetWeight, BalancerSetState, BalancerSwitch,
		RegistrySetEnabled, RegistrySetWeight, RouteSet, RouteDelete, GatewayPublish:
		// A provider that groups the writes it receives at once (nginx) passes
		// them on one group at a time: the system behind it sees one write
		// whatever the number sent, and more writes per group mean fewer reloads.
		kind, _, _ := strings.Cut(st.Args.Provider, ".")
		return "provider " + st.Args.Provider, b.WritesPerProvider, "", providers.CapabilitiesOf(kind).GroupsWrites
	case Deploy:
		if h, _, err := net.SplitHostPort(st.Args.Address); err == nil {
			host = "host " + h
		}
		return "deploy", b.Deploys, host, false
	}
	return "", 0, "", false
}

// What the estimate assumes for the steps whose time nonstop cannot know before
// they run. Waits count as planned (propagation, a timed pause), a drain
// AssumedDrain within its bound; a pause until resumed counts as zero.
const (
	// AssumedDeploy is the time a deploy command is assumed to take.
	AssumedDeploy = time.Second
	// AssumedWrite is the time a write to a provider is assumed to take.
	AssumedWrite = 50 * time.Millisecond
	// AssumedDrain is the time a drain is assumed to take when its bound is
	// longer: in-flight requests end, and the wait ends with them (never less
	// than its in_flight). A drain that closes long-lived sessions at its bound
	// (Args.Close) counts its bound.
	AssumedDrain = time.Second
)

// Estimate is how long a plan is expected to take under its bounds.
type Estimate struct {
	// Wall is the simulated wall time: the plan's steps scheduled as the executor
	// schedules them (dependency order, ready steps in plan order, writes and
	// deploys only as their slots allow, waits at once), each step taking its
	// wait or the assumed time of a deploy or a write.
	Wall time.Duration
	// Waits is the sum of the waits on the critical path, as the simulation
	// counts them: the wall time with no bounds and instantaneous deploys and
	// writes.
	Waits time.Duration
}

// EstimateWall simulates the plan's steps under b. after holds each step's
// dependencies as indexes (steps come after the steps they wait for).
func EstimateWall(steps []Step, after [][]int32, b Bounds) Estimate {
	b = b.withDefaults()
	return Estimate{Wall: simulate(steps, after, b), Waits: waitPath(steps, after)}
}

// waitPath is the longest path through the steps counting their waits as the
// simulation does (stepTime), deploys and writes as zero.
func waitPath(steps []Step, after [][]int32) time.Duration {
	finish := make([]time.Duration, len(steps))
	var longest time.Duration
	for i := range steps {
		var begin time.Duration
		for _, j := range after[i] {
			begin = max(begin, finish[j])
		}
		if k := steps[i].Kind; k != Deploy && !isWrite(k) {
			begin += stepTime(&steps[i])
		}
		finish[i] = begin
		longest = max(longest, begin)
	}
	return longest
}

// isWrite reports whether a step kind writes to a provider.
func isWrite(k StepKind) bool {
	switch k {
	case BalancerSetWeight, BalancerSetState, BalancerSwitch,
		RegistrySetEnabled, RegistrySetWeight, RouteSet, RouteDelete, GatewayPublish:
		return true
	}
	return false
}

// stepTime is the time the estimate gives a step.
func stepTime(st *Step) time.Duration {
	switch st.Kind {
	case WaitDrain:
		if len(st.Args.Close) > 0 {
			return st.Args.Hold()
		}
		return max(min(time.Duration(st.Args.Duration), AssumedDrain), time.Duration(st.Args.InFlight))
	case WaitPropagation, Pause:
		return st.Args.Hold()
	case Deploy:
		return AssumedDeploy
	}
	if isWrite(st.Kind) {
		return AssumedWrite
	}
	return 0
}

// simulate is the executor's scheduler run against a clock instead of live
// systems. A step's slots are a primary one (its provider's, or the deploy
// slot) and for a deploy its host's. The writes to a provider that groups them
// go in groups: every write ready when the previous group ended, at once. Ready steps wait in plan order per primary
// slot; whenever a primary slot has room, the first of its steps whose host has
// room starts, as the executor starts the first ready step whose slots allow
// (steps of different primary slots never compete). Steps that only wait start
// at once. Only the primary slots that changed are looked at, so a plan of
// 70,000 steps simulates in tens of milliseconds.
func simulate(steps []Step, after [][]int32, b Bounds) time.Duration {
	n := len(steps)
	left := make([]int, n)
	dependents := make([][]int32, n)
	for i := range steps {
		left[i] = len(after[i])
		for _, j := range after[i] {
			dependents[j] = append(dependents[j], int32(i))
		}
	}
	type lane struct {
		limit, used int
		ready       []int32 // in plan order
		dirty       bool
		// grouped: the provider takes every write ready at once as one group,
		// one group at a time (nginx's group commit).
		grouped bool
	}
	lanes := map[string]*lane{}
	laneOf := make([]*lane, n)
	hostOf := make([]string, n)
	hostLimit := b.DeploysPerHost
	for i := range steps {
		k, limit, host, grouped := b.slotKeys(&steps[i])
		if k == "" {
			continue
		}
		l := lanes[k]
		if l == nil {
			l = &lane{limit: limit, grouped: grouped}
			lanes[k] = l
		}
		laneOf[i], hostOf[i] = l, host
	}
	hostUsed := map[string]int{}
	var dirty []*lane
	var running finishHeap
	var now time.Duration

	start := func(i int32) {
		if l := laneOf[i]; l != nil {
			l.used++
		}
		if h := hostOf[i]; h != "" {
			hostUsed[h]++
		}
		heap.Push(&running, finish{at: now + stepTime(&steps[i]), step: i})
	}
	touch := func(l *lane) {
		if !l.dirty {
			l.dirty = true
			dirty = append(dirty, l)
		}
	}
	ready := func(i int32) {
		l := laneOf[i]
		if l == nil {
			start(i)
			return
		}
		at, _ := slices.BinarySearch(l.ready, i)
		l.ready = slices.Insert(l.ready, at, i)
		touch(l)
	}
	schedule := func() {
		for _, l := range dirty {
			l.dirty = false
			if l.grouped {
				// The next group: every write ready once the last one ended.
				if l.used == 0 {
					group := l.ready
					l.ready = nil
					for _, i := range group {
						start(i)
					}
				}
				continue
			}
			for l.used < l.limit {
				k := slices.IndexFunc(l.ready, func(i int32) bool { return hostOf[i] == "" || hostUsed[hostOf[i]] < hostLimit })
				if k < 0 {
					break
				}
				i := l.ready[k]
				l.ready = slices.Delete(l.ready, k, k+1)
				start(i)
			}
		}
		dirty = dirty[:0]
	}
	for i := range steps {
		if left[i] == 0 {
			ready(int32(i))
		}
	}
	schedule()
	for running.Len() > 0 {
		f := heap.Pop(&running).(finish)
		now = f.at
		done := []int32{f.step}
		for running.Len() > 0 && running[0].at == now {
			done = append(done, heap.Pop(&running).(finish).step)
		}
		for _, i := range done {
			if l := laneOf[i]; l != nil {
				l.used--
				touch(l)
			}
			if h := hostOf[i]; h != "" {
				hostUsed[h]--
				// A host's slot freed may let a deploy start that waited for it.
				if dl := laneOf[i]; dl != nil {
					touch(dl)
				}
			}
			for _, d := range dependents[i] {
				if left[d]--; left[d] == 0 {
					ready(d)
				}
			}
		}
		schedule()
	}
	return now
}

// finish is when a running step ends.
type finish struct {
	at   time.Duration
	step int32
}

// finishHeap orders running steps by end, then plan order.
type finishHeap []finish

func (h finishHeap) Len() int { return len(h) }
func (h finishHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].step < h[j].step
}
func (h finishHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *finishHeap) Push(x any)   { *h = append(*h, x.(finish)) }
func (h *finishHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// EstimateBasis is what a plan's estimated wall time assumed.
type EstimateBasis struct {
	// Bounds are the apply's bounds the estimate simulated.
	Bounds Bounds `json:"bounds"`
	// Deploy and Write are the times assumed for a deploy command and for a
	// write to a provider (AssumedDeploy, AssumedWrite).
	Deploy Duration `json:"assumed_deploy"`
	Write  Duration `json:"assumed_write"`
	// CriticalWaits is the sum of waits on the critical path, what the wall
	// time would be with no bounds and instantaneous deploys and writes.
	CriticalWaits Duration `json:"critical_waits"`
	// Drain is the time assumed for a drain that ends before its bound
	// (AssumedDrain).
	Drain Duration `json:"assumed_drain"`
}

// estimate sets the summary's estimate from a simulation of the steps under b.
func (s *Summary) estimate(steps []Step, after [][]int32, b Bounds) {
	b = b.withDefaults()
	e := EstimateWall(steps, after, b)
	s.EstimatedWall = Duration(e.Wall)
	s.Estimate = &EstimateBasis{Bounds: b, Deploy: Duration(AssumedDeploy), Write: Duration(AssumedWrite),
		Drain: Duration(AssumedDrain), CriticalWaits: Duration(e.Waits)}
}
