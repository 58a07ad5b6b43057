package lang

import (
	"fmt"
	"strings"
	"time"
)

// ParseDuration parses a duration written like "30s", "5m" or "1h30m".
//
// It accepts what time.ParseDuration accepts except negative values, and reports
// errors in words a configuration author understands. Range checks (greater than
// zero, upper bounds) are the caller's job because they depend on the attribute.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("a duration must not be empty; write it like \"30s\", \"5m\" or \"1h30m\"")
	}
	if strings.HasPrefix(t, "-") {
		return 0, fmt.Errorf("%q is negative; a duration must be positive", s)
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write it like \"30s\", \"5m\" or \"1h30m\"", s)
	}
	return d, nil
}

// durationBounds are the inclusive limits an attribute's duration must lie in.
type durationBounds struct {
	min time.Duration // smallest allowed; durations must also be > 0
	max time.Duration
}

var (
	// boundsTimeout fits timeouts and drain waits: up to a day.
	boundsTimeout = durationBounds{min: time.Millisecond, max: 24 * time.Hour}
	// boundsPropagation fits registry propagation waits: up to an hour.
	boundsPropagation = durationBounds{min: time.Millisecond, max: time.Hour}
	// boundsInterval fits polling intervals: up to an hour.
	boundsInterval = durationBounds{min: time.Millisecond, max: time.Hour}
	// boundsPause fits canary pauses: up to a week.
	boundsPause = durationBounds{min: time.Millisecond, max: 7 * 24 * time.Hour}
)

// check returns an error when d lies outside b.
func (b durationBounds) check(d time.Duration) error {
	if d <= 0 || d < b.min {
		return fmt.Errorf("the duration %s is too short; it must be at least %s", d, b.min)
	}
	if d > b.max {
		return fmt.Errorf("the duration %s is too long; it must be at most %s", d, b.max)
	}
	return nil
}
