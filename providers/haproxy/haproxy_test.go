package haproxy

import (
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// fleet is one HAProxy with backend "web" in front of backends, and a provider.
type fleet struct {
	haproxy  *testfleet.HAProxy
	backends []*testfleet.Backend
	provider *HAProxy
}

func startFleet(t *testing.T, n int) *fleet {
	t.Helper()
	bs := testfleet.StartBackends(t, n)
	var addrs []string
	for _, b := range bs {
		addrs = append(addrs, b.Addr)
	}
	// No active checks here, so that states and stats read the same every run;
	// TestHAProxyHealthFollowsChecks runs with them.
	h := testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: "web", Servers: addrs}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "web"}},
		Checks:    testfleet.HAProxyChecks{Disabled: true},
	})
	return &fleet{haproxy: h, backends: bs, provider: newProvider(t, h.SocketURL(), nil)}
}

func newProvider(t *testing.T, api string, extra map[string]cty.Value) *HAProxy {
	t.Helper()
	attrs := map[string]cty.Value{"runtime_api": cty.StringVal(api), "timeout": cty.StringVal("2s")}
	for k, v := range extra {
		attrs[k] = v
	}
	p, err := New(providers.Settings{Name: "lb", Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*HAProxy)
}

// statField reads one column of `show stat` for a server of backend web, straight
// from the runtime API.
func statField(t *testing.T, f *fleet, addr, column string) string {
	t.Helper()
	out, err := f.provider.api.do(context.Background(), "show stat web 4 -1")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "# "))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]int{}
	for i, c := range recs[0] {
		cols[c] = i
	}
	for _, r := range recs[1:] {
		if r[cols["addr"]] == addr {
			return r[cols[column]]
		}
	}
	t.Fatalf("show stat has no server %s:\n%s", addr, out)
	return ""
}

func zero() *int { n := 0; return &n }

// TestHAProxyPoolReadsMembers reads weight, state and sessions over both the unix
// socket and the TCP runtime API.
func TestHAProxyPoolReadsMembers(t *testing.T) {
	f := startFleet(t, 3)
	ctx := context.Background()
	b := f.backends
	if err := f.provider.SetMemberWeight(ctx, "web", b[0].Addr, 7); err != nil {
		t.Fatal(err)
	}
	if err := f.provider.SetMemberState(ctx, "web", b[1].Addr, providers.StateDrain); err != nil {
		t.Fatal(err)
	}
	if err := f.provider.SetMemberState(ctx, "web", b[2].Addr, providers.StateMaint); err != nil {
		t.Fatal(err)
	}
	want := []providers.Member{
		{Pool: "web", Address: b[0].Addr, Weight: 7, State: providers.StateReady, Sessions: zero(), Health: providers.HealthUp, HealthDetail: "no check"},
		{Pool: "web", Address: b[1].Addr, Weight: 1, State: providers.StateDrain, Sessions: zero(), Health: providers.HealthUp, HealthDetail: "DRAIN"},
		// Maintenance stops the server, and its checks.
		{Pool: "web", Address: b[2].Addr, Weight: 1, State: providers.StateMaint, Sessions: zero(), Health: providers.HealthDown, HealthDetail: "MAINT"},
	}
	for name, api := range map[string]string{"unix": f.haproxy.SocketURL(), "tcp": f.haproxy.TCPURL()} {
		got, err := newProvider(t, api, nil).Pool(ctx, "web")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: Pool (-want +got):\n%s", name, diff)
		}
	}
}

// TestHAProxySetWeight checks that show stat reports a weight set by nonstop and
// that HAProxy's own range error comes through.
func TestHAProxySetWeight(t *testing.T) {
	f := startFleet(t, 2)
	ctx := context.Background()
	if err := f.provider.SetMemberWeight(ctx, "web", f.backends[1].Addr, 42); err != nil {
		t.Fatal(err)
	}
	if got := statField(t, f, f.backends[1].Addr, "weight"); got != "42" {
		t.Errorf("show stat weight = %s, want 42", got)
	}
	err := f.provider.SetMemberWeight(ctx, "web", f.backends[1].Addr, 300)
	if err == nil || !strings.Contains(err.Error(), "between 0 and 256") {
		t.Errorf("weight 300 error = %v, want HAProxy's range message", err)
	}
}

