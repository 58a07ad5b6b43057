package executor

import (
	"fmt"
)

// EventServiceSkipped reports a service none of whose steps will run because a
// service it depends on (depends_on, directly or through others) failed.
const EventServiceSkipped EventType = "service_skipped"

// OutcomeSkipped: no step of the service ran because a service it depends on
// failed; nothing of the service changed.
const OutcomeSkipped Outcome = "skipped"

// skipDependants is called once a step of service failed has failed: every step
// of another service that waits, through After edges, on a step of failed that
// will now never run can never run either. Those services are marked skipped
// with the reason (the first failure that blocked them) and reported, so that a
// fleet release says at once which services wait in vain. Services that do not
// depend on failed are untouched: they go on.
func (x *execution) skipDependants(g *graph, status []stepStatus, failed string) {
	seen := make([]bool, len(g.steps))
	var queue []int
	for i, st := range g.steps {
		if st.Service == failed && status[i] == statusPending {
			seen[i] = true
			queue = append(queue, i)
		}
	}
	var blocked []string
	isBlocked := map[string]bool{}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		for _, d := range g.dependents[i] {
			if seen[d] || status[d] != statusPending {
				continue
			}
			seen[d] = true
			queue = append(queue, d)
			if name := g.steps[d].Service; name != failed && !isBlocked[name] {
				isBlocked[name] = true
				blocked = append(blocked, name)
			}
		}
	}
	for _, name := range blocked {
		sr := x.services[name]
		x.mu.Lock()
		fresh := sr.skippedBy == "" && !sr.failed
		if fresh {
			sr.skippedBy = failed
		}
		x.mu.Unlock()
		if !fresh {
			continue
		}
		x.em.emit(Event{Level: LevelWarn, Type: EventServiceSkipped, Service: name,
			Message: fmt.Sprintf("%s: skipped: %s", name, skipReason(failed))})
	}
}

// skipReason says why a service was skipped.
func skipReason(failed string) string {
	return fmt.Sprintf("it depends on %s, which failed", failed)
}
