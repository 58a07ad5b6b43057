package f5

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestUnresponsiveBigIP points the provider at a management address that
// accepts connections and never answers: reading a pool and writing a member
// fail after the 1s request timeout — once, not repeated — naming the URL and
// the bound.
func TestUnresponsiveBigIP(t *testing.T) {
	addr := testfleet.SilentServer(t)
	p, err := New(providers.Settings{Name: "lb", Attrs: map[string]cty.Value{
		"url": cty.StringVal("http://" + addr), "username": cty.StringVal("nonstop"), "password": cty.StringVal("s3cret"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := p.(*F5)
	f.http.Timeout = time.Second
	calls := map[string]func() error{
		"read pool": func() error { _, err := f.Pool(context.Background(), "web"); return err },
		"drain member": func() error {
			return f.SetMemberState(context.Background(), "web", "10.0.0.1:8080", providers.StateDrain)
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			err := call()
			took := time.Since(start)
			t.Logf("after %s: %v", took.Round(time.Millisecond), err)
			if err == nil || !strings.Contains(err.Error(), "http://"+addr+"/mgmt/") || !strings.Contains(err.Error(), "no answer within 1s") {
				t.Errorf("error %v, want one naming the URL and the bound", err)
			}
			if took > 2500*time.Millisecond {
				t.Errorf("took %s, bound 1s", took)
			}
		})
	}
}

// TestRetriesUnavailable checks that a read answered 503 is tried again with
// backoff until it succeeds, and that a timed-out one is not.
func TestRetriesUnavailable(t *testing.T) {
	fake := newFakeBigIP(t, false)
	var calls atomic.Int32
	var slow atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/members") {
			if slow.Load() {
				calls.Add(1)
				time.Sleep(1500 * time.Millisecond)
			} else if calls.Add(1) < callAttempts {
				http.Error(w, "<title>503 Service Unavailable</title>", http.StatusServiceUnavailable)
				return
			}
		}
		fake.srv.Config.Handler.ServeHTTP(w, r)
	}))
	defer front.Close()
	f := newProvider(t, fake, map[string]cty.Value{"url": cty.StringVal(front.URL)})
	if _, err := f.Pool(context.Background(), "web"); err != nil || calls.Load() != callAttempts {
		t.Errorf("after %d tries: %v; want the pool after %d", calls.Load(), err, callAttempts)
	}
	calls.Store(0)
	slow.Store(true)
	f.http.Timeout = time.Second
	if _, err := f.Pool(context.Background(), "web"); err == nil || calls.Load() != 1 {
		t.Errorf("a read that timed out: %v after %d tries, want an error after 1", err, calls.Load())
	}
}
