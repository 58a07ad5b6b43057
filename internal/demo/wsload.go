package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Websocket clients hold one connection each through a path (a balancer's
// listener) to the demo-service's /ws, which says hello with the instance's
// address and version and then ticks every 500ms. A client notices a cut — a close
// frame, a connection that ends without one, or no message for wsStall — records it
// (time, member, close code) and reconnects at once on the same path; a connect
// attempt that fails (refused, no 101, no hello within wsDialTimeout) is counted and
// retried after wsRetryPause. What matters in a release: no attempt fails, every
// cut client reconnects on its first try, to a member the path serves, and how
// often each client is cut.

const (
	// wsDialTimeout bounds one connect attempt, hello included.
	wsDialTimeout = 5 * time.Second
	// wsStall is how long a client waits for a message before it counts the
	// connection as cut (the demo-service ticks every 500ms).
	wsStall = 5 * time.Second
	// wsRetryPause is the pause after a failed attempt before the next.
	wsRetryPause = 100 * time.Millisecond
	// wsPingEvery is how often a client sends a text message (the demo-service
	// echoes it), so that the connection is busy both ways, as a chat's is, and no
	// balancer's client-side inactivity timeout ends it.
	wsPingEvery = 2 * time.Second
	// CloseAbnormal is the code recorded for a connection that ended without a
	// close frame (RFC 6455's 1006), as when HAProxy shuts a session down.
	CloseAbnormal = 1006
	// CloseStalled is the code recorded for a connection that stayed silent for
	// wsStall (no RFC code: 0).
	CloseStalled = 0
)

// WSPath is one way websocket clients reach the service: the ws:// URL of /ws
// through a balancer, e.g. "ws://127.0.0.1:8080/ws".
type WSPath struct {
	Name string
	URL  string
}

// WSConnect is one connection a client opened.
type WSConnect struct {
	// At is when the attempt that opened it began, Took how long it took until
	// the hello arrived.
	At   time.Time
	Took time.Duration
	// Member and Version are the instance's, from its hello.
	Member, Version string
	// Attempt is 1 when the first attempt succeeded, n when n-1 failed before.
	Attempt int
	// AfterCut is set when the connection replaces one that was cut.
	AfterCut bool
}

// WSCut is one connection that ended while the load ran.
type WSCut struct {
	At time.Time
	// Member and Version name the instance the connection was on.
	Member, Version string
	// Code is the close frame's code (1001 going away, ...), CloseAbnormal
	// without a close frame, CloseStalled after wsStall of silence.
	Code int
	// Reason is the close reason or the error.
	Reason string
}

// WSFailure is one failed connect attempt.
type WSFailure struct {
	At  time.Time
	Err string
}

// WSClient is what one client saw, in order.
type WSClient struct {
	Path     string
	ID       int
	Connects []WSConnect
	Cuts     []WSCut
	Failures []WSFailure
}

// WSLoad is websocket clients holding connections on several paths.
type WSLoad struct {
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	paths   []WSPath
	clients []*wsClient
}

type wsClient struct {
	url string
	mu  sync.Mutex
	rec WSClient
}

// StartWSLoad starts perPath clients on every path. Each connects at once and
// holds its connection until Stop, reconnecting after every cut.
func StartWSLoad(perPath int, paths ...WSPath) *WSLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &WSLoad{ctx: ctx, cancel: cancel, paths: paths}
	for _, p := range paths {
		for i := range perPath {
			c := &wsClient{url: p.URL, rec: WSClient{Path: p.Name, ID: i + 1}}
			l.clients = append(l.clients, c)
			l.wg.Add(1)
			go func() { defer l.wg.Done(); c.run(ctx) }()
		}
	}
	return l
}

