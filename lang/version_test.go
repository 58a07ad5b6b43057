package lang

import (
	"testing"
	"time"
)

// TestRequiredVersion checks each operator against a fixed version.
func TestRequiredVersion(t *testing.T) {
	tests := map[string]struct {
		constraint, version string
		ok, malformed       bool
	}{
		">= 0.1.0":               {">= 0.1.0", "0.1.0", true, false},
		"> 0.1.0":                {"> 0.1.0", "0.1.0", false, false},
		"= 0.1.0":                {"= 0.1.0", "0.1.0", true, false},
		"bare":                   {"0.1.0", "0.1.1", false, false},
		"!= 0.1.0":               {"!= 0.1.0", "0.1.0", false, false},
		"< 1.0":                  {"< 1.0", "0.9.9", true, false},
		"<= 0.1":                 {"<= 0.1", "0.1.0", true, false},
		"range":                  {">= 0.1.0, < 0.2.0", "0.1.5", true, false},
		"range miss":             {">= 0.1.0, < 0.2.0", "0.2.0", false, false},
		"~> 0.1 allows 0.9":      {"~> 0.1", "0.9.0", true, false},
		"~> 0.1 refuses 1.0":     {"~> 0.1", "1.0.0", false, false},
		"~> 0.1.0 refuses 0.2.0": {"~> 0.1.0", "0.2.0", false, false},
		"~> 0.1.0 allows 0.1.7":  {"~> 0.1.0", "0.1.7", true, false},
		"~> 1 allows 1.5":        {"~> 1", "1.5.0", true, false},
		"prerelease ignored":     {">= 0.1.0-beta", "0.1.0", true, false},
		"garbage":                {">= banana", "0.1.0", false, true},
		"empty part":             {">= 0.1.0,", "0.1.0", false, true},
		"too many segments":      {"1.2.3.4", "0.1.0", false, true},
		"negative":               {">= -1", "0.1.0", false, true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			malformed, err := checkRequiredVersion(tt.constraint, tt.version)
			if malformed != tt.malformed || (err == nil) != tt.ok {
				t.Errorf("checkRequiredVersion(%q, %q) = %v, %v; want ok=%v malformed=%v", tt.constraint, tt.version, malformed, err, tt.ok, tt.malformed)
			}
		})
	}
}

// TestParseDuration checks accepted and refused spellings.
func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{"30s": 30 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute, " 250ms ": 250 * time.Millisecond}
	for s, want := range good {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", s, got, err, want)
		}
	}
	for _, s := range []string{"", "5", "-5s", "five minutes", "1d", "5 m"} {
		if got, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) = %s, want an error", s, got)
		}
	}
}
