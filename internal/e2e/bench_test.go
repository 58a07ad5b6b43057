package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// propagation is the drain block's propagation in the configuration demo.Config
// renders.
const propagation = 4 * time.Second

// BenchmarkRelease releases slow, warming services (startDelay, warmup) through
// the real apply operation under load, and reports per release the apply's wall
// time, the physical minimum Σ groups (propagation + deploy start → HAProxy UP,
// measured) and their ratio. Every release must still lose no request.
//
//	go test ./internal/e2e -run '^$' -bench Release -benchtime 2x
func BenchmarkRelease(b *testing.B) {
	strategies := []struct{ name, block string }{
		{"rolling", `strategy "rolling" { batch = "group" }`},
		{"blue_green", `strategy "blue_green" { keep_standby = false }`},
	}
	for _, st := range strategies {
		b.Run(st.name, func(b *testing.B) {
			f := newFleet(b, "bench-"+st.name, "1.0.0")
			f.cfg.Strategy = st.block
			computed := demo.ComputedConfirm(startDelay, warmup, testfleet.DefaultHAProxyChecks)
			var wall, minimum time.Duration
			for i := range b.N {
				to := fmt.Sprintf("1.%d.0", i+1)
				r := f.releaser(to)
				tr := f.startLoad(4)
				started := time.Now()
				_, elapsed, err := f.release(r)
				time.Sleep(time.Second)
				f.stopLoad(tr, minAvailable)
				if err != nil {
					b.Fatalf("apply: %v", err)
				}
				m := demo.Minimum{Propagation: propagation, Computed: computed, Groups: []demo.GroupConfirm{
					demo.MeasureConfirm("a", f.demo, f.groupA, to, tr.checksUp, started, computed),
					demo.MeasureConfirm("b", f.demo, f.groupB, to, tr.checksUp, started, computed),
				}}
				b.Logf("%s release %d: apply %s, physical minimum %s = %s, ratio %.2f",
					st.name, i+1, elapsed.Round(10*time.Millisecond), m.Terms(), m.Total().Round(10*time.Millisecond), m.Ratio(elapsed))
				wall += elapsed
				minimum += m.Total()
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
			b.ReportMetric(minimum.Seconds()/float64(b.N), "min-s/op")
			b.ReportMetric(wall.Seconds()/minimum.Seconds(), "ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}
