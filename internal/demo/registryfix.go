package demo

import (
	"context"
	"strings"

	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// polarisNoChange is the answer Polaris' own API gives to a write that changes
// nothing: "code 200002: update data is no change, no need to update".
const polarisNoChange = "code 200002"

// noChangeRegistry works around providers/nacos (client.go, the Polaris request
// helper), which treats Polaris' "no change" answer as a failure. On Polaris a
// restarted instance registers enabled, so the executor's registry.set_enabled
// true after a deploy finds nothing to change; the value asked for is the value
// there, so the write succeeded. Remove it once the provider accepts code 200002.
type noChangeRegistry struct {
	providers.Registry
}

func (r noChangeRegistry) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	return ignoreNoChange(r.Registry.SetInstanceEnabled(ctx, inst, enabled))
}

func (r noChangeRegistry) SetInstanceWeight(ctx context.Context, inst providers.InstanceKey, weight float64) error {
	return ignoreNoChange(r.Registry.SetInstanceWeight(ctx, inst, weight))
}

// Close closes the wrapped provider when it holds connections.
func (r noChangeRegistry) Close() error {
	if c, ok := r.Registry.(providers.Closer); ok {
		return c.Close()
	}
	return nil
}

func ignoreNoChange(err error) error {
	if err != nil && strings.Contains(err.Error(), polarisNoChange) {
		return nil
	}
	return err
}

// wrapRegistries wraps every nacos provider in noChangeRegistry.
func wrapRegistries(provs planner.Providers) {
	for ref, p := range provs {
		if reg, ok := p.(providers.Registry); ok && p.Kind() == "nacos" {
			provs[ref] = noChangeRegistry{reg}
		}
	}
}

var (
	_ providers.Registry = noChangeRegistry{}
	_ providers.Closer   = noChangeRegistry{}
)
