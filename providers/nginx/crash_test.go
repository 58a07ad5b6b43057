package nginx

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// TestWriteInterruptedBeforeReload leaves the file the way an apply killed
// between writing it and reloading nginx does: Pool reports what nginx still
// serves, and the next write of the same value reloads.
func TestWriteInterruptedBeforeReload(t *testing.T) {
	f := startFleet(t, 2)
	ctx := context.Background()
	a, b := f.backends[0].Addr, f.backends[1].Addr
	if err := f.provider.SetMemberWeight(ctx, "web", a, 3); err != nil {
		t.Fatal(err)
	}
	// The crash: the file and the pending marker say a is out, nginx never reloaded.
	base, _, err := f.provider.load()
	if err != nil {
		t.Fatal(err)
	}
	next := base.clone()
	m, err := memberFor(next, "web", a)
	if err != nil {
		t.Fatal(err)
	}
	m.weight = 0
	data, err := next.render(f.provider.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(f.provider.pendingPath(), data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.nginx.UpstreamsFile, data, 0o644); err != nil {
		t.Fatal(err)
	}

	weight := func() int {
		t.Helper()
		ms, err := f.provider.Pool(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Address == a {
				return m.Weight
			}
		}
		t.Fatalf("no member %s", a)
		return -1
	}
	if w := weight(); w != 3 {
		t.Errorf("Pool after the interrupted write reports weight %d, want 3: what nginx still serves", w)
	}
	if got := testfleet.CountByBackend(t, f.nginx.URL("web"), 20, nil); got[a] == 0 {
		t.Fatalf("nginx no longer routes to %s although it never reloaded: %v", a, got)
	}
	// The next apply writes the same value again: this time nginx reloads.
	if err := f.provider.SetMemberWeight(ctx, "web", a, 0); err != nil {
		t.Fatal(err)
	}
	if w := weight(); w != 0 {
		t.Errorf("Pool after the rewrite reports weight %d, want 0", w)
	}
	// `nginx -s reload` returns once the signal is sent; the master then starts new
	// workers and retires the old ones.
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := testfleet.CountByBackend(t, f.nginx.URL("web"), 20, nil)
		if got[a] == 0 && got[b] == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the rewrite nginx routes %v, want all to %s", got, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(f.provider.pendingPath()); !os.IsNotExist(err) {
		t.Errorf("the pending marker is still there after a completed reload: %v", err)
	}
}
