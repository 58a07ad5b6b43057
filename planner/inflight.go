package planner

import "fmt"

// The in-flight wait (drain.in_flight). A balancer that reports sessions (HAProxy,
// F5) says when a drained member has finished its requests; a registry's
// consumers and a balancer that counts nothing (SLB/ALB, nginx OSS) do not. With
// in_flight set, every instance that leaves a path owes a wait.drain holding at
// least that long before it may be deployed: the same step that waits for the
// sessions of the counting balancers' members, so an instance has one drain wait.

// holdsInFlight reports whether the service's drained instances owe an in-flight wait.
func (m *serviceModel) holdsInFlight() bool { return m.svc.Drain.InFlight > 0 }

// inFlightArgs sets the in-flight hold of a wait.drain when the instances it
// covers owe one.
func (b *builder) inFlightArgs(a *StepArgs, owed bool) {
	if owed && b.m.holdsInFlight() {
		a.InFlight = Duration(b.m.svc.Drain.InFlight)
	}
}

// applyInFlight marks the instances a wait.drain holding an in-flight time
// covers as waited for: its address, else every instance of its group.
func (m *serviceModel) applyInFlight(a *StepArgs) error {
	if a.InFlight <= 0 {
		return nil
	}
	if a.Address != "" {
		im := m.byAddr(a.Address)
		if im == nil {
			return fmt.Errorf("service %s has no instance %s", m.name, a.Address)
		}
		im.needsInFlight = false
		return nil
	}
	if a.Group == "" {
		return fmt.Errorf("holds the in-flight time of no instance (neither address nor group)")
	}
	for _, im := range m.insts {
		if im.group == a.Group {
			im.needsInFlight = false
		}
	}
	return nil
}
