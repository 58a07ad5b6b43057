package planner

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCanarySplit checks the canary weights and that the share they give is within
// a percent point of the step's weight unless a weight is clamped to 1.
func TestCanarySplit(t *testing.T) {
	type split struct{ WC, WO int }
	tests := map[string]struct {
		pct, nc, no int
		want        split
	}{
		"10% of 2+2":          {10, 2, 2, split{11, 100}},
		"50% of 2+2":          {50, 2, 2, split{100, 100}},
		"90% of 2+2":          {90, 2, 2, split{100, 11}},
		"5% of 1+4":           {5, 1, 4, split{21, 100}},
		"1% of 3+1 (clamped)": {1, 3, 1, split{1, 100}},
		"25% of 4+12":         {25, 4, 12, split{100, 100}},
		"no others":           {30, 2, 0, split{canaryScale, canaryScale}},
		"promotion":           {100, 2, 2, split{canaryScale, canaryScale}},
		"33% of 5+5":          {33, 5, 5, split{49, 100}},
		"75% of 1+300":        {75, 1, 300, split{100, 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wc, wo := canarySplit(tc.pct, tc.nc, tc.no)
			if d := cmp.Diff(tc.want, split{wc, wo}); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
			if tc.no == 0 || tc.pct >= 100 || wc == 1 || wo == 1 {
				return // no split, or a weight clamped to the minimum of 1
			}
			share := 100 * float64(tc.nc*wc) / float64(tc.nc*wc+tc.no*wo)
			if share < float64(tc.pct)-1 || share > float64(tc.pct)+1 {
				t.Errorf("canary share %.2f%%, want %d%% ± 1", share, tc.pct)
			}
		})
	}
}
