package views

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/planner"
)

// TTY redraw pacing.
const (
	ttyThrottle = 100 * time.Millisecond
	ttyTick     = 500 * time.Millisecond
	ttyBarWidth = 20
)

// TTYView is the live terminal view of an apply: one line per service with a bar,
// steps done/total, the step running longest and its elapsed time, then one line
// per other step running in parallel, redrawn in place with ANSI escapes at most
// every 100ms (and every 500ms while steps run). Above FleetThreshold services
// it draws a summary line and one line per service that needs a look instead
// (fleetFrame).
type TTYView struct {
	mu       sync.Mutex
	w        io.Writer
	now      func() time.Time
	rows     map[string]*ttyRow
	order    []string
	drawn    int // lines drawn by the last redraw
	lastDraw time.Time
	stop     chan struct{}
	tick     time.Duration
	footer   []string
	// fleet follows every service's phase; above FleetThreshold services the
	// view draws the fleet (fleetFrame) instead of every service.
	fleet *fleetProgress
}

type ttyRow struct {
	done, total int
	running     map[string]ttyStep
	status      string
	err         string
}

type ttyStep struct {
	desc  string
	start time.Time
	bound time.Duration // the longest the step waits, 0 when unknown
}

// TTYSink returns a live view writing to w, which should be a terminal. Call Close
// when the apply is over (apply_complete and apply_errored also stop its ticker).
func TTYSink(w io.Writer) *TTYView {
	return &TTYView{w: w, now: time.Now, rows: map[string]*ttyRow{}, tick: ttyTick, fleet: newFleetProgress()}
}

// Emit updates the view and redraws it when due.
func (v *TTYView) Emit(e executor.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fleet.note(e)
	force := false
	switch e.Type {
	case executor.EventApplyStart:
		for name, n := range e.Totals {
			v.row(name).total = n
		}
		v.startTicker()
	case executor.EventStepStart:
		v.row(e.Service).running[e.Step.ID] = ttyStep{desc: stepLabel(e.Step), start: e.Time, bound: stepBound(e.Step)}
	case executor.EventStepComplete:
		r := v.row(e.Service)
		delete(r.running, e.Step.ID)
		if r.status == "" {
			r.done++
		}
	case executor.EventStepErrored:
		r := v.row(e.Service)
		delete(r.running, e.Step.ID)
		if r.status == "" {
			r.status, r.err = "failed", e.Step.ID+": "+firstLine(e.Error)
		}
		force = true
	case executor.EventRollbackStart:
		v.row(e.Service).status = "rolling back"
		force = true
	case executor.EventRollbackComplete:
		v.row(e.Service).status = "rolled back"
		force = true
	case executor.EventRollbackErrored:
		v.row(e.Service).status, v.row(e.Service).err = "rollback failed", firstLine(e.Error)
		force = true
	case executor.EventServicePaused:
		v.row(e.Service).status = "paused"
		force = true
	case executor.EventServiceSkipped:
		r := v.row(e.Service)
		r.status, r.err = "skipped", strings.TrimPrefix(e.Message, e.Service+": skipped: ")
		force = true
	case executor.EventApplyComplete, executor.EventApplyErrored:
		v.footer = append(v.footer, e.Message)
		v.stopTicker()
		force = true
	case executor.EventStepWaiting, executor.EventStepProgress:
		v.footer = append(v.footer, e.Message)
		force = true
	}
	if force || v.now().Sub(v.lastDraw) >= ttyThrottle {
		v.redraw()
	}
}

// Close stops the ticker and draws the final frame.
func (v *TTYView) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stopTicker()
	v.redraw()
	return nil
}

func (v *TTYView) row(name string) *ttyRow {
	r, ok := v.rows[name]
	if !ok {
		r = &ttyRow{running: map[string]ttyStep{}}
		v.rows[name] = r
		v.order = append(v.order, name)
	}
	return r
}

func (v *TTYView) startTicker() {
	if v.stop != nil {
		return
	}
	stop := make(chan struct{})
	v.stop = stop
	tick := v.tick
	go func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				v.mu.Lock()
				v.redraw()
				v.mu.Unlock()
			}
		}
	}()
}

func (v *TTYView) stopTicker() {
	if v.stop != nil {
		close(v.stop)
		v.stop = nil
	}
}

// redraw moves the cursor back over the last frame and draws the current one.
func (v *TTYView) redraw() {
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	width := 0
	for _, name := range v.order {
		width = max(width, len(name))
	}
	now := v.now()
	lines := 0
	var frame []string
	footer := v.footer
	if v.fleet.isFleet() {
		frame = v.fleetFrame(now)
		footer = footer[max(0, len(footer)-ttyFleetFooter):]
	} else {
		for _, name := range v.order {
			frame = append(frame, v.rows[name].render(name, width, now)...)
		}
	}
	for _, l := range frame {
		b.WriteString("\r\x1b[2K")
		b.WriteString(l)
		b.WriteByte('\n')
		lines++
	}
	for _, f := range footer {
		b.WriteString("\r\x1b[2K" + f + "\n")
		lines++
	}
	// A frame may be shorter than the last one (parallel steps ended): clear what
	// is below it.
	b.WriteString("\x1b[J")
	v.drawn = lines
	v.lastDraw = now
	_, _ = io.WriteString(v.w, b.String())
}

// render draws one service: "order-service  [######--------------]  3/10  deploy ...  4s",
// with the step running longest, then a line for each other step running in
// parallel, by start.
func (r *ttyRow) render(name string, width int, now time.Time) []string {
	filled := 0
	if r.total > 0 {
		filled = r.done * ttyBarWidth / r.total
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", ttyBarWidth-filled)
	line := fmt.Sprintf("%-*s  [%s] %3d/%-3d", width, name, bar, r.done, r.total)
	running := make([]ttyStep, 0, len(r.running))
	for _, s := range r.running {
		running = append(running, s)
	}
	slices.SortFunc(running, func(a, b ttyStep) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		return strings.Compare(a.desc, b.desc)
	})
	switch {
	case len(running) > 0:
		more := make([]string, 0, len(running))
		indent := strings.Repeat(" ", len(line))
		for i, s := range running {
			text := fmt.Sprintf("  %s  %s", s.desc, s.elapsed(now))
			if i == 0 {
				line += text
				if r.status != "" {
					line += "  [" + r.status + "]"
				}
				continue
			}
			more = append(more, indent+text)
		}
		return append([]string{line}, more...)
	case r.status != "":
		line += "  " + r.status
		if r.err != "" {
			line += ": " + r.err
		}
	case r.done == r.total && r.total > 0:
		line += "  done"
	default:
		line += "  waiting"
	}
	return []string{line}
}

// elapsed is how long the step has run, with its bound for a step that waits:
// "12s of 30s".
func (s ttyStep) elapsed(now time.Time) string {
	e := now.Sub(s.start).Round(time.Second).String()
	if s.bound > 0 {
		e += " of " + s.bound.String()
	}
	return e
}

// stepLabel names a step the way the executor's messages do:
// "deploy order-service/a/127.0.0.1:18081", or "kind service" for a step without a
// target.
func stepLabel(st *planner.Step) string {
	target := st.Target
	if target == "" {
		target = st.Service
	}
	return string(st.Kind) + " " + target
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// TTYView is an executor.EventSink.
var _ executor.EventSink = (*TTYView)(nil)
