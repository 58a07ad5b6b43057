package testfleet

import (
	"testing"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// The HAProxy types are fleet's.
type (
	HAProxy           = fleet.HAProxy
	HAProxyConfig     = fleet.HAProxyConfig
	HAProxyChecks     = fleet.HAProxyChecks
	HAProxyBackend    = fleet.HAProxyBackend
	HAProxyFrontend   = fleet.HAProxyFrontend
	HAProxyServerStat = fleet.HAProxyServerStat
)

// DefaultHAProxyChecks is a copy of fleet.DefaultHAProxyChecks, what a zero
// HAProxyChecks means; changing it changes nothing (change fleet's).
var DefaultHAProxyChecks = fleet.DefaultHAProxyChecks

// StartHAProxyProcess is fleet.StartHAProxyProcess.
func StartHAProxyProcess(dir string, cfg HAProxyConfig) (*HAProxy, error) {
	return fleet.StartHAProxyProcess(dir, cfg)
}

// HAProxyCommand is fleet.HAProxyCommand.
func HAProxyCommand(api, cmd string) (string, error) { return fleet.HAProxyCommand(api, cmd) }

// HAProxyServers is fleet.HAProxyServers.
func HAProxyServers(api, backend string) ([]HAProxyServerStat, error) {
	return fleet.HAProxyServers(api, backend)
}

// StartHAProxy is fleet.StartHAProxyProcess for a test: in a temporary directory,
// stopped when the test ends.
func StartHAProxy(t testing.TB, cfg HAProxyConfig) *HAProxy {
	t.Helper()
	h, err := fleet.StartHAProxyProcess(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	return h
}
