package demo

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNginxMembers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "upstreams.conf")
	conf := `# Managed by nonstop
upstream order_backend {
    keepalive 16;
    server 127.0.0.1:18081 weight=2 max_fails=3;
    server 127.0.0.1:18082 down;  # nonstop: state=ready weight=0
    server 127.0.0.1:18083 weight=5 down;  # nonstop: state=drain
    server 127.0.0.1:18084;
}
upstream order_backend__beta {
    server 127.0.0.1:18085;
}
map $host $nonstop_order_backend {
    default order_backend;
}
`
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := nginxMembers(file, "order_backend")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"127.0.0.1:18081", "127.0.0.1:18084"}; !slices.Equal(got, want) {
		t.Errorf("members %v, want %v", got, want)
	}
	if _, err := nginxMembers(file, "nothing"); err == nil {
		t.Error("a missing pool is not an error")
	}
}

// TestSampler feeds a scripted source and checks min, its time, the timeline and
// JoinedAfter.
func TestSampler(t *testing.T) {
	var mu sync.Mutex
	cur := []string{"a", "b"}
	set := func(m ...string) { mu.Lock(); cur = m; mu.Unlock() }
	src := ServingSource{Name: "fake", Members: func() ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(cur), nil
	}}
	s := StartSampler(10*time.Millisecond, src)
	time.Sleep(50 * time.Millisecond)
	set("a")
	dropped := time.Now()
	time.Sleep(50 * time.Millisecond)
	deployed := time.Now()
	time.Sleep(50 * time.Millisecond)
	set("b", "a")
	joined := time.Now()
	time.Sleep(50 * time.Millisecond)
	ps := s.Stop()
	if len(ps) != 1 {
		t.Fatalf("%d paths", len(ps))
	}
	p := ps[0]
	t.Log(p)
	if p.Min != 1 || p.MinAt.Before(dropped) || p.MinAt.After(deployed) {
		t.Errorf("min %d at %s, want 1 between %s and %s", p.Min, p.MinAt, dropped, deployed)
	}
	if len(p.Changes) != 3 || p.Samples < 10 || p.Errors != 0 {
		t.Errorf("changes %+v, samples %d, errors %d", p.Changes, p.Samples, p.Errors)
	}
	at, ok := p.JoinedAfter("b", deployed)
	if !ok || at.Before(joined) || at.After(joined.Add(30*time.Millisecond)) {
		t.Errorf("b joined at %s (%t), want just after %s", at, ok, joined)
	}
	if _, ok := p.JoinedAfter("a", deployed); ok {
		t.Error("a never left, yet it joined")
	}
	if !strings.Contains(p.String(), "fake: min 1 at ") {
		t.Errorf("String() = %q", p.String())
	}
}

// TestLoadNamesFailedMembers checks that a failure records the member from
// X-Served-By, or X-Upstream when nginx sets it, with its status and time.
func TestLoadNamesFailedMembers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", "web/node2@127.0.0.1:9")
		if r.Header.Get("X-Nginx") != "" {
			w.Header().Set("X-Upstream", "127.0.0.1:8, 127.0.0.1:7")
		}
		http.Error(w, "warming up", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	p := HTTPPath("haproxy", srv.URL)
	before := time.Now()
	p.once()
	c := p.Counts()
	if c.Failed != 1 || len(c.Failures) != 1 || len(c.FailedAt) != 1 {
		t.Fatalf("counts %+v", c)
	}
	f := c.Failures[0]
	if f.Path != "haproxy" || f.Member != "web/node2@127.0.0.1:9" || f.Status != 503 || f.At.Before(before) ||
		f.Reason != "503 Service Unavailable: warming up" {
		t.Errorf("failure %+v", f)
	}
	if !strings.Contains(c.String(), "haproxy → web/node2@127.0.0.1:9: 503 Service Unavailable: warming up") {
		t.Errorf("Counts.String() = %q", c.String())
	}
	if got := servedBy(http.Header{"X-Upstream": {"127.0.0.1:8, 127.0.0.1:7"}}); got != "127.0.0.1:7" {
		t.Errorf("servedBy = %q", got)
	}

	// A consumer path names the instance it picked even when it cannot connect.
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")
	srv.Close()
	d := newPath("registry", func() (string, error) { return "http://127.0.0.1:" + port, nil })
	d.direct = true
	d.client.Timeout = time.Second
	d.once()
	if fs := d.Counts().Failures; len(fs) != 1 || fs[0].Member != "127.0.0.1:"+port || fs[0].Status != 0 {
		t.Errorf("direct failure %+v", fs)
	}
}
