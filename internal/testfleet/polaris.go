package testfleet

import (
	"io"
	"testing"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// PolarisVersion is fleet.PolarisVersion, the pinned Polaris release.
const PolarisVersion = fleet.PolarisVersion

// Polaris and PolarisOptions are fleet's.
type (
	Polaris        = fleet.Polaris
	PolarisOptions = fleet.PolarisOptions
)

// StartPolarisProcess is fleet.StartPolarisProcess.
func StartPolarisProcess(dir string, logw io.Writer) (*Polaris, error) {
	return fleet.StartPolarisProcess(dir, logw)
}

// StartPolarisProcessWith is fleet.StartPolarisProcessWith.
func StartPolarisProcessWith(dir string, logw io.Writer, opts PolarisOptions) (*Polaris, error) {
	return fleet.StartPolarisProcessWith(dir, logw, opts)
}

// PolarisBinary is fleet.PolarisBinary.
func PolarisBinary() (string, error) { return fleet.PolarisBinary() }

// StartPolaris starts a Polaris for the test in a temporary directory and stops it
// (killing its process group) when the test ends. It fails the test when Polaris
// cannot start; it never skips.
func StartPolaris(t testing.TB) *Polaris {
	t.Helper()
	return StartPolarisWith(t, PolarisOptions{})
}

// StartPolarisWith is StartPolaris with options.
func StartPolarisWith(t testing.TB, opts PolarisOptions) *Polaris {
	t.Helper()
	dir := t.TempDir()
	p, err := fleet.StartPolarisProcessWith(dir, io.Discard, opts)
	if err != nil {
		t.Fatalf("start polaris: %v", err)
	}
	t.Cleanup(p.Stop)
	return p
}
