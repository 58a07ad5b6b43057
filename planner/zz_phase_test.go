package planner

import (
	"fmt"
	"testing"
	"time"
)

func TestZZPhases(t *testing.T) {
	cfg, live := benchFleet()
	var tot [8]time.Duration
	const N = 30
	for range N {
		t0 := time.Now()
		names, _ := planTargets(cfg, nil)
		drafts, _ := buildAll(cfg, live, names, Options{})
		t1 := time.Now()
		prior := Fingerprints(liveSubset(live, names))
		t2 := time.Now()
		steps, after, service, _ := assemble(drafts.list, drafts.steps)
		t3 := time.Now()
		p := &Plan{FormatVersion: FormatVersion, Steps: steps}
		starts := make([]*serviceModel, len(drafts.list))
		for i, d := range drafts.list {
			starts[i] = d.start
		}
		finals, _ := replaySteps(starts, service, p.Steps, after)
		t4 := time.Now()
		p.Changes = diffAll(starts, finals)
		t5 := time.Now()
		p.Summary = summarize(p, after)
		t6 := time.Now()
		_ = prior
		for i, d := range []time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2), t4.Sub(t3), t5.Sub(t4), t6.Sub(t5)} {
			tot[i] += d
		}
	}
	for i, n := range []string{"build", "fingerprint", "assemble", "replay", "diff", "summarize"} {
		fmt.Printf("%-12s %v\n", n, tot[i]/N)
	}
}
