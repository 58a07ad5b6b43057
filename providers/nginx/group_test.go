package nginx

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestNginxGroupsConcurrentWrites sends twenty weight writes at once, plus one
// to a pool nginx cannot have, through a test command that takes a
// fifth of a second: the first write's reload runs alone, the others join one
// group, so nginx reloads twice, not twenty times. Each write returns once
// nginx was reloaded with it, the invalid pool's write fails alone, and the
// pool shows every weight written.
func TestNginxGroupsConcurrentWrites(t *testing.T) {
	f := startFleet(t, 20)
	slowTest := filepath.Join(t.TempDir(), "slow-test.sh")
	script := "#!/bin/sh\nsleep 0.2\nexec " + strings.Join(f.nginx.Command("-t"), " ") + "\n"
	if err := os.WriteFile(slowTest, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, f.nginx, []string{slowTest})
	before := f.nginx.Reloads()
	ctx := context.Background()
	errs := make([]error, len(f.backends)+1)
	var wg sync.WaitGroup
	for i, b := range f.backends {
		wg.Go(func() { errs[i] = p.SetMemberWeight(ctx, "web", b.Addr, i+2) })
	}
	// A pool name nginx cannot take: the change renders to nothing valid.
	wg.Go(func() { errs[len(f.backends)] = p.SetMemberWeight(ctx, "no such pool", "127.0.0.1:1", 5) })
	wg.Wait()
	for i, err := range errs[:len(f.backends)] {
		if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	if err := errs[len(f.backends)]; err == nil || !strings.Contains(err.Error(), "no such pool") {
		t.Errorf("write to an invalid pool: %v, want an error naming it", err)
	}
	reloads := f.nginx.Reloads() - before
	if reloads < 1 || reloads > 2 {
		t.Errorf("%d reloads for %d concurrent writes, want 1 or 2 (one group after the first)", reloads, len(f.backends))
	}
	members, err := p.Pool(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for i, b := range f.backends {
		want[b.Addr] = i + 2
	}
	for _, m := range members {
		if want[m.Address] != m.Weight {
			t.Errorf("%s has weight %d, want %d", m.Address, m.Weight, want[m.Address])
		}
	}
	if len(members) != len(f.backends) {
		t.Errorf("%d members, want %d", len(members), len(f.backends))
	}
}
