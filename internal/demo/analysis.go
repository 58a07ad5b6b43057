package demo

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// AnalysisServer is a stand-in for Prometheus that a canary's analysis gate
// queries: GET /api/v1/query (whatever the query) answers a Prometheus instant
// vector holding the share of the demo clients' requests that failed over the
// last Window, read from their counters. With no request in the window the
// vector is empty ("no data").
type AnalysisServer struct {
	// URL is the query endpoint, "http://127.0.0.1:P/api/v1/query".
	URL string
	// Window is how far back the error rate looks; default 30s.
	Window time.Duration

	queries atomic.Int64
	last    atomic.Value // string: the last value answered
	srv     *http.Server
}

// StartAnalysis serves the error rate of what window returns (Load.Window) on a
// free loopback port; Close stops it.
func StartAnalysis(window func(from, to time.Time) []Counts) (*AnalysisServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &AnalysisServer{URL: "http://" + ln.Addr().String() + "/api/v1/query", Window: 30 * time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		a.queries.Add(1)
		now := time.Now()
		var sent, failed int64
		for _, c := range window(now.Add(-a.Window), now) {
			sent += c.Sent()
			failed += c.Failed
		}
		w.Header().Set("Content-Type", "application/json")
		if sent == 0 {
			a.last.Store("no data")
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			return
		}
		rate := float64(failed) / float64(sent)
		a.last.Store(fmt.Sprintf("%g (%d of %d requests failed)", rate, failed, sent))
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"demo-clients"},"value":[%.3f,"%s"]}]}}`,
			float64(now.UnixMilli())/1000, formatFloat(rate))
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go a.srv.Serve(ln)
	return a, nil
}

func formatFloat(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	return fmt.Sprintf("%g", f)
}

// Queries returns how many queries it answered, and the last value it gave.
func (a *AnalysisServer) Queries() (int64, string) {
	last, _ := a.last.Load().(string)
	return a.queries.Load(), last
}

// Close stops serving.
func (a *AnalysisServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}
