package e2e

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/internal/demo"
)

// The tests here hold websocket clients (demo.StartWSLoad) through nginx and
// HAProxy during a release of a service whose HAProxy balancer is long_lived, next
// to the usual HTTP load on the three paths. HAProxy closes what a drained member
// still holds after drain.timeout (3s here); nginx cannot, so its clients stay on
// the old worker after the reload and are cut by the application itself when its
// instance is deployed (SIGTERM: 1001 going away). docs/websockets.md explains
// both and what each strategy means for how often a client is cut.

const (
	// wsClients is how many websocket clients each of the two paths holds.
	wsClients = 8
	// wsDrainTimeout is the test's drain.timeout: how long a drained member's
	// websockets are waited for before HAProxy closes them.
	wsDrainTimeout = "3s"
)

// startWSLoad starts wsClients websocket clients through nginx and through
// HAProxy and waits until each holds a connection.
func (f *fleet) startWSLoad() *demo.WSLoad {
	f.t.Helper()
	l := demo.StartWSLoad(wsClients,
		demo.WSPath{Name: "nginx", URL: "ws://" + f.nginx.Addr() + "/ws"},
		demo.WSPath{Name: "haproxy", URL: "ws" + strings.TrimPrefix(f.haproxy.URL("www"), "http") + "ws"})
	if err := l.WaitConnected(15 * time.Second); err != nil {
		l.Stop()
		f.t.Fatal(err)
	}
	return l
}

// checkWS asserts what must hold for every websocket path whatever the strategy:
// no connect attempt failed, every cut client reconnected on its first try, and
// every connection (first ones and reconnects) landed on a member the path
// served, as the path's sampler saw it (paths, from stopLoad). It logs every cut.
func (f *fleet) checkWS(counts []demo.WSCounts, paths []demo.PathServing) map[string]demo.WSCounts {
	f.t.Helper()
	byName := map[string]demo.WSCounts{}
	for _, c := range counts {
		byName[c.Name] = c
		f.t.Logf("websockets %s", c)
		for _, r := range c.Records {
			for _, cut := range r.Cuts {
				f.t.Logf("  %s client %d cut %s on %s (%s) code %d %q", c.Name, r.ID,
					cut.At.Format("15:04:05.000"), cut.Member, cut.Version, cut.Code, cut.Reason)
			}
			for _, fl := range r.Failures {
				f.t.Errorf("%s client %d: connect attempt at %s failed: %s", c.Name, r.ID, fl.At.Format("15:04:05.000"), fl.Err)
			}
		}
		if c.FirstTry != c.Reconnects || c.Reconnects != c.Cuts {
			f.t.Errorf("%s: %d cuts, %d reconnects, %d of them on the first try; want every cut client back on its first try",
				c.Name, c.Cuts, c.Reconnects, c.FirstTry)
		}
		i := slices.IndexFunc(paths, func(p demo.PathServing) bool { return p.Name == c.Name })
		if i < 0 {
			f.t.Errorf("no sampler for path %s", c.Name)
			continue
		}
		for _, cn := range c.OffServing(paths[i], 2*sampleEvery) {
			f.t.Errorf("%s: a connection at %s landed on %s (%s), which the path did not serve",
				c.Name, cn.At.Format("15:04:05.000"), cn.Member, cn.Version)
		}
	}
	return byName
}

// checkWhoCut asserts who cut each path's clients: HAProxy's own `shutdown
// sessions server` (no close frame: 1006; the application would have sent 1001),
// and, through nginx, the application's 1001 going away once the deploy of its
// instance began (within deployCut of it), never nginx's reloads.
func (f *fleet) checkWhoCut(ws map[string]demo.WSCounts) {
	f.t.Helper()
	const deployCut = 10 * time.Second
	for _, name := range []string{"haproxy", "nginx"} {
		for _, r := range ws[name].Records {
			for _, cut := range r.Cuts {
				start, deployed := f.deployBefore(cut.Member, cut.At)
				switch name {
				case "haproxy":
					if cut.Code != demo.CloseAbnormal {
						f.t.Errorf("haproxy client %d cut on %s with code %d, want HAProxy's close (no close frame, %d)", r.ID, cut.Member, cut.Code, demo.CloseAbnormal)
					}
				case "nginx":
					if cut.Code != 1001 {
						f.t.Errorf("nginx client %d cut on %s with code %d, want the application's 1001 going away", r.ID, cut.Member, cut.Code)
					}
					if !deployed || cut.At.Sub(start) > deployCut {
						f.t.Errorf("nginx client %d cut on %s at %s, not within %s after a deploy of it began (last began %s)",
							r.ID, cut.Member, cut.At.Format("15:04:05.000"), deployCut, start.Format("15:04:05.000"))
					}
				}
			}
		}
	}
}

// deployBefore returns when the last deploy of addr that began before t began.
func (f *fleet) deployBefore(addr string, t time.Time) (time.Time, bool) {
	var last time.Time
	for _, d := range f.demo.DeployStarts(addr) {
		if d.At.Before(t) {
			last = d.At
		}
	}
	return last, !last.IsZero()
}

// closeSink counts the executor's "closed N long-lived session(s)" messages.
type closeSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *closeSink) Emit(e executor.Event) {
	if strings.Contains(e.Message, "long-lived session(s) left on") {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.msgs = append(s.msgs, e.Message)
	}
}

