package executor

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// graph is a plan's steps with their After edges resolved to indexes.
type graph struct {
	steps      []planner.Step
	deps       []int   // number of dependencies per step
	dependents [][]int // steps waiting on each step
}

// newGraph checks that step ids are unique, that every After names a step, and that
// the steps form a DAG.
func newGraph(steps []planner.Step) (*graph, error) {
	index := make(map[string]int, len(steps))
	for i, st := range steps {
		if st.ID == "" {
			return nil, fmt.Errorf("step %d has no id", i)
		}
		if _, dup := index[st.ID]; dup {
			return nil, fmt.Errorf("step id %q is used twice", st.ID)
		}
		index[st.ID] = i
	}
	g := &graph{steps: steps, deps: make([]int, len(steps)), dependents: make([][]int, len(steps))}
	for i, st := range steps {
		for _, dep := range st.After {
			j, ok := index[dep]
			if !ok {
				return nil, fmt.Errorf("step %s runs after %q, which is not in the plan", st.ID, dep)
			}
			g.deps[i]++
			g.dependents[j] = append(g.dependents[j], i)
		}
	}
	// Kahn's algorithm: every step must become ready at some point.
	left := append([]int(nil), g.deps...)
	var queue []int
	for i, n := range left {
		if n == 0 {
			queue = append(queue, i)
		}
	}
	seen := 0
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		seen++
		for _, d := range g.dependents[i] {
			if left[d]--; left[d] == 0 {
				queue = append(queue, d)
			}
		}
	}
	if seen != len(steps) {
		for i, n := range left {
			if n > 0 {
				return nil, fmt.Errorf("steps form a cycle through %s", steps[i].ID)
			}
		}
	}
	return g, nil
}

// stepStatus is where a step is in its life.
type stepStatus int

const (
	statusPending stepStatus = iota
	statusRunning
	statusDone
	statusFailed
)

type stepDone struct {
	index int
	err   error
}

// runGraph runs the steps in dependency order, ready steps in plan order, as
// their slots allow (see slots: Parallelism writes per provider and deploys at
// once, PerHostDeploys per host; waiting steps hold none). A failed step stops new steps of its service; once the
// service has nothing running its on_failure policy runs in the background. A
// journal failure or a cancelled ctx stops all new work.
func (x *execution) runGraph(ctx context.Context, g *graph) {
	par, perHost := x.r.Parallelism, x.r.PerHostDeploys
	if par <= 0 {
		par = DefaultParallelism
	}
	if perHost <= 0 {
		perHost = DefaultPerHostDeploys
	}
	slots := newSlots(par, perHost)
	status := make([]stepStatus, len(g.steps))
	x.statuses = status
	left := append([]int(nil), g.deps...)
	var ready []int
	for i, n := range left {
		if n == 0 {
			ready = append(ready, i)
		}
	}
	done := make(chan stepDone)
	// released receives a running step whose slots go back early (waitsFromHere).
	released := make(chan int)
	given := make([]bool, len(g.steps))
	handled := make(chan struct{})
	running, handlers := 0, 0

	for {
		if ctx.Err() == nil && x.abortErr == nil {
			kept := ready[:0]
			for _, i := range ready {
				sr := x.services[g.steps[i].Service]
				if sr.failed || !slots.take(&g.steps[i]) {
					kept = append(kept, i)
					continue
				}
				status[i] = statusRunning
				sr.running++
				running++
				go func(i int) {
					sctx := withSlotRelease(ctx, func() { released <- i })
					done <- stepDone{i, x.runOne(sctx, &g.steps[i], sr, false)}
				}(i)
			}
			ready = kept
			for _, name := range x.order {
				sr := x.services[name]
				if sr.failed && sr.running == 0 && !sr.handled {
					sr.handled = true
					handlers++
					go func() {
						x.handleFailure(ctx, sr)
						handled <- struct{}{}
					}()
				}
			}
		}
		if running == 0 && handlers == 0 {
			return
		}
		select {
		case <-handled:
			handlers--
		case i := <-released:
			slots.give(&g.steps[i])
			given[i] = true
		case d := <-done:
			running--
			st := &g.steps[d.index]
			if !given[d.index] {
				slots.give(st)
			}
			sr := x.services[st.Service]
			sr.running--
			switch {
			case d.err == nil:
				status[d.index] = statusDone
				for _, j := range g.dependents[d.index] {
					if left[j]--; left[j] == 0 {
						ready = insertSorted(ready, j)
					}
				}
			case aborts(d.err):
				status[d.index] = statusFailed
				if x.abortErr == nil {
					x.abortErr = d.err
				}
			default:
				status[d.index] = statusFailed
				if !sr.failed {
					x.mu.Lock()
					sr.failed, sr.failedStep, sr.failErr = true, st.ID, d.err
					x.mu.Unlock()
					x.skipDependants(g, status, sr.name)
				}
			}
		}
	}
}

