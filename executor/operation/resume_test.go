package operation

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
)

// TestWatchResumes: an apply on postgres state takes the resumes given from
// another machine (another configuration directory, another connection) from
// the database, within a poll; one on local state watches its resume file,
// cleared of resumes given to an earlier apply.
func TestWatchResumes(t *testing.T) {
	for _, kind := range stateKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s := newShopConfig(t, shopConfig+kind.block(t))
			b := s.openState()
			if _, err := b.Lock(ctx, state.NewLockInfo("apply", lang.Version)); err != nil {
				t.Fatal(err)
			}
			st, err := b.Load(ctx)
			if err != nil {
				t.Fatal(err)
			}
			st.Journal = &state.Journal{ApplyID: "A2", Started: time.Now()}
			if err := b.Save(ctx, st); err != nil {
				t.Fatal(err)
			}
			// A resume left for an earlier apply on local state.
			stale := ResumePath(b, s.dir)
			if err := os.MkdirAll(filepath.Dir(stale), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(stale, []byte("shop.1\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			ids := WatchResumes(ctx, b, s.dir, "A2", 100*time.Millisecond, nil)
			// The resume, given elsewhere: another copy of the configuration,
			// its own backend.
			other := newShopConfig(t, shopConfig+kind.block(t))
			ob, err := OpenBackend(other.cfg, other.dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			for _, step := range []string{"shop.3", "shop.5"} {
				if r, ok := ob.(state.Resumer); ok {
					if err := r.AddResume(ctx, "A2", step); err != nil {
						t.Fatal(err)
					}
				} else {
					f, err := os.OpenFile(stale, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
					if err != nil {
						t.Fatal(err)
					}
					f.WriteString(step + "\n")
					f.Close()
				}
			}
			var got []string
			start := time.Now()
			for len(got) < 2 {
				select {
				case id := <-ids:
					got = append(got, id)
				case <-ctx.Done():
					t.Fatalf("resumes seen: %v", got)
				}
			}
			if diff := cmp.Diff([]string{"shop.3", "shop.5"}, got); diff != "" {
				t.Errorf("resumes (-want +got):\n%s", diff)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("resumes took %v to arrive", took)
			}
			select {
			case id := <-ids:
				t.Errorf("another resume arrived: %q", id)
			case <-time.After(300 * time.Millisecond):
			}
		})
	}
}
