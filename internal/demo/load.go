package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// WorkPath is what every load request asks for: 20 ms of work on the instance.
const WorkPath = "/work?ms=20"

// requestTimeout bounds one load request; a slower answer counts as a failure.
const requestTimeout = 5 * time.Second

// maxFailures is how many failures Counts lists in full (Counts.Failures).
const maxFailures = 10

// maxKeptFailures is how many failures a path keeps in full for its windows.
const maxKeptFailures = 2000

// Path is one way clients reach the service. Each request uses a fresh connection
// and is never retried: a transport error or any status but 200 is a failure.
// Every request's outcome and latency is kept, so that Window can tell what a
// stretch of time saw (a release) apart from the rest (idle).
type Path struct {
	// Name says which path it is ("nginx", "haproxy", "registry").
	Name string

	target func() (string, error) // base URL ("http://host:port") of the next request
	direct bool                   // target is the instance itself, not a balancer
	header http.Header            // sent with every request
	client *http.Client

	ok, failed atomic.Int64
	mu         sync.Mutex
	samples    []sample
	versions   []string       // sample.ver indexes it
	versionIdx map[string]int // version → index
	reasons    []string       // sample.reason indexes it
	reasonIdx  map[string]int // reason → index
	failures   []Failure      // the first maxKeptFailures failures
}

// sample is one request's outcome.
type sample struct {
	at     int64 // when it was sent, Unix nanoseconds
	lat    int32 // microseconds until the answer was read or the request failed
	ver    int16 // index of the version answered; -1 on a failure
	reason int16 // index of the failure reason; -1 on a success
}

// Failure is one failed request.
type Failure struct {
	// Path is the path's name.
	Path string
	// Member is the instance the request went to, as far as it is known: nginx's
	// X-Upstream, HAProxy's (or the instance's) X-Served-By, or the address a
	// registry consumer picked; "" when nothing names it (e.g. a balancer refused
	// the connection).
	Member string
	// Status is the HTTP status, 0 for a transport error.
	Status int
	// Reason is the status line and a bit of the body, or the error.
	Reason string
	// At is when the request was sent.
	At time.Time
}

// String renders "12:03:04.512 haproxy → 127.0.0.1:18082: 503 Service Unavailable: warming up".
func (f Failure) String() string {
	member := f.Member
	if member == "" {
		member = "?"
	}
	return fmt.Sprintf("%s %s → %s: %s", f.At.Format("15:04:05.000"), f.Path, member, f.Reason)
}

// Counts is what a path saw.
type Counts struct {
	Name     string
	OK       int64
	Failed   int64
	Errors   map[string]int
	Versions map[string]int
	// FailedAt holds the times of the first failures (at most ten).
	FailedAt []time.Time
	// Failures holds the first failures (at most ten) in full.
	Failures []Failure
	// P50, P99 and Max are the latencies of the successful requests (send to
	// body read), zero when none succeeded.
	P50, P99, Max time.Duration
	// Latencies holds every successful request's latency, sorted; with them
	// several paths' percentiles can be merged (Merge).
	Latencies []time.Duration
}

// Sent is OK + Failed.
func (c Counts) Sent() int64 { return c.OK + c.Failed }

// String renders "nginx: 812 ok, 0 failed, p50 21ms p99 28ms (1.0.0 400, 1.1.0
// 412)", then the failure reasons with their counts and the first few failures
// (path, member, error, time).
func (c Counts) String() string {
	var vs []string
	for v, n := range c.Versions {
		vs = append(vs, fmt.Sprintf("%s %d", v, n))
	}
	sort.Strings(vs)
	s := fmt.Sprintf("%s: %d ok, %d failed", c.Name, c.OK, c.Failed)
	if c.OK > 0 {
		s += fmt.Sprintf(", p50 %s p99 %s", FormatLatency(c.P50), FormatLatency(c.P99))
	}
	s += fmt.Sprintf(" (%s)", strings.Join(vs, ", "))
	reasons := make([]string, 0, len(c.Errors))
	for e := range c.Errors {
		reasons = append(reasons, e)
	}
	sort.Strings(reasons)
	for _, e := range reasons {
		s += fmt.Sprintf("\n    %d× %s", c.Errors[e], e)
	}
	for i, f := range c.Failures {
		if i == 5 {
			s += fmt.Sprintf("\n    (%d more)", c.Failed-5)
			break
		}
		s += "\n    " + f.String()
	}
	return s
}

