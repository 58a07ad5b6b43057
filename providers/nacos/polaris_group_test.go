package nacos

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// instanceWrites is a proxy in front of Polaris' native API that counts the
// instance write requests and holds the first one for a fifth of a second, so
// that writes sent meanwhile queue behind it.
type instanceWrites struct {
	requests atomic.Int32
	first    sync.Once
}

func (c *instanceWrites) start(t *testing.T) string {
	target, _ := url.Parse("http://" + polaris.NativeAddr)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Path == "/naming/v1/instances" {
			c.requests.Add(1)
			c.first.Do(func() { time.Sleep(200 * time.Millisecond) })
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// TestPolarisGroupsInstanceWrites disables six instances at once: the first
// write goes alone, the five sent while it is in flight go in one request, and
// every instance reads back disabled. A group with an unregistered instance,
// which Polaris refuses whole, is sent again one instance per request, so the
// registered instance is still written and only the other write fails, naming
// its address.
func TestPolarisGroupsInstanceWrites(t *testing.T) {
	counter := &instanceWrites{}
	n := newProvider(t, map[string]cty.Value{"polaris_address": cty.StringVal(counter.start(t))})
	svc := serviceName(t)
	key := providers.ServiceKey{Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}
	var addrs []string
	for range 6 {
		d := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "2.0.0"})
		addrs = append(addrs, d.Addr)
	}
	eventually(t, 10*time.Second, "six instances listed", func() (bool, string) {
		got := instancesByAddr(t, n, key)
		return len(got) == 6, ""
	})
	ctx := context.Background()
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	wg.Go(func() {
		errs[0] = n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: addrs[0]}, false)
	})
	time.Sleep(50 * time.Millisecond) // the first write is in flight, held by the proxy
	for i := 1; i < len(addrs); i++ {
		wg.Go(func() {
			errs[i] = n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: addrs[i]}, false)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("disabling %s: %v", addrs[i], err)
		}
	}
	if got := counter.requests.Load(); got != 2 {
		t.Errorf("%d write requests for 6 instances, want 2 (the first, then one group)", got)
	}
	eventually(t, 5*time.Second, "every instance disabled", func() (bool, string) {
		for _, in := range instancesByAddr(t, n, key) {
			if in.Enabled {
				return false, in.Address + " is enabled"
			}
		}
		return true, ""
	})

	// A refused group: both writes held behind a third in flight.
	counter.first = sync.Once{}
	var held, known, unknown error
	wg.Go(func() {
		held = n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: addrs[1]}, true)
	})
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() {
		known = n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: addrs[0]}, true)
	})
	wg.Go(func() {
		unknown = n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: "127.0.0.1:1"}, true)
	})
	wg.Wait()
	if held != nil || known != nil {
		t.Errorf("writes to registered instances: %v, %v", held, known)
	}
	if unknown == nil || !strings.Contains(unknown.Error(), "127.0.0.1:1") {
		t.Errorf("write to an unregistered instance: %v, want an error naming it", unknown)
	}
	eventually(t, 5*time.Second, "the registered instance enabled", func() (bool, string) {
		return instancesByAddr(t, n, key)[addrs[0]].Enabled, ""
	})
}