// WaitConnected waits until every client holds a connection, up to timeout.
func (l *WSLoad) WaitConnected(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		open := 0
		for _, c := range l.clients {
			c.mu.Lock()
			if len(c.rec.Connects) > len(c.rec.Cuts) {
				open++
			}
			c.mu.Unlock()
		}
		if open == len(l.clients) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d websocket clients connected within %s", open, len(l.clients), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop closes every client's connection (not counted as a cut) and returns what
// each path saw.
func (l *WSLoad) Stop() []WSCounts {
	l.cancel()
	l.wg.Wait()
	out := make([]WSCounts, 0, len(l.paths))
	for _, p := range l.paths {
		var recs []WSClient
		for _, c := range l.clients {
			if c.rec.Path == p.Name {
				recs = append(recs, c.rec)
			}
		}
		out = append(out, SummarizeWS(p.Name, recs))
	}
	return out
}

// run connects, reads until the connection is cut, and reconnects, until ctx ends.
func (c *wsClient) run(ctx context.Context) {
	afterCut := false
	for {
		conn, cn, ok := c.connect(ctx, afterCut)
		if !ok {
			return
		}
		pctx, pstop := context.WithCancel(ctx)
		go ping(pctx, conn)
		cut, stopped := read(ctx, conn)
		pstop()
		conn.CloseNow()
		if stopped {
			return
		}
		cut.Member, cut.Version = cn.Member, cn.Version
		c.mu.Lock()
		c.rec.Cuts = append(c.rec.Cuts, cut)
		c.mu.Unlock()
		afterCut = true
	}
}

// connect tries until a connection says hello or ctx ends (ok false).
func (c *wsClient) connect(ctx context.Context, afterCut bool) (*websocket.Conn, WSConnect, bool) {
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil, WSConnect{}, false
		}
		start := time.Now()
		conn, hello, err := dialHello(ctx, c.url)
		if err == nil {
			cn := WSConnect{At: start, Took: time.Since(start), Member: hello.Addr, Version: hello.Version,
				Attempt: attempt, AfterCut: afterCut}
			c.mu.Lock()
			c.rec.Connects = append(c.rec.Connects, cn)
			c.mu.Unlock()
			return conn, cn, true
		}
		if ctx.Err() != nil {
			return nil, WSConnect{}, false
		}
		c.mu.Lock()
		c.rec.Failures = append(c.rec.Failures, WSFailure{At: start, Err: err.Error()})
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, WSConnect{}, false
		case <-time.After(wsRetryPause):
		}
	}
}

// wsHello is the part of the demo-service's messages a client reads.
type wsHello struct {
	Type    string `json:"type"`
	Addr    string `json:"addr"`
	Version string `json:"version"`
}

// dialHello opens a websocket at url and reads its hello.
func dialHello(ctx context.Context, url string) (*websocket.Conn, wsHello, error) {
	dctx, cancel := context.WithTimeout(ctx, wsDialTimeout)
	defer cancel()
	conn, resp, err := websocket.Dial(dctx, url, nil)
	if err != nil {
		if resp != nil {
			return nil, wsHello{}, fmt.Errorf("%s (status %d)", err, resp.StatusCode)
		}
		return nil, wsHello{}, err
	}
	_, b, err := conn.Read(dctx)
	if err != nil {
		conn.CloseNow()
		return nil, wsHello{}, fmt.Errorf("no hello: %v", err)
	}
	var h wsHello
	if err := json.Unmarshal(b, &h); err != nil || h.Type != "hello" || h.Addr == "" {
		conn.CloseNow()
		return nil, wsHello{}, fmt.Errorf("not a hello: %q", b)
	}
	return conn, h, nil
}

// ping sends "ping N" every wsPingEvery until ctx ends or a write fails (the
// reader then notices the cut).
func ping(ctx context.Context, conn *websocket.Conn) {
	t := time.NewTicker(wsPingEvery)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wctx, cancel := context.WithTimeout(ctx, wsDialTimeout)
		err := conn.Write(wctx, websocket.MessageText, []byte(fmt.Sprintf("ping %d", n)))
		cancel()
		if err != nil {
			return
		}
	}
}

// read reads until the connection ends; stopped is set when ctx ended it.
func read(ctx context.Context, conn *websocket.Conn) (cut WSCut, stopped bool) {
	for {
		rctx, cancel := context.WithTimeout(ctx, wsStall)
		_, _, err := conn.Read(rctx)
		stalled := rctx.Err() != nil
		cancel()
		if err == nil {
			continue
		}
		at := time.Now()
		switch code := websocket.CloseStatus(err); {
		case ctx.Err() != nil:
			return WSCut{}, true
		case code >= 0:
			var ce websocket.CloseError
			errors.As(err, &ce)
			return WSCut{At: at, Code: int(code), Reason: ce.Reason}, false
		case stalled:
			return WSCut{At: at, Code: CloseStalled, Reason: fmt.Sprintf("no message for %s", wsStall)}, false
		default:
			return WSCut{At: at, Code: CloseAbnormal, Reason: err.Error()}, false
		}
	}
}

