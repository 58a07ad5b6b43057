package executor

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/redact"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// Timeline is the story of one apply as nonstop saw it: each step's start and end,
// the traffic each balancer pool and registry showed when nonstop read it back
// (wait.serving, wait.drain, a raise's confirmation, the registry guard and
// settle), the values of the gates, and the rollbacks, pauses and warnings. Times
// are milliseconds since Started. It is small enough for the state's history: a
// traffic series keeps a sample only when what was read changes, at most one per
// second, and at most maxSamples.
type Timeline struct {
	Started time.Time `json:"started"`
	EndMS   int64     `json:"end_ms"`
	// Outcome is the apply's last message: "Apply complete: 1 service applied."
	Outcome string `json:"outcome,omitempty"`
	// Failed is true when the apply did not complete.
	Failed bool `json:"failed,omitempty"`
	// Commit is the commit the plan was made at; By who ran the apply.
	Commit   string            `json:"commit,omitempty"`
	By       string            `json:"by,omitempty"`
	Services []TimelineService `json:"services,omitempty"`
	Steps    []TimelineStep    `json:"steps,omitempty"`
	Traffic  []TrafficSeries   `json:"traffic,omitempty"`
	Gates    []GateValue       `json:"gates,omitempty"`
	Marks    []TimelineMark    `json:"marks,omitempty"`
}

// TimelineService is one service of the apply: the versions and the groups of
// instances its configuration declares.
type TimelineService struct {
	Name   string          `json:"name"`
	From   string          `json:"from,omitempty"`
	To     string          `json:"to,omitempty"`
	Groups []TimelineGroup `json:"groups,omitempty"`
}

// TimelineGroup is a group of instances, in declaration order.
type TimelineGroup struct {
	Name      string   `json:"name"`
	Instances []string `json:"instances,omitempty"`
}

