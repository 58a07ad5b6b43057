package main

import (
	"strings"
	"testing"

	"github.com/nonstop-release/nonstop/internal/demo"
)

func TestTargets(t *testing.T) {
	results := []demo.Result{
		{Name: "serial playbook (HAProxy drain only)", WallS: 40, Requests: 1000, Failed: 30},
		{Name: "nonstop rolling", WallS: 19, Requests: 60000, P99ms: 30, IdleP99ms: 25, Ratio: 1.05},
		{Name: "nonstop canary", WallS: 25, Requests: 50000, Failed: 1, P99ms: 40, IdleP99ms: 25, Ratio: 1.2,
			Note: "load average 9.00 at its start (2 CPUs): the machine was saturated by other processes"},
	}
	got := strings.Join(targets(results), "\n")
	for _, want := range []string{
		"nonstop rolling      ✓ 0 failed (0)   ✓ p99 ≤ 1.5 × idle p99 (30.0 ≤ 37.5 ms)   ✓ wall ≤ 1.10 × minimum (1.05)   ✓ wall ≤ 0.5 × serial playbook (19.0 ≤ 20.0 s)",
		"nonstop canary       ✗ 0 failed (1)   ✗ p99 ≤ 1.5 × idle p99 (40.0 ≤ 37.5 ms)   ✗ wall ≤ 1.10 × minimum (1.20)   ✗ wall ≤ 0.5 × serial playbook (25.0 ≤ 20.0 s)",
		"nonstop, all rows:   ✗ 1 failed of 110000 requests",
		"NOTE nonstop canary: load average 9.00",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("targets lack %q:\n%s", want, got)
		}
	}
}