func (s *closeSink) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// releaseWithWS releases r under the HTTP load and the websocket clients and
// returns what the websocket paths saw, after the checks every release must pass
// (checkWS, stopLoad's) and the apply's own closing messages.
func (f *fleet) releaseWithWS(r *releaser, instances int) (map[string]demo.WSCounts, []string) {
	f.t.Helper()
	closes := &closeSink{}
	r.events = closes
	tr := f.startLoad(instances)
	ws := f.startWSLoad()
	_, elapsed, err := f.release(r)
	time.Sleep(2 * time.Second) // every cut client has long reconnected
	counts := ws.Stop()
	f.stopLoad(tr, minAvailable)
	if err != nil {
		f.t.Fatalf("apply: %v", err)
	}
	f.t.Logf("apply wall time %s", elapsed.Round(time.Millisecond))
	for _, m := range closes.list() {
		f.t.Logf("executor: %s", m)
	}
	return f.checkWS(counts, tr.paths), closes.list()
}

// groupOf returns "a" or "b", the group of addr.
func (f *fleet) groupOf(addr string) string {
	if slices.Contains(f.groupA, addr) {
		return "a"
	}
	return "b"
}

// TestWebsocketRolling releases group by group while websocket clients hold
// connections through HAProxy (long_lived) and nginx. Every cut client reconnects
// on its first try to a serving member; a client is cut at most twice — once when
// the group it is on is drained, and once more if it moved to the group released
// after — and a client that started on the group released last at most once.
func TestWebsocketRolling(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "ws-rolling-svc", "1.0.0")
	f.cfg.LongLived = true
	f.cfg.DrainTimeout = wsDrainTimeout
	ws, closes := f.releaseWithWS(f.releaser("1.1.0"), 4)

	if len(closes) == 0 {
		t.Error("the executor closed no long-lived session: the HAProxy close path was not exercised")
	}
	f.checkWhoCut(ws)
	// The group released last is the one whose deploys began last.
	var lastDeploy time.Time
	lastGroup := ""
	for _, a := range f.addrs() {
		if ds := f.demo.DeployStarts(a); len(ds) > 0 && ds[len(ds)-1].At.After(lastDeploy) {
			lastDeploy, lastGroup = ds[len(ds)-1].At, f.groupOf(a)
		}
	}
	for _, name := range []string{"haproxy", "nginx"} {
		c := ws[name]
		if c.Cuts == 0 {
			t.Errorf("%s: no client was cut, want every client cut at least once (each member is restarted)", name)
		}
		for _, r := range c.Records {
			first := r.Connects[0].Member
			limit := 2
			if f.groupOf(first) == lastGroup {
				limit = 1
			}
			if len(r.Cuts) > limit {
				t.Errorf("%s client %d (first on %s, group %s) was cut %d times, want at most %d", name, r.ID, first, f.groupOf(first), len(r.Cuts), limit)
			}
			if len(r.Cuts) == 0 {
				t.Errorf("%s client %d on %s was never cut, yet every member was restarted", name, r.ID, first)
			}
		}
	}
}

// TestWebsocketBlueGreen releases blue-green with keep_standby twice. The first
// release starts from every instance serving, so it drains both groups in turn and
// a client may be cut twice. The second starts from the standby state blue-green
// keeps: the standby takes no clients, the switch drains the active group once,
// and HAProxy's clients are each cut exactly once. nginx's are not cut at all:
// the old active group is not deployed (it stays as the standby), so nothing closes
// them and they stay, through nginx's old worker, on the standby's old version —
// the limit docs/websockets.md describes.
func TestWebsocketBlueGreen(t *testing.T) {
	t.Parallel()
	f := newFleet(t, "ws-bluegreen-svc", "1.0.0")
	f.cfg.LongLived = true
	f.cfg.DrainTimeout = wsDrainTimeout
	f.cfg.Strategy = `strategy "blue_green" { keep_standby = true }`

	ws, closes := f.releaseWithWS(f.releaser("1.1.0"), 4)
	if len(closes) == 0 {
		t.Error("first release: the executor closed no long-lived session")
	}
	f.checkWhoCut(ws)
	for _, name := range []string{"haproxy", "nginx"} {
		if c := ws[name]; c.MaxCuts > 2 {
			t.Errorf("first release: a %s client was cut %d times, want at most 2", name, c.MaxCuts)
		}
	}

	ws, closes = f.releaseWithWS(f.releaser("1.2.0"), 2)
	if len(closes) == 0 {
		t.Error("second release: the executor closed no long-lived session")
	}
	f.checkWhoCut(ws)
	hc := ws["haproxy"]
	if hc.CutsPerClient[1] != hc.Clients {
		t.Errorf("second release: haproxy clients cut %v times (cuts: clients), want each exactly once", hc.CutsPerClient)
	}
	for _, r := range hc.Records {
		if last := r.Connects[len(r.Connects)-1]; last.Version != "1.2.0" {
			t.Errorf("second release: haproxy client %d ended on %s (%s), want 1.2.0", r.ID, last.Member, last.Version)
		}
	}
	nc := ws["nginx"]
	if nc.Cuts != 0 {
		t.Errorf("second release: nginx clients were cut %d times; nothing should close them (the old group is not deployed)", nc.Cuts)
	}
	for _, r := range nc.Records {
		if v := r.Connects[len(r.Connects)-1].Version; v != "1.1.0" {
			t.Errorf("second release: nginx client %d ended on %s, want the standby's 1.1.0 (docs/websockets.md)", r.ID, v)
		}
	}
}
