package main

import (
	"context"
	"encoding/json"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// wsMessage is what /ws sends: a hello naming the instance when the connection
// opens, then a tick every -ws-tick, and an echo of every text message the client
// sends. internal/demo's websocket clients read the same shape.
type wsMessage struct {
	// Type is "hello", "tick" or "echo".
	Type string `json:"type"`
	// Addr and Version name the instance (-addr, -version); in every message.
	Addr    string `json:"addr"`
	Version string `json:"version"`
	// N counts the ticks of this connection, from 1.
	N int64 `json:"n,omitempty"`
	// Text is the echoed message.
	Text string `json:"text,omitempty"`
}

// wsHub holds the open websockets of an instance, so that its shutdown can close
// them: http.Server.Shutdown neither waits for nor closes hijacked connections.
type wsHub struct {
	tick time.Duration

	mu      sync.Mutex
	conns   map[*websocket.Conn]struct{}
	closing bool
	done    sync.WaitGroup // one per open connection's handler
}

func newWSHub(tick time.Duration) *wsHub {
	return &wsHub{tick: tick, conns: map[*websocket.Conn]struct{}{}}
}

// add registers c, false once the hub is closing (c is then not kept).
func (h *wsHub) add(c *websocket.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.conns[c] = struct{}{}
	h.done.Add(1)
	return true
}

func (h *wsHub) remove(c *websocket.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.done.Done()
	}
}

// open returns how many websockets are open.
func (h *wsHub) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// closeAll refuses new websockets and closes every open one with code and reason
// (a close handshake each, all at once, at most about five seconds), then waits
// for their handlers to return. It returns how many it closed.
func (h *wsHub) closeAll(code websocket.StatusCode, reason string) int {
	h.mu.Lock()
	h.closing = true
	conns := make([]*websocket.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.Close(code, reason)
		}()
	}
	wg.Wait()
	h.done.Wait()
	return len(conns)
}

// serveWS upgrades /ws: it sends a hello naming the instance, then a tick every
// h.tick and an echo of every text message, until either side closes. A request
// that does not ask for a websocket gets 426; one that arrives while the instance
// shuts down gets 503.
func (a *app) serveWS(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "/ws serves websockets only", http.StatusUpgradeRequired)
		return
	}
	h := a.ws
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	if !h.add(c) {
		_ = c.Close(websocket.StatusGoingAway, "shutting down")
		return
	}
	defer h.remove(c)
	defer c.CloseNow()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	send := func(m wsMessage) error {
		m.Addr, m.Version = a.o.addr, a.o.version
		b, _ := json.Marshal(m)
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		defer wcancel()
		return c.Write(wctx, websocket.MessageText, b)
	}
	if send(wsMessage{Type: "hello"}) != nil {
		return
	}
	// Echo what the client sends; a read error (the client or the shutdown
	// closed the connection) ends the handler.
	go func() {
		defer cancel()
		for {
			typ, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if typ == websocket.MessageText && send(wsMessage{Type: "echo", Text: string(b)}) != nil {
				return
			}
		}
	}()
	t := time.NewTicker(h.tick)
	defer t.Stop()
	for n := int64(1); ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if send(wsMessage{Type: "tick", N: n}) != nil {
			return
		}
	}
}

// closeWebsockets is the last part of a graceful shutdown: once the requests in
// flight have finished, the websockets still open are closed with 1001 (going
// away), as a Spring Boot application closes its sessions after the web server's
// graceful shutdown phase, so that their clients reconnect elsewhere at once
// instead of finding the connection reset when the process exits.
func (a *app) closeWebsockets() {
	if n := a.ws.closeAll(websocket.StatusGoingAway, "server shutting down"); n > 0 {
		log.Printf("closed %d websocket(s) with 1001 going away", n)
	}
}
