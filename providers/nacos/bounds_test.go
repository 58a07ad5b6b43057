package nacos

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestUnresponsiveServer points providers at a server that accepts
// connections and never answers: reads, writes and logins fail after the
// 1s timeout — not repeated — with an error naming the address and the bound;
// a compare-and-swap publish through the SDK within three times the timeout.
func TestUnresponsiveServer(t *testing.T) {
	addr := testfleet.SilentServer(t)
	svc := providers.ServiceKey{Service: "order-service"}
	doc := providers.ConfigKey{DataID: "routes.json"}
	configs := map[string]Config{
		"nacos":      {Addresses: []string{addr}, Flavor: FlavorNacos, Namespace: DefaultNamespace, Timeout: time.Second},
		"polaris":    {Addresses: []string{addr}, Flavor: FlavorPolaris, PolarisAddress: addr, Namespace: DefaultNamespace, Timeout: time.Second},
		"with login": {Addresses: []string{addr}, Flavor: FlavorNacos, Namespace: DefaultNamespace, Timeout: time.Second, Username: "nacos", Password: "pw"},
	}
	calls := map[string]struct {
		call  func(n *Nacos) error
		bound time.Duration
		want  string
	}{
		"list instances": {func(n *Nacos) error { _, err := n.Instances(context.Background(), svc); return err }, time.Second, "within 1s"},
		"disable": {func(n *Nacos) error {
			return n.SetInstanceEnabled(context.Background(), providers.InstanceKey{ServiceKey: svc, Address: "10.0.0.1:8080"}, false)
		}, time.Second, "within 1s"},
		"read config":    {func(n *Nacos) error { _, _, _, err := n.GetConfig(context.Background(), doc); return err }, time.Second, "within 1s"},
		"publish config": {func(n *Nacos) error { return n.PublishConfig(context.Background(), doc, "{}", "") }, time.Second, "within 1s"},
		"publish config with cas": {func(n *Nacos) error {
			return n.PublishConfig(context.Background(), doc, "{}", "d41d8cd98f00b204e9800998ecf8427e")
		}, 3 * time.Second, ""},
	}
	for cname, cfg := range configs {
		for name, c := range calls {
			if cname != "nacos" && name == "publish config with cas" {
				continue
			}
			t.Run(cname+"/"+name, func(t *testing.T) {
				t.Parallel()
				n := NewWithConfig("hang", cfg, nil)
				defer n.Close()
				start := time.Now()
				err := c.call(n)
				took := time.Since(start)
				t.Logf("after %s: %v", took.Round(time.Millisecond), err)
				if err == nil || !strings.Contains(err.Error(), addr) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("error %v, want one naming %s and %q", err, addr, c.want)
				}
				if took > c.bound+1500*time.Millisecond {
					t.Errorf("took %s, bound %s", took, c.bound)
				}
			})
		}
	}
}

// TestUnresponsiveGRPC publishes with compare-and-swap, through the SDK's gRPC
// client, to a server whose HTTP and gRPC ports both accept connections and
// never answer: the publish fails within three times the timeout.
func TestUnresponsiveGRPC(t *testing.T) {
	var addr string
	for range 20 {
		a := testfleet.SilentServer(t)
		host, port, _ := net.SplitHostPort(a)
		p, _ := strconv.Atoi(port)
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p+1000)))
		if err != nil {
			continue // the gRPC port is taken: try another pair
		}
		t.Cleanup(func() { l.Close() })
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		addr = a
		break
	}
	if addr == "" {
		t.Fatal("no free pair of ports")
	}
	n := NewWithConfig("hang", Config{Addresses: []string{addr}, Flavor: FlavorNacos, Namespace: DefaultNamespace, Timeout: time.Second}, nil)
	start := time.Now()
	err := n.PublishConfig(context.Background(), providers.ConfigKey{DataID: "routes.json"}, "{}", "d41d8cd98f00b204e9800998ecf8427e")
	took := time.Since(start)
	t.Logf("after %s: %v", took.Round(time.Millisecond), err)
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %v, want one naming %s", err, addr)
	}
	if took > 4500*time.Millisecond {
		t.Errorf("took %s, bound 3s", took)
	}
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(15 * time.Second):
		t.Errorf("Close hangs after a publish that got no answer")
	}
}

// TestRetries checks that a call answered 503 is tried again with backoff,
// and that one that timed out is not.
func TestRetries(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); {
		case strings.Contains(r.URL.RawQuery, "slow"):
			time.Sleep(1500 * time.Millisecond)
		case n < callAttempts:
			http.Error(w, "restarting", http.StatusServiceUnavailable)
		default:
			w.Write([]byte(`{"count":1,"list":[{"ip":"10.0.0.1","port":8080,"enabled":true,"healthy":true,"weight":1}]}`))
		}
	}))
	defer srv.Close()
	n := NewWithConfig("flaky", Config{Addresses: []string{strings.TrimPrefix(srv.URL, "http://")},
		Flavor: FlavorNacos, Namespace: DefaultNamespace, Timeout: time.Second}, nil)
	defer n.Close()
	got, err := n.Instances(context.Background(), providers.ServiceKey{Service: "order-service"})
	if err != nil || len(got) != 1 || calls.Load() != callAttempts {
		t.Errorf("after %d calls: %v, %v; want the instance after %d calls", calls.Load(), got, err, callAttempts)
	}
	calls.Store(0)
	if _, err := n.Instances(context.Background(), providers.ServiceKey{Service: "slow"}); err == nil || calls.Load() != 1 {
		t.Errorf("a call that timed out: %v after %d tries, want an error after 1", err, calls.Load())
	}
}