// TimelineStep is one step that ran (a rollback step included).
type TimelineStep struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Service string `json:"service"`
	Group   string `json:"group,omitempty"`
	Address string `json:"address,omitempty"`
	Target  string `json:"target,omitempty"`
	// Detail says what the step wrote or waited for: "weight 0", "1.0.0 → 1.1.0", "30s".
	Detail  string `json:"detail,omitempty"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
	// Result is StepDone, StepFailed or StepInterrupted.
	Result   string `json:"result"`
	Error    string `json:"error,omitempty"`
	Rollback bool   `json:"rollback,omitempty"`
}

// Step results in a Timeline.
const (
	StepDone        = "done"
	StepFailed      = "failed"
	StepInterrupted = "interrupted" // still running when the apply ended
)

// TrafficSeries is what one balancer pool, or a service in a registry, showed each
// time nonstop read it.
type TrafficSeries struct {
	// Kind is "balancer" or "registry".
	Kind     string `json:"kind"`
	Provider string `json:"provider"`
	// Pool is the balancer pool, or the service's name in the registry.
	Pool    string          `json:"pool"`
	Service string          `json:"service,omitempty"`
	Samples []TrafficSample `json:"samples"`
}

// TrafficSample holds what a series showed from T, first read, to U, last read
// with the same values (a later sample begins when they change).
type TrafficSample struct {
	T      int64          `json:"t"`
	U      int64          `json:"u"`
	Groups []GroupTraffic `json:"groups"`
}

// GroupTraffic is one group's part of a pool: its members, those serving (as the
// balancer or registry reports them), and their summed weight.
type GroupTraffic struct {
	Group   string  `json:"group"`
	Members int     `json:"members"`
	Serving int     `json:"serving"`
	Weight  float64 `json:"weight"`
}

// GateValue is one analysis a gate.analysis read.
type GateValue struct {
	T        int64    `json:"t"`
	StepID   string   `json:"step"`
	Service  string   `json:"service"`
	Analysis string   `json:"analysis"`
	Value    *float64 `json:"value,omitempty"`
	Max      float64  `json:"max_value"`
	// Result is "pass", "fail", "no_data" or "error".
	Result string `json:"result"`
	Error  string `json:"error,omitempty"`
}

// TimelineMark is an instant of the apply worth marking: a rollback's start and
// end, a pause, a warning.
type TimelineMark struct {
	T       int64  `json:"t"`
	Service string `json:"service,omitempty"`
	// Kind is an event type (rollback_start, rollback_complete, rollback_errored,
	// service_paused, step_waiting) or "warning".
	Kind    string `json:"kind"`
	StepID  string `json:"step,omitempty"`
	Message string `json:"message"`
}

// Bounds keeping a timeline small.
const (
	maxSamples   = 300
	maxMarks     = 200
	maxErrorText = 300
)

// ForService returns the part of the timeline about one service, nil when t is nil.
func (t *Timeline) ForService(name string) *Timeline {
	if t == nil {
		return nil
	}
	out := &Timeline{Started: t.Started, EndMS: t.EndMS, Outcome: t.Outcome, Failed: t.Failed, Commit: t.Commit, By: t.By}
	for _, s := range t.Services {
		if s.Name == name {
			out.Services = append(out.Services, s)
		}
	}
	for _, s := range t.Steps {
		if s.Service == name {
			out.Steps = append(out.Steps, s)
		}
	}
	for _, s := range t.Traffic {
		if s.Service == name {
			out.Traffic = append(out.Traffic, s)
		}
	}
	for _, g := range t.Gates {
		if g.Service == name {
			out.Gates = append(out.Gates, g)
		}
	}
	for _, m := range t.Marks {
		if m.Service == name || m.Service == "" {
			out.Marks = append(out.Marks, m)
		}
	}
	return out
}

// MergeTimelines joins the per-service parts of one apply's timeline (ForService)
// back into one; marks common to all services appear once.
func MergeTimelines(parts ...*Timeline) *Timeline {
	var out *Timeline
	seen := map[TimelineMark]bool{}
	for _, p := range parts {
		if p == nil {
			continue
		}
		if out == nil {
			out = &Timeline{Started: p.Started, Outcome: p.Outcome, Commit: p.Commit, By: p.By}
		}
		out.EndMS = max(out.EndMS, p.EndMS)
		out.Failed = out.Failed || p.Failed
		out.Services = append(out.Services, p.Services...)
		out.Steps = append(out.Steps, p.Steps...)
		out.Traffic = append(out.Traffic, p.Traffic...)
		out.Gates = append(out.Gates, p.Gates...)
		for _, m := range p.Marks {
			if !seen[m] {
				seen[m] = true
				out.Marks = append(out.Marks, m)
			}
		}
	}
	if out != nil {
		slices.SortStableFunc(out.Steps, func(a, b TimelineStep) int { return cmpInt(a.StartMS, b.StartMS) })
		slices.SortStableFunc(out.Marks, func(a, b TimelineMark) int { return cmpInt(a.T, b.T) })
		slices.SortStableFunc(out.Gates, func(a, b GateValue) int { return cmpInt(a.T, b.T) })
	}
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// WatchTimeline asks for the timeline of the next Runner.Apply of p, to be taken
// with TakeTimeline(key) once Apply returned. (The state's history keeps it.)
// Watches not taken are forgotten after a few newer ones.
func WatchTimeline(p *planner.Plan, cfg *lang.Config, key string) {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	watches.list = append(watches.list, &timelineWatch{key: key, plan: p, cfg: cfg})
	if len(watches.list) > 16 {
		watches.list = slices.Delete(watches.list, 0, len(watches.list)-16)
	}
}

// TakeTimeline returns the timeline watched under key, nil when the apply ran no
// step or never ended, and forgets the watch.
func TakeTimeline(key string) *Timeline {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	for i, w := range watches.list {
		if w.key == key {
			watches.list = slices.Delete(watches.list, i, i+1)
			return w.tl
		}
	}
	return nil
}

// watches are the timelines asked for with WatchTimeline.
var watches struct {
	mu   sync.Mutex
	list []*timelineWatch
}

type timelineWatch struct {
	key  string
	plan *planner.Plan
	cfg  *lang.Config
	tl   *Timeline // set when the apply ends
}

// watchOf finds the watch of the plan a step belongs to (a pointer into its
// Steps, as the Runner emits them), or of the plan itself.
func watchOf(p *planner.Plan, st *planner.Step) *timelineWatch {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	for _, w := range watches.list {
		if w.tl != nil {
			continue
		}
		if p != nil && w.plan == p {
			return w
		}
		if st != nil {
			for i := range w.plan.Steps {
				if &w.plan.Steps[i] == st {
					return w
				}
			}
		}
	}
	return nil
}

// recorder builds an apply's Timeline. The emitter feeds it every event; the
// read sites feed it what they read (sawPool, sawRegistry, sawGate).
type recorder struct {
	mu      sync.Mutex
	now     func() time.Time
	t0      time.Time
	tl      Timeline
	open    map[*planner.Step]int
	series  map[[3]string]int
	rolling map[string]bool
	cfg     *lang.Config
	plan    *planner.Plan
	watch   *timelineWatch
	tried   bool // looked for a watch
	ended   bool
}

func newRecorder(now func() time.Time) *recorder {
	return &recorder{now: now, open: map[*planner.Step]int{}, series: map[[3]string]int{}, rolling: map[string]bool{}}
}

// ms converts a time to milliseconds since the apply began.
func (r *recorder) ms(t time.Time) int64 {
	if r.t0.IsZero() {
		r.t0 = t
		r.tl.Started = t
	}
	return max(0, t.Sub(r.t0).Milliseconds())
}

// bind ties the recorder to its plan and configuration, and to the watch that
// asked for its timeline; r.mu is held.
func (r *recorder) bind(p *planner.Plan, cfg *lang.Config, st *planner.Step) {
	if r.cfg == nil && cfg != nil {
		r.cfg = cfg
	}
	if r.plan == nil && p != nil {
		r.plan = p
	}
	if r.watch == nil && (!r.tried || p != nil) {
		r.tried = r.tried || st != nil
		if w := watchOf(p, st); w != nil {
			r.watch = w
			if r.plan == nil {
				r.plan = w.plan
			}
			if r.cfg == nil {
				r.cfg = w.cfg
			}
		}
	}
}

// event records an event; on the apply's last event it closes the timeline and
// hands it over (e.Timeline and the watch).
func (r *recorder) event(e *Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	if e.Step != nil {
		r.bind(nil, nil, e.Step)
	}
	t := r.ms(e.Time)
	switch e.Type {
	case EventApplyStart:
		r.t0, r.tl.Started, t = e.Time, e.Time, 0
	case EventStepStart:
		r.open[e.Step] = len(r.tl.Steps)
		r.tl.Steps = append(r.tl.Steps, r.step(e.Step, t))
	case EventStepComplete, EventStepErrored:
		i, ok := r.open[e.Step]
		if !ok { // failed before it started (the state lock was lost)
			i = len(r.tl.Steps)
			r.tl.Steps = append(r.tl.Steps, r.step(e.Step, t))
		}
		delete(r.open, e.Step)
		s := &r.tl.Steps[i]
		s.EndMS, s.Result = t, StepDone
		if e.Type == EventStepErrored {
			s.Result, s.Error = StepFailed, clipLine(e.Error)
		}
	case EventRollbackStart:
		r.rolling[e.Service] = true
		r.mark(t, e, e.Type)
	case EventRollbackComplete, EventRollbackErrored, EventServicePaused:
		r.rolling[e.Service] = false
		r.mark(t, e, e.Type)
	case EventStepWaiting:
		r.mark(t, e, e.Type)
	case EventStepProgress:
		switch {
		case e.Gate != nil:
			g := *e.Gate
			g.T = t
			r.tl.Gates = append(r.tl.Gates, g)
		case e.Level == LevelWarn || e.Level == LevelError:
			r.mark(t, e, "warning")
		}
	case EventApplyComplete, EventApplyErrored:
		r.finish(t, e)
		tl := r.snapshot()
		e.Timeline = tl
		if r.watch != nil {
			watches.mu.Lock()
			r.watch.tl = tl
			watches.mu.Unlock()
		}
	}
}

// finish closes the timeline at t; r.mu is held.
func (r *recorder) finish(t int64, e *Event) {
	r.ended = true
	r.tl.EndMS = t
	r.tl.Outcome = e.Message
	r.tl.Failed = e.Type == EventApplyErrored
	for st, i := range r.open {
		s := &r.tl.Steps[i]
		s.EndMS, s.Result = t, StepInterrupted
		delete(r.open, st)
	}
	if r.plan != nil {
		r.tl.Commit = r.plan.Prior.Commit
	}
	r.tl.By = whoRuns()
	r.tl.Services = r.services()
	if r.cfg != nil {
		// The timeline is saved in the state and written in reports: no
		// sensitive value may reach it through an error or a message.
		if vals := r.cfg.SensitiveValues(); len(vals) > 0 {
			redactTimeline(&r.tl, redact.New(vals...))
		}
	}
}

// redactTimeline removes secrets from the timeline's texts.
func redactTimeline(tl *Timeline, red *redact.Redactor) {
	for i := range tl.Steps {
		s := &tl.Steps[i]
		s.Target, s.Detail, s.Error = red.String(s.Target), red.String(s.Detail), red.String(s.Error)
	}
	for i := range tl.Marks {
		tl.Marks[i].Message = red.String(tl.Marks[i].Message)
	}
	for i := range tl.Gates {
		tl.Gates[i].Error = red.String(tl.Gates[i].Error)
	}
	tl.Outcome = red.String(tl.Outcome)
}

// snapshot returns a deep enough copy of the timeline; r.mu is held.
func (r *recorder) snapshot() *Timeline {
	tl := r.tl
	tl.Steps = slices.Clone(tl.Steps)
	tl.Gates = slices.Clone(tl.Gates)
	tl.Marks = slices.Clone(tl.Marks)
	tl.Traffic = make([]TrafficSeries, len(r.tl.Traffic))
	for i, s := range r.tl.Traffic {
		s.Samples = slices.Clone(s.Samples)
		tl.Traffic[i] = s
	}
	return &tl
}

// services lists the services of the apply with their versions and groups, in
// the order of their first step; r.mu is held.
func (r *recorder) services() []TimelineService {
	var names []string
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if r.plan != nil {
		for _, st := range r.plan.Steps {
			add(st.Service)
		}
	}
	for _, st := range r.tl.Steps {
		add(st.Service)
	}
	from := map[string]map[string]bool{}
	if r.plan != nil {
		for _, st := range r.plan.Steps {
			if st.Kind == planner.Deploy && st.Args.FromVersion != "" {
				if from[st.Service] == nil {
					from[st.Service] = map[string]bool{}
				}
				from[st.Service][st.Args.FromVersion] = true
			}
		}
	}
	out := make([]TimelineService, 0, len(names))
	for _, n := range names {
		ts := TimelineService{Name: n, From: strings.Join(slices.Sorted(maps.Keys(from[n])), ", ")}
		if r.cfg != nil {
			if svc := r.cfg.Services[n]; svc != nil {
				ts.To = svc.Version
				for _, g := range svc.Groups {
					tg := TimelineGroup{Name: g.Name}
					for _, a := range g.Instances {
						tg.Instances = append(tg.Instances, a.String())
					}
					ts.Groups = append(ts.Groups, tg)
				}
			}
		}
		if ts.From == "" {
			ts.From = ts.To
		}
		out = append(out, ts)
	}
	return out
}

// step describes a step that starts at t; r.mu is held.
func (r *recorder) step(st *planner.Step, t int64) TimelineStep {
	s := TimelineStep{ID: st.ID, Kind: string(st.Kind), Service: st.Service, Target: st.Target,
		Group: st.Args.Group, Address: st.Args.Address, Detail: stepDetail(st), StartMS: t, EndMS: t,
		Rollback: r.rolling[st.Service]}
	if s.Group == "" && s.Address != "" {
		s.Group = r.groupOf(st.Service, s.Address)
	}
	if s.Group == "" {
		// wait.serving, wait.drain and balancer.switch act on several members:
		// their group when all are in one.
		var addrs []string
		for _, m := range st.Args.Members {
			if dm, err := parseMember(m); err == nil {
				addrs = append(addrs, dm.address)
			}
		}
		addrs = append(addrs, slices.Sorted(maps.Keys(st.Args.Weights))...)
		groups := map[string]bool{}
		for _, a := range addrs {
			groups[r.groupOf(st.Service, a)] = true
		}
		if len(groups) == 1 {
			for g := range groups {
				s.Group = g
			}
			if len(addrs) == 1 && s.Address == "" {
				s.Address = addrs[0]
			}
		}
	}
	return s
}

// stepDetail says in a few words what a step writes or waits for.
func stepDetail(st *planner.Step) string {
	a := st.Args
	switch st.Kind {
	case planner.Deploy:
		if a.FromVersion != "" {
			return a.FromVersion + " → " + a.Version
		}
		return a.Version
	case planner.BalancerSetWeight:
		if a.Weight != nil {
			return fmt.Sprintf("weight %d", *a.Weight)
		}
	case planner.BalancerSetState:
		return "state " + string(a.State)
	case planner.RegistrySetEnabled:
		if a.Enabled != nil && *a.Enabled {
			return "enabled"
		}
		return "disabled"
	case planner.RegistrySetWeight:
		if a.RegistryWeight != nil {
			return fmt.Sprintf("weight %g", *a.RegistryWeight)
		}
	case planner.BalancerSwitch:
		var parts []string
		for _, addr := range slices.Sorted(maps.Keys(a.Weights)) {
			parts = append(parts, fmt.Sprintf("%s=%d", addr, a.Weights[addr]))
		}
		return strings.Join(parts, " ")
	case planner.GateAnalysis:
		return strings.Join(a.Analysis, ", ")
	case planner.Pause:
		if a.UntilResumed {
			return "until resumed"
		}
	case planner.WaitDrain:
		if a.InFlight > 0 && len(a.Members) > 0 {
			return fmt.Sprintf("%s in flight, sessions up to %s", time.Duration(a.InFlight), time.Duration(a.Duration))
		}
		if a.InFlight > 0 {
			return time.Duration(a.InFlight).String() + " in flight"
		}
	}
	if a.Duration > 0 {
		return time.Duration(a.Duration).String()
	}
	return ""
}

// mark records an instant; r.mu is held.
func (r *recorder) mark(t int64, e *Event, kind string) {
	if len(r.tl.Marks) >= maxMarks {
		return
	}
	m := TimelineMark{T: t, Service: e.Service, Kind: kind, Message: clipLine(e.Message)}
	if e.Step != nil {
		m.StepID = e.Step.ID
		if m.Service == "" {
			m.Service = e.Step.Service
		}
	}
	r.tl.Marks = append(r.tl.Marks, m)
}

// groupOf returns the group of the configuration that declares addr in service,
// "" when none does; r.mu is held.
func (r *recorder) groupOf(service, addr string) string {
	if r.cfg == nil {
		return ""
	}
	svc := r.cfg.Services[service]
	if svc == nil {
		return ""
	}
	for _, g := range svc.Groups {
		for _, a := range g.Instances {
			if a.String() == addr {
				return g.Name
			}
		}
	}
	return ""
}

// poolService returns the service whose balancer block names provider and pool.
func (r *recorder) poolService(provider, pool string) string {
	if r.cfg == nil {
		return ""
	}
	for _, name := range slices.Sorted(maps.Keys(r.cfg.Services)) {
		for _, b := range r.cfg.Services[name].Balancers {
			if b.Provider.String() == provider && b.Pool == pool {
				return name
			}
		}
	}
	return ""
}

// sample records what a series showed at t; r.mu is held. A sample begins only
// when what was read changes; a change that lasted one read is kept (a dip to
// no member serving must show), and a series that changes all the time is
// thinned to maxSamples.
func (r *recorder) sample(kind, provider, pool, service string, t int64, groups []GroupTraffic) {
	k := [3]string{kind, provider, pool}
	i, ok := r.series[k]
	if !ok {
		i = len(r.tl.Traffic)
		r.series[k] = i
		r.tl.Traffic = append(r.tl.Traffic, TrafficSeries{Kind: kind, Provider: provider, Pool: pool, Service: service})
	}
	s := &r.tl.Traffic[i]
	if n := len(s.Samples); n > 0 && slices.Equal(s.Samples[n-1].Groups, groups) {
		s.Samples[n-1].U = t
		return
	}
	s.Samples = append(s.Samples, TrafficSample{T: t, U: t, Groups: groups})
	if len(s.Samples) > maxSamples { // thin out: every other sample but the first and last
		kept := s.Samples[:1]
		for j := 2; j < len(s.Samples)-1; j += 2 {
			kept = append(kept, s.Samples[j])
		}
		s.Samples = append(kept, s.Samples[len(s.Samples)-1])
	}
}

// sawPool records a balancer pool the executor read.
func (x *execution) sawPool(provider, pool string, members []providers.Member, err error) {
	if err != nil {
		return
	}
	r := x.em.recorder()
	t := x.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bind(x.plan, x.r.Config, nil)
	if r.ended {
		return
	}
	service := r.poolService(provider, pool)
	byGroup := map[string]*GroupTraffic{}
	for _, m := range members {
		g := groupTraffic(byGroup, r.groupOf(service, m.Address))
		g.Members++
		if m.Serving() {
			g.Serving++
			g.Weight += float64(m.Weight)
		}
	}
	r.sample("balancer", provider, pool, service, r.ms(t), sortedGroups(byGroup))
}

// sawRegistry records a service's instances as the executor read them from its
// registry.
func (x *execution) sawRegistry(service string, list []providers.Instance, err error) {
	if err != nil {
		return
	}
	r := x.em.recorder()
	t := x.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bind(x.plan, x.r.Config, nil)
	if r.ended {
		return
	}
	provider := "registry"
	if r.cfg != nil {
		if svc := r.cfg.Services[service]; svc != nil && svc.Registry != nil {
			provider = svc.Registry.Provider.String()
		}
	}
	byGroup := map[string]*GroupTraffic{}
	for _, in := range list {
		g := groupTraffic(byGroup, r.groupOf(service, in.Address))
		g.Members++
		if in.Enabled && in.Healthy {
			g.Serving++
			g.Weight += in.Weight
		}
	}
	r.sample("registry", provider, service, service, r.ms(t), sortedGroups(byGroup))
}

// sawGate reports the value an analysis of a gate read, as a step_progress event
// carrying it (Event.Gate) that the timeline keeps.
func (x *execution) sawGate(st *planner.Step, a *lang.Analysis, value float64, err error) {
	g := &GateValue{StepID: st.ID, Service: st.Service, Analysis: a.Name, Max: a.MaxValue}
	level := LevelInfo
	var msg string
	switch {
	case errors.Is(err, errNoData):
		g.Result = "no_data"
		msg = fmt.Sprintf("%s: analysis %s returned no data (no_data = %q)", describe(st), a.Name, a.NoData)
		level = LevelWarn
	case err != nil:
		g.Result, g.Error = "error", clipLine(err.Error())
		msg = fmt.Sprintf("%s: analysis %s: %v", describe(st), a.Name, err)
		level = LevelWarn
	case value > a.MaxValue:
		g.Result, g.Value = "fail", &value
		msg = fmt.Sprintf("%s: analysis %s: %g is above max_value %g", describe(st), a.Name, value, a.MaxValue)
		level = LevelWarn
	default:
		g.Result, g.Value = "pass", &value
		msg = fmt.Sprintf("%s: analysis %s: %g <= %g", describe(st), a.Name, value, a.MaxValue)
	}
	x.em.emit(Event{Level: level, Type: EventStepProgress, Step: st, Service: st.Service, Message: msg, Gate: g})
}

func groupTraffic(m map[string]*GroupTraffic, group string) *GroupTraffic {
	if group == "" {
		group = "other"
	}
	g := m[group]
	if g == nil {
		g = &GroupTraffic{Group: group}
		m[group] = g
	}
	return g
}

func sortedGroups(m map[string]*GroupTraffic) []GroupTraffic {
	out := make([]GroupTraffic, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, *m[k])
	}
	return out
}

// clipLine keeps the first line of s, at most maxErrorText bytes.
func clipLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > maxErrorText {
		n := maxErrorText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// whoRuns names who runs the apply: the CI's user when a CI says, else
// user@host (state.Actor, which history records too).
func whoRuns() string { return state.Actor(nil) }
