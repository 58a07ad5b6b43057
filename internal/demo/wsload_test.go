package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func TestSummarizeWS(t *testing.T) {
	tests := map[string]struct {
		recs []WSClient
		want WSCounts
	}{
		"never cut": {
			recs: []WSClient{{Connects: []WSConnect{{Member: "a1", Version: "1.0.0", Attempt: 1}}}},
			want: WSCounts{Clients: 1, Connects: 1, Codes: map[int]int{}, CutsPerClient: map[int]int{0: 1},
				Versions: map[string]int{"1.0.0": 1}},
		},
		"cut twice, reconnected first try both times": {
			recs: []WSClient{
				{
					Connects: []WSConnect{
						{Member: "a1", Version: "1.0.0", Attempt: 1},
						{Member: "b1", Version: "1.0.0", Attempt: 1, AfterCut: true},
						{Member: "a1", Version: "1.1.0", Attempt: 1, AfterCut: true},
					},
					Cuts: []WSCut{{Member: "a1", Code: 1006}, {Member: "b1", Code: 1001}},
				},
				{Connects: []WSConnect{{Member: "b2", Version: "1.0.0", Attempt: 1}}},
			},
			want: WSCounts{Clients: 2, Connects: 4, Cuts: 2, Codes: map[int]int{1001: 1, 1006: 1},
				CutsPerClient: map[int]int{0: 1, 2: 1}, MaxCuts: 2, Reconnects: 2, FirstTry: 2,
				Versions: map[string]int{"1.0.0": 3, "1.1.0": 1}},
		},
		"a reconnect that needed a second attempt": {
			recs: []WSClient{{
				Connects: []WSConnect{
					{Member: "a1", Version: "1.0.0", Attempt: 1},
					{Member: "b1", Version: "1.0.0", Attempt: 2, AfterCut: true},
				},
				Cuts:     []WSCut{{Member: "a1", Code: CloseStalled}},
				Failures: []WSFailure{{Err: "refused"}},
			}},
			want: WSCounts{Clients: 1, Connects: 2, FailedConnects: 1, Cuts: 1, Codes: map[int]int{0: 1},
				CutsPerClient: map[int]int{1: 1}, MaxCuts: 1, Reconnects: 1, FirstTry: 0,
				Versions: map[string]int{"1.0.0": 2}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := SummarizeWS("haproxy", tc.recs)
			tc.want.Name, tc.want.Records = "haproxy", tc.recs
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestOffServing(t *testing.T) {
	ps := PathServing{Changes: []ServingChange{
		{At: at(0), Members: []string{"a1", "a2", "b1", "b2"}},
		{At: at(1000), Members: []string{"b1", "b2"}},       // group a drained
		{At: at(9000), Members: []string{"a1", "a2", "b1"}}, // a back, b1... b2 drained
	}}
	tests := map[string]struct {
		member string
		at     int // ms
		off    bool
	}{
		"before the first sample":               {member: "a1", at: -500},
		"serving":                               {member: "b1", at: 5000},
		"drained":                               {member: "a1", at: 5000, off: true},
		"drained just now (within slack)":       {member: "a1", at: 1050},
		"back just before the sample (slack)":   {member: "a2", at: 8950},
		"never in the set":                      {member: "c9", at: 500, off: true},
		"after the last change":                 {member: "a2", at: 20000},
		"drained after the last change":         {member: "b2", at: 20000, off: true},
		"long after it left, before it is back": {member: "a2", at: 8800, off: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cn := WSConnect{At: at(tc.at), Took: 10 * time.Millisecond, Member: tc.member}
			c := WSCounts{Records: []WSClient{{Connects: []WSConnect{cn}}}}
			got := c.OffServing(ps, 100*time.Millisecond)
			if off := len(got) == 1; off != tc.off {
				t.Errorf("off serving %t, want %t", off, tc.off)
			}
		})
	}
}

// wsTestServer is a real websocket server that says hello like the
// demo-service's /ws; behave decides, for the n-th request (from 1), how it
// answers: "refuse" (503), "close" (hello, then a close frame 1001 after 100ms),
// "drop" (hello, then the TCP connection closes without a close frame) or "hold"
// (hello, then a tick every 100ms).
func wsTestServer(t *testing.T, behave func(n int64) string) *httptest.Server {
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := count.Add(1)
		how := behave(n)
		if how == "refuse" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := c.CloseRead(context.Background())
		member := "m" + how
		hello, _ := json.Marshal(wsHello{Type: "hello", Addr: member, Version: "1.0.0"})
		if c.Write(ctx, websocket.MessageText, hello) != nil {
			return
		}
		switch how {
		case "close":
			time.Sleep(100 * time.Millisecond)
			c.Close(websocket.StatusGoingAway, "bye")
		case "drop":
			time.Sleep(100 * time.Millisecond)
			c.CloseNow()
		default:
			for {
				select {
				case <-ctx.Done():
					return
				case <-time.After(100 * time.Millisecond):
				}
				if c.Write(ctx, websocket.MessageText, []byte(`{"type":"tick"}`)) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// firstThen answers the first request as first says, every other by holding.
func firstThen(first string) func(int64) string {
	return func(n int64) string {
		if n == 1 {
			return first
		}
		return "hold"
	}
}

// TestWSLoadRecords runs clients against real websocket servers: a close frame
// and a dropped connection are cuts with their codes, the client reconnects at
// once, a refused attempt is a failed connect, and Stop is not a cut.
func TestWSLoadRecords(t *testing.T) {
	tests := map[string]struct {
		behave      func(n int64) string
		wantCodes   map[int]int
		wantFailed  int
		wantMembers []string // of the client's connects, in order
	}{
		"close frame 1001": {
			behave:      firstThen("close"),
			wantCodes:   map[int]int{1001: 1},
			wantMembers: []string{"mclose", "mhold"},
		},
		"dropped without a close frame": {
			behave:      firstThen("drop"),
			wantCodes:   map[int]int{CloseAbnormal: 1},
			wantMembers: []string{"mdrop", "mhold"},
		},
		"refused, then held": {
			behave:      firstThen("refuse"),
			wantCodes:   map[int]int{},
			wantFailed:  1,
			wantMembers: []string{"mhold"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			srv := wsTestServer(t, tc.behave)
			l := StartWSLoad(1, WSPath{Name: "lb", URL: "ws" + strings.TrimPrefix(srv.URL, "http")})
			if err := l.WaitConnected(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			// Long enough for a cut and its reconnect, and for a few ticks.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				l.clients[0].mu.Lock()
				n := len(l.clients[0].rec.Connects)
				l.clients[0].mu.Unlock()
				if n >= len(tc.wantMembers) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			counts := l.Stop()
			if len(counts) != 1 {
				t.Fatalf("%d paths", len(counts))
			}
			c := counts[0]
			t.Log(c)
			if d := cmp.Diff(tc.wantCodes, c.Codes, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("codes (-want +got):\n%s", d)
			}
			if c.FailedConnects != tc.wantFailed {
				t.Errorf("%d failed connects, want %d", c.FailedConnects, tc.wantFailed)
			}
			var members []string
			for _, cn := range c.Records[0].Connects {
				members = append(members, cn.Member)
			}
			if d := cmp.Diff(tc.wantMembers, members); d != "" {
				t.Errorf("connects (-want +got):\n%s", d)
			}
			if c.Reconnects != c.Cuts || c.FirstTry != c.Reconnects {
				t.Errorf("%d cuts, %d reconnects, %d on the first try", c.Cuts, c.Reconnects, c.FirstTry)
			}
			for _, cut := range c.Records[0].Cuts {
				if cut.Member != members[0] {
					t.Errorf("cut %+v, want it on %s", cut, members[0])
				}
			}
		})
	}
}
