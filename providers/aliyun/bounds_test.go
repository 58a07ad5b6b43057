package aliyun

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestUnresponsiveEndpoint points SLB and ALB providers at an endpoint that
// accepts connections and never answers: reads and writes fail after the 1s
// request timeout — once, not repeated — naming the endpoint and the bound,
// and never the signed query.
func TestUnresponsiveEndpoint(t *testing.T) {
	addr := testfleet.SilentServer(t)
	for _, kind := range []string{KindSLB, KindALB} {
		f, _ := providers.Lookup(kind)
		p, err := f.New(providers.Settings{Name: "lb", Attrs: map[string]cty.Value{
			"region": cty.StringVal("cn-shanghai"), "access_key_id": cty.StringVal(testKeyID),
			"access_key_secret": cty.StringVal(testKeySecret), "endpoint": cty.StringVal("http://" + addr),
		}})
		if err != nil {
			t.Fatal(err)
		}
		b := p.(providers.Balancer)
		switch p := p.(type) {
		case *SLB:
			p.rpc.timeout = time.Second
		case *ALB:
			p.rpc.timeout = time.Second
		}
		calls := map[string]func() error{
			"read pool":  func() error { _, err := b.Pool(context.Background(), "rsp-1"); return err },
			"set weight": func() error { return b.SetMemberWeight(context.Background(), "rsp-1", "10.0.0.1:80", 0) },
		}
		for name, call := range calls {
			t.Run(kind+"/"+name, func(t *testing.T) {
				t.Parallel()
				start := time.Now()
				err := call()
				took := time.Since(start)
				t.Logf("after %s: %v", took.Round(time.Millisecond), err)
				if err == nil || !strings.Contains(err.Error(), "http://"+addr) || !strings.Contains(err.Error(), "no answer within 1s") {
					t.Errorf("error %v, want one naming the endpoint and the bound", err)
				}
				if strings.Contains(err.Error(), testKeyID) || strings.Contains(err.Error(), "Signature") {
					t.Errorf("the error quotes the signed request: %v", err)
				}
				if took > 2500*time.Millisecond {
					t.Errorf("took %s, bound 1s", took)
				}
			})
		}
	}
}

// TestRetriesThrottled checks that a throttled call is tried again, signed
// anew, until it succeeds, and that a gateway error page is not retried.
func TestRetriesThrottled(t *testing.T) {
	var calls atomic.Int32
	var mu sync.Mutex
	nonces := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		nonces[r.URL.Query().Get("SignatureNonce")] = true
		mu.Unlock()
		switch n := calls.Add(1); {
		case r.URL.Query().Get("Action") == "Gateway":
			http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
		case n < callAttempts:
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"RequestId":"R","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`))
		default:
			w.Write([]byte(`{"RequestId":"R"}`))
		}
	}))
	defer srv.Close()
	c, err := newRPC(KindSLB, "lb", settings{region: "cn-shanghai", keyID: testKeyID, keySecret: testKeySecret, endpoint: srv.URL}, slbVersion, "")
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ RequestID string }
	err = c.call(context.Background(), "DescribeVServerGroups", nil, &out)
	mu.Lock()
	signed := len(nonces)
	mu.Unlock()
	if err != nil || calls.Load() != callAttempts || signed != callAttempts {
		t.Errorf("after %d calls (%d nonces): %v; want success after %d, each signed anew", calls.Load(), signed, err, callAttempts)
	}
	calls.Store(0)
	if err := c.call(context.Background(), "Gateway", nil, &out); err == nil || calls.Load() != 1 {
		t.Errorf("a gateway error: %v after %d calls, want an error after 1", err, calls.Load())
	}
}
