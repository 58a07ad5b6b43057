package operation

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

const canaryShop = `
provider "nacos" "reg" {
  addresses   = ["127.0.0.1:1"]
  propagation = "50ms"
}

provider "nginx" "edge" {
  upstreams_file = "upstreams.conf"
}

service "shop" {
  version = "1.1.0"

  registry {
    provider = nacos.reg
  }

  group "a" { instances = [%q] }
  group "b" { instances = [%q] }

  balancer "http" {
    provider = nginx.edge
    pool     = "shop"
    weight   = 1
  }

  strategy "canary" {
    step {
      weight = 50
      pause  = "manual"
    }
    step { weight = 100 }
  }

  deploy {
    command = ["sh", "-c", "touch \"$MARKS/$NONSTOP_ADDRESS\""]
    env     = { MARKS = %q }
  }

  health {
    http = "http://${instance.address}/health"
  }
}
`

// deployedRegistry is a fake registry whose instances run the new version once
// the deploy command left its mark.
type deployedRegistry struct {
	*fakeProvider
	marks string
}

func (r deployedRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	r.fleet.mu.Lock()
	var ins []providers.Instance
	for _, in := range r.fleet.instances {
		ins = append(ins, in)
	}
	r.fleet.mu.Unlock()
	for i := range ins {
		if _, e := os.Stat(filepath.Join(r.marks, ins[i].Address)); e == nil {
			ins[i].Version, ins[i].Metadata = "1.1.0", map[string]string{"version": "1.1.0"}
		}
	}
	return ins, nil
}

// TestApplyResumedFromAnotherMachine runs a canary that pauses for a resume,
// and gives the resume as nonstop resume does: with postgres state from
// another copy of the configuration through the database, with local state in
// the resume file. The apply goes past its pause and completes.
func TestApplyResumedFromAnotherMachine(t *testing.T) {
	for _, kind := range stateKinds(t) {
		t.Run(kind.name, func(t *testing.T) {
			var addrs []string
			for range 2 {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				t.Cleanup(srv.Close)
				addrs = append(addrs, strings.TrimPrefix(srv.URL, "http://"))
			}
			marks := t.TempDir()
			src := fmt.Sprintf(canaryShop, addrs[0], addrs[1], marks) + kind.block(t)
			s := newShopConfig(t, src)
			s.fleet.instances, s.fleet.pools = map[string]providers.Instance{}, map[string][]providers.Member{}
			for _, addr := range addrs {
				s.fleet.instances[addr] = providers.Instance{Service: "shop", Group: "DEFAULT_GROUP", Cluster: "DEFAULT",
					Address: addr, Enabled: true, Healthy: true, Weight: 1,
					Metadata: map[string]string{"version": "1.0.0"}, Version: "1.0.0", VersionKnown: true}
				s.fleet.pools["shop"] = append(s.fleet.pools["shop"], providers.Member{Pool: "shop", Address: addr, Weight: 1, State: providers.StateReady})
			}
			o := s.options()
			o.AutoApprove = true
			reg := o.Providers[lang.ProviderRef{Kind: "nacos", Name: "reg"}].(*fakeProvider)
			o.Providers[lang.ProviderRef{Kind: "nacos", Name: "reg"}] = deployedRegistry{reg, marks}

			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			done := make(chan *Result, 1)
			start := time.Now()
			go func() { done <- Apply(ctx, o) }()

			// Wait for the pause in the journal, as an operator would in the apply's output.
			b := s.openState()
			var applyID, pause string
			for pause == "" {
				select {
				case r := <-done:
					t.Fatalf("the apply ended before its pause: %+v (%v)", r, r.Err)
				case <-time.After(50 * time.Millisecond):
				}
				st, err := b.Load(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if st.Journal == nil {
					continue
				}
				inFlight, _, _ := JournalProgress(st.Journal)
				for _, e := range inFlight {
					if e.Kind == string(planner.Pause) {
						applyID, pause = st.Journal.ApplyID, e.StepID
					}
				}
			}
			select {
			case r := <-done:
				t.Fatalf("the apply went past its pause without a resume: %+v", r)
			case <-time.After(time.Second):
			}

			other := newShopConfig(t, src) // another machine's copy
			ob, err := OpenBackend(other.cfg, other.dir)
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			resumed := time.Now()
			if r, ok := ob.(state.Resumer); ok {
				if err := r.AddResume(ctx, applyID, pause); err != nil {
					t.Fatal(err)
				}
			} else {
				f, err := os.OpenFile(ResumePath(b, s.dir), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(f, pause)
				f.Close()
			}
			var r *Result
			select {
			case r = <-done:
			case <-ctx.Done():
				t.Fatal("the apply did not end after the resume")
			}
			if r.Err != nil || !r.Ran {
				t.Fatalf("apply: %v (%+v)", r.Err, r)
			}
			t.Logf("paused at %s after %v, ended %v after the resume", pause, resumed.Sub(start).Round(time.Millisecond), time.Since(resumed).Round(time.Millisecond))
			h := s.loadStateFrom(b).History
			if len(h) != 1 || h[0].Result != state.ResultSuccess || h[0].To != "1.1.0" {
				t.Errorf("history %+v", h)
			}
		})
	}
}

func (s *shop) loadStateFrom(b state.Backend) *state.State {
	s.t.Helper()
	st, err := b.Load(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}
