package e2e

import (
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// registry is the one Polaris the package's tests share; each test registers its
// own service name.
var registry *testfleet.Polaris

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "nonstop-e2e-polaris-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("NONSTOP_E2E_KEEP") == "" {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(os.Stderr, "polaris dir:", dir)
	}
	if _, err := testfleet.DemoBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	registry, err = testfleet.StartPolarisProcess(dir, io.Discard)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start polaris:", err)
		return 1
	}
	defer registry.Stop()
	return m.Run()
}
