package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor"
)

// Provider faults during an apply, on the real fleet under load: each fault makes
// the apply fail with a clear message, the service's on_failure runs, no request
// fails on any path, no path ever routes to fewer than min_available members, and
// once the fault is gone the next apply converges.

// TestNginxTestFailsMidRelease makes `nginx -t` fail from its third run on (group
// a went out and came back; group b's drain is refused), then heals it.
func TestNginxTestFailsMidRelease(t *testing.T) {
	f := newFleet(t, "fault-nginx-svc", "1.0.0", quickStart)
	broken := filepath.Join(t.TempDir(), "broken")
	counter := filepath.Join(t.TempDir(), "count")
	script := filepath.Join(t.TempDir(), "nginx-test.sh")
	body := fmt.Sprintf(`#!/bin/sh
n=$(($(cat %[1]q 2>/dev/null || echo 0) + 1)); echo $n > %[1]q
if [ -e %[2]q ] && [ $n -ge 3 ]; then echo "nginx: [emerg] injected fault (run $n)" >&2; exit 1; fi
exec %[3]s
`, counter, broken, strings.Join(quoteAll(f.nginx.Command("-t")), " "))
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	f.cfg.NginxTest = []string{script}
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	res, _, err := f.release(r)
	if err == nil {
		t.Fatal("the apply succeeded although nginx -t failed")
	}
	sr := res.Services[f.service]
	if sr == nil || !strings.Contains(sr.Error, "injected fault") {
		t.Errorf("the failure does not carry nginx's message: %+v", sr)
	}
	t.Logf("outcome %s: %s; rollback: %s", sr.Outcome, sr.Error, sr.RollbackError)

	// nginx heals; the next apply converges.
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	r = f.releaser("1.1.0")
	if _, _, err := f.release(r); err != nil {
		t.Errorf("the apply after nginx healed: %v", err)
	}
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.1.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after recovery (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r)
}

// TestHAProxyRuntimeAPIGoneMidRelease cuts nonstop's connection to HAProxy's
// runtime API while group a is being released, for 8 s, then brings it back.
func TestHAProxyRuntimeAPIGoneMidRelease(t *testing.T) {
	f := newFleet(t, "fault-haproxy-svc", "1.0.0", quickStart)
	api := strings.TrimPrefix(f.haproxy.TCPURL(), "tcp://")
	proxy := startCutProxy(t, api)
	f.cfg.RuntimeAPI = "tcp://" + proxy.addr
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	go func() {
		time.Sleep(3 * time.Second) // group a is out of traffic, deploying
		proxy.cut(true)
		time.Sleep(8 * time.Second)
		proxy.cut(false)
	}()
	res, _, err := f.release(r)
	if err == nil {
		t.Log("the apply outlasted the cut (its writes were retried)")
	} else {
		sr := res.Services[f.service]
		t.Logf("outcome %s: %s; rollback: %s", sr.Outcome, sr.Error, sr.RollbackError)
		if !strings.Contains(sr.Error+sr.RollbackError, proxy.addr) {
			t.Errorf("the failure does not name the runtime API %s: %+v", proxy.addr, sr)
		}
	}
	for proxy.isCut() {
		time.Sleep(100 * time.Millisecond)
	}
	r = f.releaser("1.1.0")
	if _, _, err := f.release(r); err != nil {
		t.Errorf("the apply after the runtime API came back: %v", err)
	}
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.1.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after recovery (-want +got):\n%s", diff)
	}
	f.assertNoChanges(r)
}

// TestCanaryAnalysisWithoutDataRollsBack runs a canary whose analysis answers no
// data (no_data = "fail"): the canary rolls back with 0 failed requests.
func TestCanaryAnalysisWithoutDataRollsBack(t *testing.T) {
	var queries atomic.Int64
	analysis := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer analysis.Close()
	f := newFleet(t, "fault-nodata-svc", "1.0.0", quickStart)
	f.cfg.Strategy = `strategy "canary" {
    step {
      weight   = 50
      pause    = "1s"
      analysis = ["error-rate"]
    }
    step { weight = 100 }
  }`
	f.cfg.Extra = `
  analysis "error-rate" {
    http      = "` + analysis.URL + `/api/v1/query"
    max_value = 0.01
    no_data   = "fail"
  }
`
	r := f.releaser("1.1.0")
	tr := f.startLoad(4)
	res, _, err := f.release(r)
	time.Sleep(2 * time.Second)
	f.stopLoad(tr, minAvailable)
	if err == nil {
		t.Fatal("a canary whose analysis has no data was promoted")
	}
	if queries.Load() == 0 {
		t.Error("the analysis endpoint was never queried")
	}
	sr := res.Services[f.service]
	if sr.Outcome != executor.OutcomeRolledBack {
		t.Errorf("outcome %s (%s; rollback: %s), want %s", sr.Outcome, sr.Error, sr.RollbackError, executor.OutcomeRolledBack)
	}
	wantView := map[string]instanceView{}
	want(wantView, f.addrs(), "1.0.0", true)
	if diff := cmp.Diff(wantView, f.view(r)); diff != "" {
		t.Errorf("instances after the rollback (-want +got):\n%s", diff)
	}
}

// quoteAll quotes each argument for sh.
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

// cutProxy forwards TCP connections to target until it is cut: then it refuses
// new connections (closes them at once) and drops those open.
type cutProxy struct {
	addr   string
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func startCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: l.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c] = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
		c.Close()
	}()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
}

func (p *cutProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

func (p *cutProxy) isCut() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.down
}
