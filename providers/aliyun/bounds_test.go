package aliyun

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
	"github.com/hashicorp/go-hclog"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestUnresponsiveEndpoint points SLB and ALB providers with timeout = "1s" at
// an endpoint that accepts connections and never answers: reads and writes
// fail after the 1s bound — once, not repeated — naming the endpoint and the
// bound, and never the signed query.
func TestUnresponsiveEndpoint(t *testing.T) {
	addr := testfleet.SilentServer(t)
	for _, kind := range []string{KindSLB, KindALB} {
		f, _ := providers.Lookup(kind)
		p, err := f.New(providers.Settings{Name: "lb", Attrs: map[string]cty.Value{
			"region": cty.StringVal("cn-shanghai"), "access_key_id": cty.StringVal(testKeyID),
			"access_key_secret": cty.StringVal(testKeySecret), "security_token": cty.StringVal(testToken),
			"endpoint": cty.StringVal("http://" + addr), "timeout": cty.StringVal("1s"),
		}})
		if err != nil {
			t.Fatal(err)
		}
		b := p.(providers.Balancer)
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
				for _, secret := range []string{testKeyID, testKeySecret, testToken, "Signature"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("the error quotes the signed request (%s): %v", secret, err)
					}
				}
				if took > 2500*time.Millisecond {
					t.Errorf("took %s, bound 1s", took)
				}
			})
		}
	}
}

// TestRetries answers a call with scripted failures: throttling (HTTP 400
// Throttling.User, 429, 503 ServiceUnavailable or a 503 page) is tried again,
// signed anew, up to callAttempts tries, and then fails naming the endpoint and
// the bound; a gateway's 502 page and a refused answer are not retried.
func TestRetries(t *testing.T) {
	throttled := func(w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"RequestId":"R","Code":"Throttling.User","Message":"Request was denied due to user flow control."}`))
	}
	cases := map[string]struct {
		answer    func(w http.ResponseWriter, try int)
		wantTries int
		wantErr   string // after the endpoint; "" for success
	}{
		"throttled twice, then answers": {
			answer: func(w http.ResponseWriter, try int) {
				if try <= 2 {
					throttled(w)
					return
				}
				w.Write([]byte(`{"RequestId":"R"}`))
			},
			wantTries: 3,
		},
		"429 then 503 pages, then answers": {
			answer: func(w http.ResponseWriter, try int) {
				switch try {
				case 1:
					http.Error(w, "<html>too many requests</html>", http.StatusTooManyRequests)
				case 2:
					http.Error(w, `{"Code":"ServiceUnavailable","Message":"The request has failed due to a temporary failure of the server."}`, http.StatusServiceUnavailable)
				default:
					w.Write([]byte(`{"RequestId":"R"}`))
				}
			},
			wantTries: 3,
		},
		"throttled every time": {
			answer:    func(w http.ResponseWriter, try int) { throttled(w) },
			wantTries: callAttempts,
			wantErr:   ": gave up after 3 tries in ",
		},
		"gateway page": {
			answer:    func(w http.ResponseWriter, try int) { http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway) },
			wantTries: 1,
			wantErr:   "DescribeVServerGroupAttribute: HTTP 502: <html>bad gateway</html>",
		},
		"refused": {
			answer: func(w http.ResponseWriter, try int) {
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"RequestId":"R","Code":"Forbidden.RAM","Message":"User not authorized to operate on the specified resource."}`))
			},
			wantTries: 1,
			wantErr:   "DescribeVServerGroupAttribute: Forbidden.RAM: User not authorized to operate on the specified resource. (request id R)",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			tries, nonces := 0, map[string]bool{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				tries++
				try := tries
				nonces[r.URL.Query().Get("SignatureNonce")] = true
				mu.Unlock()
				tc.answer(w, try)
			}))
			defer srv.Close()
			c := testRPC(t, srv.URL)
			var out struct{ RequestID string }
			err := c.call(context.Background(), describeGroup("rsp-1"), &out)
			mu.Lock()
			defer mu.Unlock()
			if tries != tc.wantTries || len(nonces) != tries {
				t.Errorf("%d tries with %d nonces, want %d tries, each signed anew", tries, len(nonces), tc.wantTries)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v, want success", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one with %q", err, tc.wantErr)
			}
			if name == "throttled every time" {
				want := "DescribeVServerGroupAttribute at " + srv.URL + ": gave up after 3 tries in "
				if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "(the retry bound): Throttling.User: Request was denied due to user flow control. (request id R)") {
					t.Errorf("error %q, want it to name the endpoint, the bound and the last answer", err)
				}
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != "Throttling.User" {
					t.Errorf("error %v does not carry the API's answer", err)
				}
			}
		})
	}
}

