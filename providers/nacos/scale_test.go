package nacos

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"
	"golang.org/x/sync/errgroup"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

const (
	scaleServices    = 1000
	scalePerService  = 10
	scaleConcurrency = 10
)

// TestRefreshScale registers 10,000 instances (1,000 services of 10) in a Polaris of
// its own and times Instances for every service with concurrency 10, as a refresh
// does. It runs only with NONSTOP_SCALE=1 (registration takes a while); the figure
// is logged (target: 1 s wall on a 2-core machine), not asserted.
func TestRefreshScale(t *testing.T) {
	if os.Getenv("NONSTOP_SCALE") != "1" {
		t.Log("set NONSTOP_SCALE=1 to run the 10,000-instance refresh")
		return
	}
	pol := testfleet.StartPolaris(t)
	n := newProvider(t, map[string]cty.Value{
		"addresses":       cty.ListVal([]cty.Value{cty.StringVal(pol.NacosAddr)}),
		"polaris_address": cty.StringVal(pol.NativeAddr),
		"timeout":         cty.StringVal("180s"),
	})
	start := time.Now()
	registerScaleFleet(t, n)
	t.Logf("registered %d instances in %s", scaleServices*scalePerService, time.Since(start))

	eventually(t, 120*time.Second, "every instance listed", func() (bool, string) {
		total := refreshAll(t, n)
		return total == scaleServices*scalePerService, fmt.Sprintf("%d instances", total)
	})
	for round := 1; round <= 3; round++ {
		start = time.Now()
		total := refreshAll(t, n)
		wall := time.Since(start)
		t.Logf("round %d: Instances for %d services (%d instances), concurrency %d: %s",
			round, scaleServices, total, scaleConcurrency, wall)
		if total != scaleServices*scalePerService {
			t.Fatalf("listed %d instances, want %d", total, scaleServices*scalePerService)
		}
	}
}

// refreshAll lists every scale service with bounded concurrency and returns the
// number of instances seen.
func refreshAll(t *testing.T, n *Nacos) int {
	t.Helper()
	counts := make([]int, scaleServices)
	var g errgroup.Group
	g.SetLimit(scaleConcurrency)
	for i := 0; i < scaleServices; i++ {
		g.Go(func() error {
			insts, err := n.Instances(context.Background(), providers.ServiceKey{Service: scaleService(i)})
			counts[i] = len(insts)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	return total
}

// registerScaleFleet registers persistent instances (no heartbeat needed) with
// Polaris' own register API, 100 per request, 10 requests at a time. Under that
// load Polaris' batch controller drops registrations that wait longer than its task
// life (30 s) while still answering success, so services found short are registered
// again (existing instances answer 400201, which is harmless).
func registerScaleFleet(t *testing.T, n *Nacos) {
	t.Helper()
	todo := make([]int, scaleServices)
	for i := range todo {
		todo[i] = i
	}
	for round := 1; len(todo) > 0; round++ {
		if round > 5 {
			t.Fatalf("%d services still short after %d registration rounds", len(todo), round-1)
		}
		var g errgroup.Group
		g.SetLimit(10)
		for k := 0; k < len(todo); k += 10 {
			chunk := todo[k:min(k+10, len(todo))]
			g.Go(func() error { return registerScaleServices(n, chunk) })
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // Polaris' caches catch up
		todo = shortServices(t, n, todo)
		t.Logf("registration round %d: %d services short", round, len(todo))
	}
}

func registerScaleServices(n *Nacos, services []int) error {
	var batch []map[string]any
	for _, i := range services {
		for j := 0; j < scalePerService; j++ {
			batch = append(batch, map[string]any{
				"service": scaleService(i), "namespace": "default",
				"host": fmt.Sprintf("10.%d.%d.%d", i/250, i%250, j+1), "port": 8080,
				"weight": 1, "healthy": true, "enableHealthCheck": false,
				"metadata": map[string]string{"version": "1.4.2"},
			})
		}
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return err
	}
	_, _, err = n.send(context.Background(), http.MethodPost,
		"http://"+n.cfg.PolarisAddress+"/naming/v1/instances", nil, string(body))
	return err
}

// shortServices returns the services of todo with fewer than scalePerService
// instances in Polaris' own listing.
func shortServices(t *testing.T, n *Nacos, todo []int) []int {
	t.Helper()
	short := make([]bool, len(todo))
	var g errgroup.Group
	g.SetLimit(scaleConcurrency)
	for k, i := range todo {
		g.Go(func() error {
			insts, err := n.polarisDiscover(context.Background(), normalizeService(providers.ServiceKey{Service: scaleService(i)}))
			short[k] = len(insts) < scalePerService
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var out []int
	for k, i := range todo {
		if short[k] {
			out = append(out, i)
		}
	}
	return out
}

func scaleService(i int) string { return fmt.Sprintf("scale-svc-%04d", i) }

// BenchmarkInstances measures one Instances call (two HTTP calls on flavor
// polaris) for a service of two instances on the shared Polaris.
func BenchmarkInstances(b *testing.B) {
	n := newProvider(b, nil)
	svc := "bench-instances"
	testfleet.StartDemo(b, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc})
	testfleet.StartDemo(b, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc})
	key := providers.ServiceKey{Service: svc}
	b.ResetTimer()
	for b.Loop() {
		if _, err := n.Instances(context.Background(), key); err != nil {
			b.Fatal(err)
		}
	}
}
