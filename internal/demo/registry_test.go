package demo

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRegistryWrites(t *testing.T) {
	for _, tc := range []struct {
		name   string
		out    string
		groups []string
		took   map[string]time.Duration
	}{
		{name: "none", out: "Apply complete: 1 services applied.\n", took: map[string]time.Duration{}},
		{
			name: "rolling: the slowest first and last write of a group's instances",
			out: `    00:04:14  registry.set_enabled order-service/a/127.0.0.1:41185: Starting...
    00:04:15  registry.set_enabled order-service/a/127.0.0.1:41185: Complete after 357ms
    00:04:15  registry.set_enabled order-service/a/127.0.0.1:41949: Complete after 412ms
    00:04:15  wait.propagation order-service/a/127.0.0.1:41949: Complete after 4s
    00:04:26  registry.set_enabled order-service/a/127.0.0.1:41949: Complete after 362ms
    00:04:26  registry.set_enabled order-service/a/127.0.0.1:41185: Complete after 1.2s
    00:04:27  registry.set_enabled order-service/b/127.0.0.1:38997: Complete after 900ms
    00:04:27  ERROR registry.set_enabled order-service/b/127.0.0.1:33357: Failed after 10s: boom
`,
			groups: []string{"a", "b"},
			took:   map[string]time.Duration{"a": 412*time.Millisecond + 1200*time.Millisecond, "b": 900 * time.Millisecond},
		},
		{
			name: "a canary's weights in between are left out",
			out: `registry.set_enabled order-service/b/127.0.0.1:1: Complete after 1s
registry.set_weight order-service/b/127.0.0.1:1: Complete after 900ms
registry.set_weight order-service/a/127.0.0.1:2: Complete after 800ms
registry.set_weight order-service/b/127.0.0.1:1: Complete after 700ms
`,
			groups: []string{"b", "a"},
			took:   map[string]time.Duration{"b": time.Second + 700*time.Millisecond, "a": 800 * time.Millisecond},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			groups, took := RegistryWrites(tc.out)
			if diff := cmp.Diff(tc.groups, groups); diff != "" {
				t.Errorf("groups (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.took, took); diff != "" {
				t.Errorf("took (-want +got):\n%s", diff)
			}
		})
	}
}