// TestHAProxyStatesAvoidMember puts a member in drain, then in maint, and checks
// show stat and that new requests avoid it.
func TestHAProxyStatesAvoidMember(t *testing.T) {
	f := startFleet(t, 2)
	ctx := context.Background()
	for state, status := range map[providers.MemberState]string{providers.StateDrain: "DRAIN", providers.StateMaint: "MAINT"} {
		if err := f.provider.SetMemberState(ctx, "web", f.backends[0].Addr, state); err != nil {
			t.Fatal(err)
		}
		if got := statField(t, f, f.backends[0].Addr, "status"); got != status {
			t.Errorf("%s: show stat status = %s, want %s", state, got, status)
		}
		got := testfleet.CountByBackend(t, f.haproxy.URL("fe"), 10, nil)
		if diff := cmp.Diff(map[string]int{f.backends[1].Addr: 10}, got); diff != "" {
			t.Errorf("%s: requests by backend (-want +got):\n%s", state, diff)
		}
		if err := f.provider.SetMemberState(ctx, "web", f.backends[0].Addr, providers.StateReady); err != nil {
			t.Fatal(err)
		}
		got = testfleet.CountByBackend(t, f.haproxy.URL("fe"), 10, nil)
		if diff := cmp.Diff(map[string]int{f.backends[0].Addr: 5, f.backends[1].Addr: 5}, got); diff != "" {
			t.Errorf("%s then ready: requests by backend (-want +got):\n%s", state, diff)
		}
	}
}

// TestHAProxySessionsDuringSlowRequest checks scur while a request is in flight.
func TestHAProxySessionsDuringSlowRequest(t *testing.T) {
	f := startFleet(t, 1)
	ctx := context.Background()
	done := make(chan map[string]int, 1)
	go func() { done <- testfleet.CountByBackend(t, f.haproxy.URL("fe")+"slow?ms=1500", 1, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for f.backends[0].Active() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("slow request never reached the backend")
		}
		time.Sleep(10 * time.Millisecond)
	}
	members, err := f.provider.Pool(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if members[0].Sessions == nil || *members[0].Sessions != 1 {
		t.Errorf("sessions during slow request = %v, want 1", members[0].Sessions)
	}
	<-done
	members, err = f.provider.Pool(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	if members[0].Sessions == nil || *members[0].Sessions != 0 {
		t.Errorf("sessions after slow request = %v, want 0", members[0].Sessions)
	}
}

// TestHAProxyErrors checks the errors for things that are not there.
func TestHAProxyErrors(t *testing.T) {
	f := startFleet(t, 1)
	ctx := context.Background()
	unreachable := newProvider(t, "unix://"+f.haproxy.Dir+"/missing.sock", nil)
	tests := map[string]struct {
		call func() error
		want []string
	}{
		"unknown backend": {func() error { _, err := f.provider.Pool(ctx, "nope"); return err },
			[]string{"haproxy.lb", `backend "nope"`, "Can't find backend"}},
		"unknown address": {func() error { return f.provider.SetMemberWeight(ctx, "web", "127.0.0.1:1", 2) },
			[]string{"haproxy.lb", `backend "web"`, "127.0.0.1:1"}},
		"state down": {func() error { return f.provider.SetMemberState(ctx, "web", f.backends[0].Addr, providers.StateDown) },
			[]string{"haproxy.lb", "cannot force a server down"}},
		"unreachable socket": {func() error { _, err := unreachable.Pool(ctx, "web"); return err },
			[]string{"haproxy.lb", "missing.sock"}},
		"tcp refused": {func() error { _, err := newProvider(t, "tcp://127.0.0.1:1", nil).Pool(ctx, "web"); return err },
			[]string{"haproxy.lb", "tcp://127.0.0.1:1"}},
	}
	for name, tt := range tests {
		err := tt.call()
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", name, err, w)
			}
		}
	}
}

// TestNewRejectsBadSettings checks attribute decoding.
func TestNewRejectsBadSettings(t *testing.T) {
	tests := map[string]map[string]cty.Value{
		"missing api":  {},
		"bad scheme":   {"runtime_api": cty.StringVal("http://x:1")},
		"bad timeout":  {"runtime_api": cty.StringVal("tcp://127.0.0.1:1"), "timeout": cty.StringVal("soon")},
		"unknown attr": {"runtime_api": cty.StringVal("tcp://127.0.0.1:1"), "color": cty.StringVal("red")},
		"not a string": {"runtime_api": cty.NumberIntVal(1)},
	}
	for name, attrs := range tests {
		if _, err := New(providers.Settings{Name: "lb", Attrs: attrs}); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
}