// WSCounts is what the clients of one path saw.
type WSCounts struct {
	Name    string
	Clients int
	// Connects counts the connections opened, the first ones included;
	// FailedConnects the attempts that failed.
	Connects, FailedConnects int
	// Cuts counts the connections that ended while the load ran, by close code
	// in Codes.
	Cuts  int
	Codes map[int]int
	// CutsPerClient maps a number of cuts to how many clients were cut that often
	// (0 included); MaxCuts is the most cuts of one client.
	CutsPerClient map[int]int
	MaxCuts       int
	// Reconnects counts the connections that replaced a cut one, FirstTry those
	// opened by the first attempt after the cut.
	Reconnects, FirstTry int
	// Versions counts the versions connections landed on.
	Versions map[string]int
	// Clients' records, in client order.
	Records []WSClient
}

// SummarizeWS counts what the clients of path name recorded.
func SummarizeWS(name string, recs []WSClient) WSCounts {
	c := WSCounts{Name: name, Clients: len(recs), Codes: map[int]int{}, CutsPerClient: map[int]int{},
		Versions: map[string]int{}, Records: recs}
	for _, r := range recs {
		c.Connects += len(r.Connects)
		c.FailedConnects += len(r.Failures)
		c.Cuts += len(r.Cuts)
		c.CutsPerClient[len(r.Cuts)]++
		c.MaxCuts = max(c.MaxCuts, len(r.Cuts))
		for _, cut := range r.Cuts {
			c.Codes[cut.Code]++
		}
		for _, cn := range r.Connects {
			c.Versions[cn.Version]++
			if cn.AfterCut {
				c.Reconnects++
				if cn.Attempt == 1 {
					c.FirstTry++
				}
			}
		}
	}
	return c
}

// String renders "haproxy: 8 clients, 14 connects (0 failed), 6 cuts (1006×6),
// cuts per client 0×2 1×6, 6 of 6 reconnects on the first try (1.0.0 8, 1.1.0 6)".
func (c WSCounts) String() string {
	var codes, per, vs []string
	for _, k := range sortedKeys(c.Codes) {
		codes = append(codes, fmt.Sprintf("%d×%d", k, c.Codes[k]))
	}
	for _, k := range sortedKeys(c.CutsPerClient) {
		per = append(per, fmt.Sprintf("%d×%d", k, c.CutsPerClient[k]))
	}
	for v, n := range c.Versions {
		vs = append(vs, fmt.Sprintf("%s %d", v, n))
	}
	sort.Strings(vs)
	return fmt.Sprintf("%s: %d clients, %d connects (%d failed), %d cuts (%s), cuts per client %s, %d of %d reconnects on the first try (%s)",
		c.Name, c.Clients, c.Connects, c.FailedConnects, c.Cuts, strings.Join(codes, " "), strings.Join(per, " "),
		c.FirstTry, c.Reconnects, strings.Join(vs, ", "))
}

func sortedKeys(m map[int]int) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// OffServing returns the connections (first ones and reconnects) that landed on a
// member the path did not serve, as its sampler saw it: the member is in none of
// the path's sets in effect from slack before the attempt began until slack after
// it ended. slack covers the sampler's interval, so that a member that joined or
// left between two samples is not misjudged; use at least the sampling interval.
func (c WSCounts) OffServing(ps PathServing, slack time.Duration) []WSConnect {
	var out []WSConnect
	for _, r := range c.Records {
		for _, cn := range r.Connects {
			if !servedNear(ps, cn.Member, cn.At.Add(-slack), cn.At.Add(cn.Took+slack)) {
				out = append(out, cn)
			}
		}
	}
	return out
}

// servedNear reports whether member is in one of the path's sets in effect at some
// time in [from, to]. Before the first sample, the first sample's set counts.
func servedNear(ps PathServing, member string, from, to time.Time) bool {
	for i, ch := range ps.Changes {
		end := time.Time{} // in effect until the next change
		if i+1 < len(ps.Changes) {
			end = ps.Changes[i+1].At
		}
		startsInTime := i == 0 || !ch.At.After(to)
		endsInTime := end.IsZero() || end.After(from)
		if startsInTime && endsInTime && slices.Contains(ch.Members, member) {
			return true
		}
	}
	return false
}
