package views

import (
	"fmt"
	"time"

	"github.com/nonstop-release/nonstop/planner"
)

// estimateText returns the plan's estimate for the terminal: one line when the
// plan was made without bounds (the waits on the critical path), else the
// simulated wall time and a line naming the bounds and what was assumed:
//
//	Estimated wall time: 14s (4s of waits on the critical path; waiting holds no slot)
//	Bounds: 10 writes per provider, 10 deploys, 10 per host at once (assumed: 1s per deploy, 50ms per write, drains end within 1s)
func estimateText(s planner.Summary) string {
	e := s.Estimate
	if e == nil {
		return fmt.Sprintf("Estimated wall time: %s (waits on the critical path)\n", time.Duration(s.EstimatedWall))
	}
	return fmt.Sprintf("Estimated wall time: %s (%s of waits on the critical path; waiting holds no slot)\n"+
		"Bounds: %s at once (assumed: %s per deploy, %s per write, drains end within %s)\n",
		time.Duration(s.EstimatedWall), time.Duration(e.CriticalWaits), boundsText(e.Bounds),
		time.Duration(e.Deploy), time.Duration(e.Write), time.Duration(e.Drain))
}

// estimateMarkdown returns the estimate for a pull-request comment's summary
// line: " Estimated wall time: 14s (10 writes per provider, 10 deploys, 10 per
// host at once)."
func estimateMarkdown(s planner.Summary) string {
	out := " Estimated wall time: " + time.Duration(s.EstimatedWall).String()
	if s.Estimate != nil {
		out += " (" + boundsText(s.Estimate.Bounds) + " at once)"
	}
	return out + "."
}

// boundsText is "10 writes per provider, 10 deploys, 10 per host".
func boundsText(b planner.Bounds) string {
	return fmt.Sprintf("%s per provider, %s, %d per host",
		plural(b.WritesPerProvider, "write", "writes"), plural(b.Deploys, "deploy", "deploys"), b.DeploysPerHost)
}
