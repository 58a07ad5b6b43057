package lang

import (
	"testing"
	"time"
)

// TestDrainText pins how a drain block reads in a configuration diff: in_flight
// appears only when set, so configurations without it diff as before.
func TestDrainText(t *testing.T) {
	prop := 30 * time.Second
	for name, tc := range map[string]struct {
		drain Drain
		want  string
	}{
		"timeout only": {Drain{Timeout: 5 * time.Minute}, "timeout 5m"},
		"propagation":  {Drain{Propagation: &prop, Timeout: 5 * time.Minute}, "propagation 30s, timeout 5m"},
		"in flight":    {Drain{Timeout: time.Minute, InFlight: 10 * time.Second}, "in_flight 10s, timeout 1m"},
		"all":          {Drain{Propagation: &prop, Timeout: 5 * time.Minute, InFlight: 10 * time.Second}, "propagation 30s, in_flight 10s, timeout 5m"},
	} {
		if got := drainText(tc.drain); got != tc.want {
			t.Errorf("%s: drainText = %q, want %q", name, got, tc.want)
		}
	}
}
