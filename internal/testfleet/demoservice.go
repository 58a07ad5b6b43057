package testfleet

import (
	"testing"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// Demo and DemoOptions are fleet's: one demo-service process.
type (
	Demo        = fleet.Demo
	DemoOptions = fleet.DemoOptions
)

// DemoBinary is fleet.DemoBinary.
func DemoBinary() (string, error) { return fleet.DemoBinary() }

// StartDemoProcess is fleet.StartDemoProcess.
func StartDemoProcess(opts DemoOptions, sdkDir string) (*Demo, error) {
	return fleet.StartDemoProcess(opts, sdkDir)
}

// StartDemo starts a demo-service and waits until /health answers and, when
// opts.Nacos is set, it has registered. The process is killed when the test ends if
// it is still running.
func StartDemo(t testing.TB, opts DemoOptions) *Demo {
	t.Helper()
	d, err := fleet.StartDemoProcess(opts, t.TempDir())
	if err != nil {
		t.Fatalf("start demo-service: %v", err)
	}
	t.Cleanup(d.Kill)
	return d
}