func insertSorted(s []int, v int) []int {
	i := sort.SearchInts(s, v)
	s = append(s, 0)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

// runOne journals, runs and reports one step. Rollback steps are marked so that a
// redeploy does not count as touching an instance.
func (x *execution) runOne(ctx context.Context, st *planner.Step, sr *serviceRun, rollback bool) error {
	if x.r.Fence != nil {
		if err := x.r.Fence(ctx); err != nil {
			x.em.emit(Event{Level: LevelError, Type: EventStepErrored, Step: st, Service: st.Service,
				Message: describe(st) + ": not started: the state lock was lost", Error: err.Error()})
			return &fenceError{err}
		}
	}
	start := x.now()
	if err := x.record(ctx, st, JournalStart, ""); err != nil {
		return err
	}
	x.em.emit(Event{Type: EventStepStart, Step: st, Service: st.Service, Message: describe(st) + ": Starting..."})
	if st.Kind == planner.Deploy && !rollback {
		x.mu.Lock()
		sr.touch(st)
		x.mu.Unlock()
	}
	writes, err := x.runStep(ctx, st)
	elapsed := x.now().Sub(start)
	if err != nil {
		if len(writes) > 0 {
			x.mu.Lock()
			sr.noteWrites(writes)
			x.mu.Unlock()
		}
		x.em.emit(Event{Level: LevelError, Type: EventStepErrored, Step: st, Service: st.Service, Elapsed: elapsed,
			Message: fmt.Sprintf("%s: Failed after %s", describe(st), roundElapsed(elapsed)), Error: err.Error()})
		if jerr := x.record(ctx, st, JournalError, err.Error()); jerr != nil {
			return jerr
		}
		return &StepError{StepID: st.ID, Kind: st.Kind, Target: st.Target, Err: err}
	}
	x.mu.Lock()
	sr.complete(st, writes, rollback)
	x.mu.Unlock()
	if err := x.record(ctx, st, JournalEnd, ""); err != nil {
		return err
	}
	x.em.emit(Event{Type: EventStepComplete, Step: st, Service: st.Service, Elapsed: elapsed,
		Message: fmt.Sprintf("%s: Complete after %s", describe(st), roundElapsed(elapsed))})
	return nil
}

// record writes a journal entry. It uses a context that outlives a cancelled apply,
// so that the journal shows where the interruption hit.
func (x *execution) record(ctx context.Context, st *planner.Step, event, msg string) error {
	if x.r.Journal == nil {
		return nil
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	// A provider's error may quote a credential (an API echoing the key it refused).
	e := JournalEntry{StepID: st.ID, Kind: string(st.Kind), Target: st.Target, Address: st.Args.Address,
		Event: event, Error: x.secrets.String(msg), At: x.now()}
	if err := x.r.Journal.Record(jctx, e); err != nil {
		return &journalError{err}
	}
	return nil
}

// recordProcess journals the process group a deploy step started, so that the
// apply after a crash finds a deploy that outlived this one.
func (x *execution) recordProcess(ctx context.Context, st *planner.Step, pgid int) error {
	if x.r.Journal == nil {
		return nil
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	e := JournalEntry{StepID: st.ID, Kind: string(st.Kind), Target: st.Target, Address: st.Args.Address,
		Event: JournalProcess, At: x.now(), PGID: pgid}
	if err := x.r.Journal.Record(jctx, e); err != nil {
		return &journalError{err}
	}
	return nil
}

func roundElapsed(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Millisecond)
}
