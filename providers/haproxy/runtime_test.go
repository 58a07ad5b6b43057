package haproxy

import (
	"bufio"
	"context"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/internal/testfleet"
)

// TestRuntimeAPIUnresponsive talks to a runtime API that accepts the
// connection and never answers: the command fails after the timeout, once
// (a try that ran out of time is not repeated), naming the API and the bound.
func TestRuntimeAPIUnresponsive(t *testing.T) {
	addr := testfleet.SilentServer(t)
	api, err := parseRuntimeAPI("tcp://"+addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"show servers state web", "set server web/s1 weight 0"} {
		start := time.Now()
		_, err := api.do(context.Background(), cmd)
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "tcp://"+addr) || !strings.Contains(err.Error(), "no answer within 1s") {
			t.Errorf("%s: error %v, want one naming the API and the bound", cmd, err)
		}
		if took < time.Second || took > 2500*time.Millisecond {
			t.Errorf("%s: failed after %s, want about the 1s timeout", cmd, took)
		}
	}
}

// TestRuntimeAPIRetries checks which failures are tried again: a connection
// that cannot be made (nothing was sent) for any command, a connection reset
// after sending for reads only.
func TestRuntimeAPIRetries(t *testing.T) {
	t.Run("socket appears", func(t *testing.T) {
		sock := filepath.Join(t.TempDir(), "admin.sock")
		api, err := parseRuntimeAPI("unix://"+sock, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(100 * time.Millisecond) // HAProxy reloading
			l, err := net.Listen("unix", sock)
			if err != nil {
				return
			}
			t.Cleanup(func() { l.Close() })
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				bufio.NewReader(c).ReadString('\n')
				c.Write([]byte("\n"))
				c.Close()
			}
		}()
		if _, err := api.do(context.Background(), "set server web/s1 weight 0"); err != nil {
			t.Errorf("a write while the socket comes back: %v", err)
		}
	})
	t.Run("reset after sending", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var conns atomic.Int32
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns.Add(1)
				bufio.NewReader(c).ReadString('\n')
				c.(*net.TCPConn).SetLinger(0) // close with a reset
				c.Close()
			}
		}()
		api, err := parseRuntimeAPI("tcp://"+l.Addr().String(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for cmd, want := range map[string]int32{"show stat web 4 -1": runtimeAttempts, "set server web/s1 weight 0": 1} {
			conns.Store(0)
			if _, err := api.do(context.Background(), cmd); err == nil {
				t.Errorf("%s: no error from a reset connection", cmd)
			}
			if got := conns.Load(); got != want {
				t.Errorf("%s: %d tries, want %d", cmd, got, want)
			}
		}
	})
}