// FormatLatency renders a latency in milliseconds with one decimal: "21.4ms".
func FormatLatency(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// Merge sums several paths' counts into one named name: requests, failures,
// versions and errors add up, and the percentiles are those of every latency.
func Merge(name string, cs ...Counts) Counts {
	out := Counts{Name: name, Errors: map[string]int{}, Versions: map[string]int{}}
	for _, c := range cs {
		out.OK += c.OK
		out.Failed += c.Failed
		for k, v := range c.Errors {
			out.Errors[k] += v
		}
		for k, v := range c.Versions {
			out.Versions[k] += v
		}
		out.FailedAt = append(out.FailedAt, c.FailedAt...)
		out.Failures = append(out.Failures, c.Failures...)
		out.Latencies = append(out.Latencies, c.Latencies...)
	}
	slices.Sort(out.Latencies)
	out.P50, out.P99, out.Max = percentiles(out.Latencies)
	if len(out.Failures) > maxFailures {
		out.Failures = out.Failures[:maxFailures]
		out.FailedAt = out.FailedAt[:maxFailures]
	}
	return out
}

// percentiles returns p50, p99 and the maximum of sorted latencies (nearest rank).
func percentiles(sorted []time.Duration) (p50, p99, maxLat time.Duration) {
	if len(sorted) == 0 {
		return 0, 0, 0
	}
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(sorted))+0.999999) - 1
		return sorted[min(max(i, 0), len(sorted)-1)]
	}
	return rank(0.50), rank(0.99), sorted[len(sorted)-1]
}

// HTTPPath sends requests to one fixed base URL, e.g. a balancer's listener.
func HTTPPath(name, baseURL string) *Path {
	base := strings.TrimSuffix(baseURL, "/")
	return newPath(name, func() (string, error) { return base, nil })
}

// WithHeader makes the path send a header with every request (a beta tester's
// X-Canary: 1), and returns it.
func (p *Path) WithHeader(name, value string) *Path {
	if p.header == nil {
		p.header = http.Header{}
	}
	p.header.Set(name, value)
	return p
}

func newPath(name string, target func() (string, error)) *Path {
	return &Path{
		Name:   name,
		target: target,
		client: &http.Client{
			Timeout:   requestTimeout,
			Transport: &http.Transport{DisableKeepAlives: true},
		},
		versionIdx: map[string]int{},
		reasonIdx:  map[string]int{},
	}
}

// Run sends rate requests a second (open loop: a slow answer does not slow the
// sender) until ctx ends or limit requests were sent, then waits for the requests
// in flight. Requests are sent on a fixed schedule from the start, so a late
// tick (a busy machine) is caught up rather than lost.
func (p *Path) Run(ctx context.Context, rate, limit int) {
	interval := time.Second / time.Duration(rate)
	tick := time.NewTicker(max(interval, time.Millisecond))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	start := time.Now()
	for sent := 0; sent < limit; {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			due := int(now.Sub(start)/interval) + 1
			for ; sent < due && sent < limit; sent++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.once()
				}()
			}
		}
	}
}