// TestRetriesConnectionRefused calls an endpoint whose port is closed: each
// try is refused, and after callAttempts tries the error names the endpoint.
func TestRetriesConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := testRPC(t, "http://"+addr)
	err = c.call(context.Background(), describeGroup("rsp-1"), &struct{}{})
	want := "DescribeVServerGroupAttribute at http://" + addr + ": gave up after 3 tries in "
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %v, want one starting %q and saying the connection was refused", err, want)
	}
}

// testRPC is an SLB API client of endpoint with the test key and a short pause
// between tries.
func testRPC(t *testing.T, endpoint string) *rpcClient {
	t.Helper()
	c, err := newRPC(KindSLB, "lb", settings{region: "cn-shanghai", keyID: testKeyID, keySecret: testKeySecret, endpoint: endpoint}, "", hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	c.backoff = 10 * time.Millisecond
	return c
}

// describeGroup builds a DescribeVServerGroupAttribute request.
func describeGroup(pool string) func() requests.AcsRequest {
	return func() requests.AcsRequest {
		r := slb.CreateDescribeVServerGroupAttributeRequest()
		r.VServerGroupId = pool
		return r
	}
}

// TestParallelCalls reads one SLB provider's pool from eight goroutines at
// once, as parallel steps do: each try has its own SDK client, so nothing is
// shared but the transport and the credentials (run with -race).
func TestParallelCalls(t *testing.T) {
	fixtures := map[string]string{
		"DescribeVServerGroupAttribute": "slb/describe_vserver_group_attribute.json",
		"DescribeHealthStatus":          "slb/describe_health_status.json",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("Signature") != serverSignature(r.Method, q, testKeySecret) {
			http.Error(w, `{"Code":"SignatureDoesNotMatch"}`, http.StatusBadRequest)
			return
		}
		http.ServeFile(w, r, "testdata/"+fixtures[q.Get("Action")])
	}))
	defer srv.Close()
	p, err := NewSLB(providers.Settings{Name: "web", Attrs: map[string]cty.Value{
		"region": cty.StringVal("cn-hangzhou"), "access_key_id": cty.StringVal(testKeyID),
		"access_key_secret": cty.StringVal(testKeySecret), "endpoint": cty.StringVal(srv.URL),
	}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if m, err := p.(*SLB).Pool(context.Background(), rsp); err != nil || len(m) != 3 {
				t.Errorf("Pool: %d members, %v", len(m), err)
			}
		})
	}
	wg.Wait()
}

// TestCallerStops cancels a read of an endpoint that never answers after 200ms:
// the SDK, which takes no context, gives up then (the transport carries the
// caller's context), well before the provider's 30s timeout.
func TestCallerStops(t *testing.T) {
	addr := testfleet.SilentServer(t)
	c := testRPC(t, "http://"+addr)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.call(ctx, describeGroup("rsp-1"), &struct{}{})
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s after the caller stopped at 200ms", took)
	}
	want := "DescribeVServerGroupAttribute at http://" + addr + ": no answer before the call was stopped"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want one starting %q", err, want)
	}
}
