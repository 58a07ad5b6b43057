package testfleet

import (
	"testing"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// Nginx and NginxOptions are fleet's.
type (
	Nginx        = fleet.Nginx
	NginxOptions = fleet.NginxOptions
)

// StartNginxProcess is fleet.StartNginxProcess.
func StartNginxProcess(dir string, opts NginxOptions) (*Nginx, error) {
	return fleet.StartNginxProcess(dir, opts)
}

// StartEdgeNginxProcess is fleet.StartEdgeNginxProcess.
func StartEdgeNginxProcess(dir, pool string, members []string) (*Nginx, error) {
	return fleet.StartEdgeNginxProcess(dir, pool, members)
}

// StartNginx is fleet.StartNginxProcess for a test: in a temporary directory, stopped
// when the test ends.
func StartNginx(t testing.TB, opts NginxOptions) *Nginx {
	t.Helper()
	n, err := fleet.StartNginxProcess(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}

// StartEdgeNginx is fleet.StartEdgeNginxProcess for a test: in a temporary directory,
// stopped when the test ends.
func StartEdgeNginx(t testing.TB, pool string, members []string) *Nginx {
	t.Helper()
	n, err := fleet.StartEdgeNginxProcess(t.TempDir(), pool, members)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.Shutdown)
	return n
}
