package views

import (
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// TestWaitDrainText pins how a wait.drain reads: without an in-flight time as it
// always did, with one the in-flight time first and the session-counting members
// with their bound after it.
func TestWaitDrainText(t *testing.T) {
	const target = "patent-gateway/a/10.0.1.11:8080"
	member := "haproxy.edge/rsp-gateway/10.0.1.11:8080"
	for name, tc := range map[string]struct {
		args planner.StepArgs
		want string
	}{
		"sessions only": {
			planner.StepArgs{Members: []string{member}, Duration: planner.Duration(5 * time.Minute)},
			"wait.drain " + target + " up to 5m0s (1 member)",
		},
		"in flight only": {
			planner.StepArgs{InFlight: planner.Duration(10 * time.Second)},
			"wait.drain " + target + " 10s in flight",
		},
		"in flight and sessions": {
			planner.StepArgs{Members: []string{member}, Duration: planner.Duration(5 * time.Minute), InFlight: planner.Duration(10 * time.Second)},
			"wait.drain " + target + " 10s in flight (1 member up to 5m0s)",
		},
		"in flight, long-lived": {
			planner.StepArgs{Members: []string{member, "f5.dc1/ws/10.0.1.11:8080"}, Close: []string{member},
				Duration: planner.Duration(time.Minute), InFlight: planner.Duration(2 * time.Second)},
			"wait.drain " + target + " 2s in flight (2 members up to 1m0s) then closes the sessions left on 1 long-lived member",
		},
	} {
		got := stepText(planner.Step{Kind: planner.WaitDrain, Target: target, Args: tc.args})
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", name, got, tc.want)
		}
	}
}
