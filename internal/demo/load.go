package demo

import (
	"context"
	"fmt"
	"io"
	"net/http"
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

// maxFailures is how many failures a path keeps in full (Counts.Failures).
const maxFailures = 10

// Path is one way clients reach the service. Each request uses a fresh connection
// and is never retried: a transport error or any status but 200 is a failure.
type Path struct {
	// Name says which path it is ("nginx", "haproxy", "registry").
	Name string

	target func() (string, error) // base URL ("http://host:port") of the next request
	direct bool                   // target is the instance itself, not a balancer
	client *http.Client

	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       map[string]int // failure reason → count
	versions   map[string]int // version answered → count
	failures   []Failure      // the first few failures
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
}

// String renders "nginx: 812 ok, 0 failed (1.0.0 400, 1.1.0 412)", then the
// failure reasons with their counts and the first few failures (path, member,
// error, time).
func (c Counts) String() string {
	var vs []string
	for v, n := range c.Versions {
		vs = append(vs, fmt.Sprintf("%s %d", v, n))
	}
	sort.Strings(vs)
	s := fmt.Sprintf("%s: %d ok, %d failed (%s)", c.Name, c.OK, c.Failed, strings.Join(vs, ", "))
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

// HTTPPath sends requests to one fixed base URL, e.g. a balancer's listener.
func HTTPPath(name, baseURL string) *Path {
	base := strings.TrimSuffix(baseURL, "/")
	return newPath(name, func() (string, error) { return base, nil })
}

func newPath(name string, target func() (string, error)) *Path {
	return &Path{
		Name:   name,
		target: target,
		client: &http.Client{
			Timeout:   requestTimeout,
			Transport: &http.Transport{DisableKeepAlives: true},
		},
		errs:     map[string]int{},
		versions: map[string]int{},
	}
}

// Run sends rate requests a second (open loop: a slow answer does not slow the
// sender) until ctx ends or max requests were sent, then waits for the requests
// in flight.
func (p *Path) Run(ctx context.Context, rate, max int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for sent := 0; sent < max; sent++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.once()
		}()
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
	resp, err := p.client.Get(base + WorkPath)
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
		p.ok.Add(1)
		version := strings.TrimSpace(strings.TrimPrefix(string(body), "done "))
		p.mu.Lock()
		p.versions[version]++
		p.mu.Unlock()
	}
}

// fail records a failure; group is the reason it is counted under.
func (p *Path) fail(f Failure, group string) {
	f.Path = p.Name
	p.failed.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs[group]++
	if len(p.failures) < maxFailures {
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

// trimURL drops the query from an error text so that failures group by cause.
func trimURL(s string) string { return strings.ReplaceAll(s, WorkPath, "/work") }

// Counts returns what the path saw so far.
func (p *Path) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := Counts{Name: p.Name, OK: p.ok.Load(), Failed: p.failed.Load(),
		Errors: map[string]int{}, Versions: map[string]int{}}
	for k, v := range p.errs {
		c.Errors[k] = v
	}
	for k, v := range p.versions {
		c.Versions[k] = v
	}
	for _, f := range p.failures {
		c.FailedAt = append(c.FailedAt, f.At)
	}
	c.Failures = append(c.Failures, p.failures...)
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
	out := make([]Counts, 0, len(l.Paths))
	for _, p := range l.Paths {
		out = append(out, p.Counts())
	}
	return out
}

// Snapshot returns every path's counts so far, without stopping.
func (l *Load) Snapshot() []Counts {
	out := make([]Counts, 0, len(l.Paths))
	for _, p := range l.Paths {
		out = append(out, p.Counts())
	}
	return out
}
