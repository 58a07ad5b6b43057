package testfleet

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// Backend is a tiny in-process HTTP server on a loopback port that answers every
// request with its own address, so a test that sends requests through a balancer can
// count which member served each one.
//
// GET /slow?ms=N holds the request for N milliseconds (default 2000) before
// answering, which keeps a session open on the balancer while a test looks at it.
type Backend struct {
	// Addr is the backend's host:port, the member address a balancer pool holds.
	Addr string

	hits   atomic.Int64
	active atomic.Int64
	srv    *http.Server
}

// StartBackends starts n backends on free loopback ports; t.Cleanup stops them.
func StartBackends(t testing.TB, n int) []*Backend {
	t.Helper()
	out := make([]*Backend, 0, n)
	for range n {
		b, err := startBackend()
		if err != nil {
			t.Fatalf("start backend: %v", err)
		}
		t.Cleanup(b.stop)
		out = append(out, b)
	}
	return out
}

func startBackend() (*Backend, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &Backend{Addr: l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", b.serveSlow)
	mux.HandleFunc("/", b.serveAddr)
	b.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(l) }()
	return b, nil
}

// Hits returns how many requests the backend has answered or is answering.
func (b *Backend) Hits() int64 { return b.hits.Load() }

// Active returns how many requests the backend is serving right now.
func (b *Backend) Active() int64 { return b.active.Load() }

func (b *Backend) serveAddr(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, b.Addr)
}

func (b *Backend) serveSlow(w http.ResponseWriter, r *http.Request) {
	b.hits.Add(1)
	b.active.Add(1)
	defer b.active.Add(-1)
	d := 2 * time.Second
	if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil && ms >= 0 {
		d = time.Duration(ms) * time.Millisecond
	}
	select {
	case <-time.After(d):
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, b.Addr)
}

func (b *Backend) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := b.srv.Shutdown(ctx); err != nil {
		_ = b.srv.Close()
	}
}

// CountByBackend sends n GET requests to url, each with the given headers and on a
// fresh connection, and counts the answers by body (a backend's address). Answers
// that are not 200 are counted under "HTTP <code>".
func CountByBackend(t testing.TB, url string, n int, header http.Header) map[string]int {
	t.Helper()
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	counts := map[string]int{}
	for range n {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("request %s: %v", url, err)
		}
		for k, vs := range header {
			req.Header[k] = vs
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
		resp.Body.Close()
		if err != nil {
			t.Fatalf("GET %s: read body: %v", url, err)
		}
		if resp.StatusCode != http.StatusOK {
			counts["HTTP "+strconv.Itoa(resp.StatusCode)]++
			continue
		}
		counts[string(body)]++
	}
	return counts
}