// once sends one request and records its outcome.
func (p *Path) once() {
	at := time.Now()
	base, err := p.target()
	if err != nil {
		p.fail(Failure{Reason: err.Error(), At: at}, err.Error())
		return
	}
	member := ""
	if p.direct {
		member = strings.TrimPrefix(base, "http://")
	}
	req, err := http.NewRequest(http.MethodGet, base+WorkPath, nil)
	if err != nil {
		p.fail(Failure{Member: member, Reason: err.Error(), At: at}, err.Error())
		return
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	resp, err := p.client.Do(req)
	if err != nil {
		reason := trimURL(err.Error())
		p.fail(Failure{Member: member, Reason: reason, At: at}, reason)
		return
	}
	if m := servedBy(resp.Header); m != "" {
		member = m
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	resp.Body.Close()
	switch {
	case err != nil:
		reason := "read body: " + trimURL(err.Error())
		p.fail(Failure{Member: member, Status: resp.StatusCode, Reason: reason, At: at}, reason)
	case resp.StatusCode != http.StatusOK:
		detail := strings.TrimSpace(string(body))
		if len(detail) > 80 || strings.Contains(detail, "<") { // an HTML error page
			detail = ""
		}
		reason := resp.Status
		if detail != "" {
			reason += ": " + detail
		}
		p.fail(Failure{Member: member, Status: resp.StatusCode, Reason: reason, At: at},
			fmt.Sprintf("%s from %s", resp.Status, base))
	default:
		lat := time.Since(at)
		p.ok.Add(1)
		version := strings.TrimSpace(strings.TrimPrefix(string(body), "done "))
		p.mu.Lock()
		p.samples = append(p.samples, sample{at: at.UnixNano(), lat: micros(lat), ver: index(p.versionIdx, &p.versions, version), reason: -1})
		p.mu.Unlock()
	}
}

func micros(d time.Duration) int32 {
	return int32(min(d.Microseconds(), 1<<31-1))
}

// index returns name's index in names, adding it when new.
func index(idx map[string]int, names *[]string, name string) int16 {
	i, ok := idx[name]
	if !ok {
		if len(*names) >= 1<<15-1 {
			return int16(len(*names) - 1)
		}
		i = len(*names)
		*names = append(*names, name)
		idx[name] = i
	}
	return int16(i)
}

// fail records a failure; group is the reason it is counted under.
func (p *Path) fail(f Failure, group string) {
	f.Path = p.Name
	p.failed.Add(1)
	lat := time.Since(f.At)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.samples = append(p.samples, sample{at: f.At.UnixNano(), lat: micros(lat), ver: -1, reason: index(p.reasonIdx, &p.reasons, group)})
	if len(p.failures) < maxKeptFailures {
		p.failures = append(p.failures, f)
	}
}

// servedBy names the member from an answer's headers: nginx's X-Upstream (the
// last address when nginx tried several), else X-Served-By (HAProxy's
// "backend/server@address", or the instance's own address).
func servedBy(h http.Header) string {
	if u := h.Get("X-Upstream"); u != "" {
		parts := strings.Split(u, ",")
		return strings.TrimSpace(parts[len(parts)-1])
	}
	return h.Get("X-Served-By")
}

// localAddr is the client's own address in a transport error ("read tcp
// 127.0.0.1:50440->127.0.0.1:8080: ..."), different for every connection.
var localAddr = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+->`)

// trimURL drops the query and the client's own address from an error text so
// that failures group by cause.
func trimURL(s string) string {
	return localAddr.ReplaceAllString(strings.ReplaceAll(s, WorkPath, "/work"), "")
}

// Totals returns how many requests succeeded and failed so far, cheaply.
func (p *Path) Totals() (ok, failed int64) { return p.ok.Load(), p.failed.Load() }

// FailuresFrom returns the failures kept in full from the n-th on (the first
// is 0), so that a caller can print each new failure once.
func (p *Path) FailuresFrom(n int) []Failure {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n >= len(p.failures) {
		return nil
	}
	return slices.Clone(p.failures[n:])
}

// FirstVersion returns when the first request sent at or after `after` that
// version answered was sent, and whether there was one.
func (p *Path) FirstVersion(version string, after time.Time) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, ok := p.versionIdx[version]
	if !ok {
		return time.Time{}, false
	}
	lo, first := after.UnixNano(), int64(0)
	for _, s := range p.samples {
		if s.reason < 0 && int(s.ver) == i && s.at >= lo && (first == 0 || s.at < first) {
			first = s.at
		}
	}
	if first == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, first), true
}

// Counts returns what the path saw so far.
func (p *Path) Counts() Counts { return p.Window(time.Time{}, time.Time{}) }

// Window returns what the path saw of the requests sent from `from` (inclusive)
// to `to` (exclusive); a zero time leaves that end open.
func (p *Path) Window(from, to time.Time) Counts {
	lo, hi := int64(-1<<63), int64(1<<63-1)
	if !from.IsZero() {
		lo = from.UnixNano()
	}
	if !to.IsZero() {
		hi = to.UnixNano()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	c := Counts{Name: p.Name, Errors: map[string]int{}, Versions: map[string]int{}}
	// Samples are appended when requests end, so they are nearly sorted by send
	// time; a scan is simpler than a search and fast enough.
	for _, s := range p.samples {
		if s.at < lo || s.at >= hi {
			continue
		}
		if s.reason >= 0 {
			c.Failed++
			c.Errors[p.reasons[s.reason]]++
			continue
		}
		c.OK++
		c.Versions[p.versions[s.ver]]++
		c.Latencies = append(c.Latencies, time.Duration(s.lat)*time.Microsecond)
	}
	slices.Sort(c.Latencies)
	c.P50, c.P99, c.Max = percentiles(c.Latencies)
	for _, f := range p.failures {
		if len(c.Failures) == maxFailures {
			break
		}
		if at := f.At.UnixNano(); at >= lo && at < hi {
			c.Failures = append(c.Failures, f)
			c.FailedAt = append(c.FailedAt, f.At)
		}
	}
	return c
}

// Load runs several paths at once.
type Load struct {
	Paths []*Path

	cancel context.CancelFunc
	done   chan struct{}
}

// StartLoad starts every path at rate requests a second, each bounded to max
// requests; Stop ends them.
func StartLoad(rate, max int, paths ...*Path) *Load {
	ctx, cancel := context.WithCancel(context.Background())
	l := &Load{Paths: paths, cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	for _, p := range paths {
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(ctx, rate, max) }()
	}
	go func() { wg.Wait(); close(l.done) }()
	return l
}

// Stop ends the load, waits for the requests in flight and returns every path's counts.
func (l *Load) Stop() []Counts {
	l.cancel()
	<-l.done
	return l.Snapshot()
}

// Snapshot returns every path's counts so far, without stopping.
func (l *Load) Snapshot() []Counts { return l.Window(time.Time{}, time.Time{}) }

// Window returns every path's counts of the requests sent in [from, to); a zero
// time leaves that end open.
func (l *Load) Window(from, to time.Time) []Counts {
	out := make([]Counts, 0, len(l.Paths))
	for _, p := range l.Paths {
		out = append(out, p.Window(from, to))
	}
	return out
}
