package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// TestWSAnswers checks what /ws answers to requests that do not open a websocket.
func TestWSAnswers(t *testing.T) {
	tests := map[string]struct {
		warm, closing bool
		upgrade       bool
		want          int
	}{
		"warming up":       {upgrade: true, want: http.StatusServiceUnavailable},
		"no upgrade":       {warm: true, want: http.StatusUpgradeRequired},
		"shutting down":    {warm: true, closing: true, upgrade: true, want: http.StatusServiceUnavailable},
		"plain while cold": {want: http.StatusServiceUnavailable},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := newApp(options{addr: "127.0.0.1:1", version: "1.0.0", wsTick: time.Second})
			a.warm.Store(tc.warm)
			a.ws.closing = tc.closing
			r := httptest.NewRequest(http.MethodGet, "/ws", nil)
			if tc.upgrade {
				r.Header.Set("Connection", "Upgrade")
				r.Header.Set("Upgrade", "websocket")
			}
			w := httptest.NewRecorder()
			a.handler().ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Errorf("status %d, want %d (%s)", w.Code, tc.want, strings.TrimSpace(w.Body.String()))
			}
		})
	}
}

// readMessage reads one message of /ws within a few seconds.
func readMessage(t *testing.T, c *websocket.Conn) (wsMessage, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		return wsMessage{}, err
	}
	var m wsMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("message %q: %v", b, err)
	}
	return m, nil
}

// TestWSSession runs the built demo-service: /ws says hello with the instance's
// address and version, ticks and echoes; on SIGTERM the websocket keeps ticking
// while a request is in flight, then is closed with 1001 (going away), and the
// process exits 0.
func TestWSSession(t *testing.T) {
	d := testfleet.StartDemo(t, testfleet.DemoOptions{Version: "3.2.1"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+d.Addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()

	hello, err := readMessage(t, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := (wsMessage{Type: "hello", Addr: d.Addr, Version: "3.2.1"}); hello != want {
		t.Fatalf("hello %+v, want %+v", hello, want)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("ping 1")); err != nil {
		t.Fatal(err)
	}
	var echoed, ticks int
	for echoed == 0 || ticks < 2 {
		m, err := readMessage(t, c)
		if err != nil {
			t.Fatalf("after %d ticks: %v", ticks, err)
		}
		switch m.Type {
		case "echo":
			echoed++
			if m.Text != "ping 1" || m.Version != "3.2.1" {
				t.Errorf("echo %+v", m)
			}
		case "tick":
			ticks++
			if m.N != int64(ticks) {
				t.Errorf("tick %d numbered %d", ticks, m.N)
			}
		default:
			t.Errorf("unexpected %+v", m)
		}
	}

	// SIGTERM while a request is in flight: the websocket goes on until the
	// request is done, then gets 1001.
	held := make(chan string, 1)
	go func() { held <- get(t, d.Addr, "/work?ms=1500") }()
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan error, 1)
	term := time.Now()
	go func() { stopped <- d.Stop() }()
	var err2 error
	ticksAfter := 0
	for {
		var m wsMessage
		if m, err2 = readMessage(t, c); err2 != nil {
			break
		}
		if m.Type == "tick" {
			ticksAfter++
		}
	}
	closedAfter := time.Since(term)
	if code := websocket.CloseStatus(err2); code != websocket.StatusGoingAway {
		t.Errorf("closed with %v (%v), want 1001 going away", code, err2)
	}
	if got := <-held; got != "done 3.2.1\n" {
		t.Errorf("the in-flight request got %q", got)
	}
	if closedAfter < time.Second || ticksAfter == 0 {
		t.Errorf("closed %s after SIGTERM with %d ticks in between, want it open while the request was in flight", closedAfter, ticksAfter)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("exit: %v\n%s", err, d.Output())
	}
	if !strings.Contains(d.Output(), "closed 1 websocket(s) with 1001 going away") {
		t.Errorf("log does not say it closed the websocket:\n%s", d.Output())
	}
}

// TestWSHubCloseAll closes every open websocket of a hub with 1001 and refuses
// new ones afterwards.
func TestWSHubCloseAll(t *testing.T) {
	a := newApp(options{addr: "127.0.0.1:1", version: "1.0.0", wsTick: 50 * time.Millisecond})
	a.warm.Store(true)
	srv := httptest.NewServer(a.handler())
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conns []*websocket.Conn
	for range 3 {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if _, err := readMessage(t, c); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// The clients read, as real ones do, so that the close handshakes complete.
	codes := make(chan websocket.StatusCode, len(conns))
	for _, c := range conns {
		go func() {
			for {
				if _, _, err := c.Read(ctx); err != nil {
					codes <- websocket.CloseStatus(err)
					return
				}
			}
		}()
	}
	if n := a.ws.open(); n != 3 {
		t.Fatalf("%d open, want 3", n)
	}
	if n := a.ws.closeAll(websocket.StatusGoingAway, "bye"); n != 3 {
		t.Errorf("closed %d, want 3", n)
	}
	for range conns {
		if code := <-codes; code != websocket.StatusGoingAway {
			t.Errorf("a client saw %v, want 1001", code)
		}
	}
	if n := a.ws.open(); n != 0 {
		t.Errorf("%d still open", n)
	}
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a websocket after closeAll: %v, want 503", err)
	}
}
