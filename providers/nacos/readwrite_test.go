package nacos

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestWriteThenReadPolaris: once a write returns, a read shows it. Polaris serves
// its discovery API from a cache that lags its store; a plan made right after a
// rollback re-enabled an instance read it as still disabled and skipped the
// propagation wait before redeploying it.
func TestWriteThenReadPolaris(t *testing.T) {
	n := newProvider(t, nil)
	key, inst := listedInstance(t, n)
	ctx := context.Background()
	for i, enabled := range []bool{false, true, false, true} {
		start := time.Now()
		if err := n.SetInstanceEnabled(ctx, inst, enabled); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		if got := instancesByAddr(t, n, key)[inst.Address]; got.Enabled != enabled {
			t.Errorf("write %d: enabled=%t returned after %s, the next read shows enabled=%t", i, enabled, took, got.Enabled)
		} else {
			t.Logf("write %d: enabled=%t returned after %s, read back", i, enabled, took)
		}
		for _, w := range []float64{3, 1} {
			// A weight change takes traffic away or gives it: it returns once shown.
			if err := n.SetInstanceWeight(ctx, inst, w); err != nil {
				t.Fatal(err)
			}
			if got := instancesByAddr(t, n, key)[inst.Address]; got.Weight != w {
				t.Errorf("write %d: weight=%g returned, the next read shows weight=%g", i, w, got.Weight)
			}
		}
	}

	// An apply that ends right after an enable leaves the registry serving it: the
	// next apply's plan reads it from a new provider.
	if err := n.SetInstanceEnabled(ctx, inst, false); err != nil {
		t.Fatal(err)
	}
	if err := n.SetInstanceEnabled(ctx, inst, true); err != nil {
		t.Fatal(err)
	}
	n.Close()
	next := newProvider(t, nil)
	insts, err := next.Instances(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		if in.Address == inst.Address && !in.Enabled {
			t.Errorf("a plan right after the apply that enabled %s reads it disabled", inst.Address)
		}
	}
}

// TestWriteUndoneIsSentAgain: a write the registry accepted but no read shows
// (Polaris applies an application's retried registration whole, isolate flag
// included, so it can undo an enable) is sent again until a read shows it.
func TestWriteUndoneIsSentAgain(t *testing.T) {
	n := newProvider(t, nil)
	key, inst := listedInstance(t, n)
	defer func(d time.Duration) { confirmRewrite = d }(confirmRewrite)
	confirmRewrite = 1500 * time.Millisecond
	sends := 0
	send := func(ctx context.Context) error {
		sends++
		if sends == 1 {
			return nil // accepted, then undone: the registry never shows it
		}
		return n.setPolarisInstance(ctx, inst, map[string]any{"isolate": true})
	}
	shows := func(in providers.Instance) bool { return !in.Enabled }
	// Once sent, the write only waits: it gives its write slot back.
	released := 0
	ctx := providers.WithWaitsFromHere(context.Background(), func() { released++ })
	if err := n.writeShown(ctx, "disable", inst, send, shows, true); err != nil {
		t.Fatal(err)
	}
	if released != 1 {
		t.Errorf("the write gave its slot back %d times, want once after its first send", released)
	}
	if sends != 2 {
		t.Errorf("the write was sent %d times, want 2", sends)
	}
	if got := instancesByAddr(t, n, key)[inst.Address]; got.Enabled {
		t.Errorf("the write was sent again and returned, but a read shows %+v", got)
	}

	// One that no read ever shows fails after confirmBound, naming the write.
	defer func(d time.Duration) { confirmBound = d }(confirmBound)
	confirmBound = 2 * time.Second
	never := func(context.Context) error { return nil }
	err := n.writeShown(context.Background(), "enable", inst, never, func(in providers.Instance) bool { return in.Enabled }, false)
	if err == nil || !strings.Contains(err.Error(), "no read showed it within 2s") {
		t.Errorf("a write never shown: got %v", err)
	}
}

// listedInstance starts a demo-service instance of a service named for the test
// and returns its keys once n lists it.
func listedInstance(t *testing.T, n *Nacos) (providers.ServiceKey, providers.InstanceKey) {
	t.Helper()
	svc := serviceName(t)
	d := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "1.0.0"})
	key := providers.ServiceKey{Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}
	eventually(t, 10*time.Second, "the instance is listed", func() (bool, string) {
		_, ok := instancesByAddr(t, n, key)[d.Addr]
		return ok, ""
	})
	return key, providers.InstanceKey{ServiceKey: key, Address: d.Addr}
}
