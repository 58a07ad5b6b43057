package testfleet

import (
	"time"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// FreePort is fleet.FreePort: a TCP port on 127.0.0.1 that was free when asked.
func FreePort() (int, error) { return fleet.FreePort() }

// WaitTCP is fleet.WaitTCP: it waits until addr accepts TCP connections or timeout
// passes.
func WaitTCP(addr string, timeout time.Duration) error { return fleet.WaitTCP(addr, timeout) }

// CacheDir is fleet.CacheDir: $NONSTOP_CACHE, else $HOME/.cache/nonstop.
func CacheDir() string { return fleet.CacheDir() }
