package e2e

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// TestWebsocketNginxReload checks what docs/websockets.md says `nginx -s reload`
// does to upgraded connections, on the real nginx: without
// worker_shutdown_timeout the old worker keeps them, and a reload cuts no client;
// with it, the old worker closes every connection it still holds once the timeout
// has passed — to serving members too, without a close frame — and the clients
// reconnect through the new worker.
func TestWebsocketNginxReload(t *testing.T) {
	t.Parallel()
	var addrs []string
	for range 2 {
		d := testfleet.StartDemo(t, testfleet.DemoOptions{Version: "1.0.0"})
		addrs = append(addrs, d.Addr)
	}
	n := testfleet.StartEdgeNginx(t, pool, addrs)
	reload := func() {
		t.Helper()
		if out, err := n.Run("-s", "reload"); err != nil {
			t.Fatalf("nginx -s reload: %v\n%s", err, out)
		}
	}
	const clients = 6
	hold := func(d time.Duration) demo.WSCounts {
		t.Helper()
		l := demo.StartWSLoad(clients, demo.WSPath{Name: "nginx", URL: "ws://" + n.Addr() + "/ws"})
		if err := l.WaitConnected(10 * time.Second); err != nil {
			l.Stop()
			t.Fatal(err)
		}
		reload()
		time.Sleep(d)
		c := l.Stop()[0]
		t.Logf("%s", c)
		if c.FailedConnects != 0 || c.FirstTry != c.Cuts {
			t.Errorf("%d failed connects, %d of %d cut clients back on the first try", c.FailedConnects, c.FirstTry, c.Cuts)
		}
		return c
	}

	// Without worker_shutdown_timeout (the test fleet's nginx): nobody is cut.
	if c := hold(4 * time.Second); c.Cuts != 0 {
		t.Errorf("without worker_shutdown_timeout a reload cut %d connections, want none", c.Cuts)
	}

	// With worker_shutdown_timeout 2s: every client is cut once, about 2s after
	// the reload, although both members still serve.
	conf, err := os.ReadFile(n.ConfFile)
	if err != nil {
		t.Fatal(err)
	}
	withTimeout := strings.Replace(string(conf), "worker_processes 1;\n", "worker_processes 1;\nworker_shutdown_timeout 2s;\n", 1)
	if err := os.WriteFile(n.ConfFile, []byte(withTimeout), 0o644); err != nil {
		t.Fatal(err)
	}
	reload() // takes the setting; the workers it replaces hold no websocket
	time.Sleep(500 * time.Millisecond)
	c := hold(5 * time.Second)
	if c.CutsPerClient[1] != clients {
		t.Errorf("with worker_shutdown_timeout 2s: cuts per client %v, want every client cut once", c.CutsPerClient)
	}
	for _, r := range c.Records {
		for _, cut := range r.Cuts {
			if cut.Code != demo.CloseAbnormal {
				t.Errorf("client %d cut with %d, want nginx's close without a close frame (%d)", r.ID, cut.Code, demo.CloseAbnormal)
			}
			if since := cut.At.Sub(r.Connects[0].At); since < 1500*time.Millisecond {
				t.Errorf("client %d cut %s after it connected, before the 2s worker_shutdown_timeout", r.ID, since)
			}
		}
	}
}
