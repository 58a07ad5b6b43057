package testfleet

import (
	"testing"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// DemoFleet and DeployStart are fleet's: deploy.sh-managed demo-service instances.
type (
	DemoFleet   = fleet.DemoFleet
	DeployStart = fleet.DeployStart
)

// NewDemoFleet is fleet.NewDemoFleet.
func NewDemoFleet(dir, nacos, service string) (*DemoFleet, error) {
	return fleet.NewDemoFleet(dir, nacos, service)
}

// StartDemoFleet starts one instance per address at version through the deploy
// script and waits until each is ready; t.Cleanup stops every instance the fleet
// ever started. The instances start at once (no start-up delay or warm-up); set
// the fleet's fields and call DeployAll again, or use StartDemoFleetWith, for more.
func StartDemoFleet(t testing.TB, nacos, service string, addrs []string, version string) *DemoFleet {
	t.Helper()
	return StartDemoFleetWith(t, nacos, service, addrs, version, nil)
}

// StartDemoFleetWith is StartDemoFleet with a hook that adjusts the fleet (e.g.
// StartDelay, Warmup, BadVersions) before its first deploy.
func StartDemoFleetWith(t testing.TB, nacos, service string, addrs []string, version string, setup func(*DemoFleet)) *DemoFleet {
	t.Helper()
	f, err := fleet.NewDemoFleet(t.TempDir(), nacos, service)
	if err != nil {
		t.Fatalf("demo fleet: %v", err)
	}
	if setup != nil {
		setup(f)
	}
	t.Cleanup(f.Stop)
	if err := f.DeployAll(addrs, version); err != nil {
		t.Fatal(err)
	}
	return f
}
