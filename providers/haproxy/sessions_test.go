package haproxy

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// A minimal RFC 6455 websocket, enough for a test: text frames under 126 bytes,
// a server that answers each message with "ADDR:message", a client that dials
// through HAProxy. The module has no websocket library, and a test needs none.

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsServer is a websocket echo backend that also answers /health.
type wsServer struct {
	addr string
	srv  *http.Server
}

func startWSServer(t *testing.T) *wsServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &wsServer{addr: l.Addr().String()}
	s.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			_, _ = io.WriteString(w, s.addr)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + wsGUID))
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		if rw.Flush() != nil {
			return
		}
		for {
			msg, err := readFrame(rw.Reader)
			if err != nil {
				return
			}
			if writeFrame(conn, []byte(s.addr+":"+msg), false) != nil {
				return
			}
		}
	})}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// writeFrame writes one final text frame, masked when a client sends it.
func writeFrame(w io.Writer, payload []byte, mask bool) error {
	if len(payload) > 125 {
		return errors.New("payload too long for this test")
	}
	b := []byte{0x81, byte(len(payload))}
	if mask {
		key := []byte{1, 2, 3, 4}
		b[1] |= 0x80
		b = append(b, key...)
		for i, c := range payload {
			b = append(b, c^key[i%4])
		}
	} else {
		b = append(b, payload...)
	}
	_, err := w.Write(b)
	return err
}

// readFrame reads one text frame (masked or not); a close frame is io.EOF.
func readFrame(r io.Reader) (string, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return "", err
	}
	if h[0]&0x0f == 0x8 {
		return "", io.EOF
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return "", err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		return "", errors.New("frame too long for this test")
	}
	var key [4]byte
	if h[1]&0x80 != 0 {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return "", err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return "", err
	}
	if h[1]&0x80 != 0 {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return string(p), nil
}

// wsClient is one websocket connection through HAProxy.
type wsClient struct {
	conn net.Conn
	r    *bufio.Reader
}

// dialWS opens a websocket through the frontend at hostport.
func dialWS(hostport string) (*wsClient, error) {
	conn, err := net.DialTimeout("tcp", hostport, 2*time.Second)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", hostport)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("upgrade answered %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return &wsClient{conn: conn, r: r}, nil
}

// echo sends a message and returns the address of the backend that answered.
func (c *wsClient) echo(msg string) (string, error) {
	_ = c.conn.SetDeadline(time.Now().Add(3 * time.Second))
	defer c.conn.SetDeadline(time.Time{})
	if err := writeFrame(c.conn, []byte(msg), true); err != nil {
		return "", err
	}
	got, err := readFrame(c.r)
	if err != nil {
		return "", err
	}
	addr, ok := strings.CutSuffix(got, ":"+msg) // "127.0.0.1:PORT:msg"
	if !ok {
		return "", fmt.Errorf("echo %q for %q", got, msg)
	}
	return addr, nil
}

// closed reports whether the server side closes the connection within the time
// (a connection that is merely quiet times out and is not closed).
func (c *wsClient) closed(within time.Duration) bool {
	_ = c.conn.SetReadDeadline(time.Now().Add(within))
	_, err := readFrame(c.r)
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// TestHAProxyCloseSessions drains a member of a websocket pool while clients hold
// connections on both members, closes what remains on the drained member only,
// and checks that every cut client reconnects on its first try to the serving
// member while the others never notice.
func TestHAProxyCloseSessions(t *testing.T) {
	ws := []*wsServer{startWSServer(t), startWSServer(t)}
	h := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: "chat", Servers: []string{ws[0].addr, ws[1].addr}}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "chat"}},
		Checks:    testfleet.HAProxyChecks{Inter: 200 * time.Millisecond},
	})
	if err := h.WaitConfirmed("chat", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	p := newProvider(t, h.SocketURL(), nil)
	ctx := context.Background()
	front := strings.TrimSuffix(strings.TrimPrefix(h.URL("fe"), "http://"), "/")

	const n = 6
	clients := make([]*wsClient, n)
	on := map[string][]int{}
	for i := range clients {
		c, err := dialWS(front)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		t.Cleanup(func() { c.conn.Close() })
		addr, err := c.echo(fmt.Sprintf("hello-%d", i))
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		clients[i] = c
		on[addr] = append(on[addr], i)
	}
	if len(on[ws[0].addr]) == 0 || len(on[ws[1].addr]) == 0 {
		t.Fatalf("clients by backend %v: want some on each", on)
	}

	// A serving member is refused, and nothing is closed.
	if _, err := p.CloseSessions(ctx, "chat", ws[0].addr); err == nil || !strings.Contains(err.Error(), "in traffic") {
		t.Fatalf("closing a serving member: %v", err)
	}
	if _, err := p.CloseSessions(ctx, "chat", "127.0.0.1:1"); err == nil {
		t.Error("closing an unknown member succeeded")
	}
	if err := p.SetMemberState(ctx, "chat", ws[0].addr, providers.StateDrain); err != nil {
		t.Fatal(err)
	}
	// Drained, the member keeps its upgraded connections: they do not leave by themselves.
	time.Sleep(300 * time.Millisecond)
	members, err := p.Pool(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		want := len(on[m.Address])
		if m.Sessions == nil || *m.Sessions != want {
			t.Errorf("member %s sessions %v after drain, want %d", m.Address, m.Sessions, want)
		}
	}
	closed, err := p.CloseSessions(ctx, "chat", ws[0].addr)
	if err != nil {
		t.Fatal(err)
	}
	if closed != len(on[ws[0].addr]) {
		t.Errorf("CloseSessions = %d, want %d", closed, len(on[ws[0].addr]))
	}

	var mu sync.Mutex
	var failures []string
	var wg sync.WaitGroup
	for _, i := range on[ws[0].addr] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, fmt.Sprintf("client %d: ", i)+fmt.Sprintf(format, args...))
			}
			if !clients[i].closed(3 * time.Second) {
				fail("not cut")
				return
			}
			c, err := dialWS(front) // the first try must succeed, on the serving member
			if err != nil {
				fail("reconnect: %v", err)
				return
			}
			defer c.conn.Close()
			if addr, err := c.echo("again"); err != nil || addr != ws[1].addr {
				fail("after reconnecting, answered by %q (%v), want %s", addr, err, ws[1].addr)
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	// The serving member's clients were not cut: their connections still answer.
	for _, i := range on[ws[1].addr] {
		if addr, err := clients[i].echo("still-here"); err != nil || addr != ws[1].addr {
			t.Errorf("client %d on the serving member: %q %v", i, addr, err)
		}
	}
	members, err = p.Pool(ctx, "chat")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		if m.Address == ws[0].addr && (m.Sessions == nil || *m.Sessions != 0) {
			t.Errorf("drained member sessions %v after CloseSessions, want 0", m.Sessions)
		}
	}
}
