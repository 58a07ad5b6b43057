package command

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/providers"
)

// TestInspectRealFleet puts four registered demo-service instances in four states
// through the providers — disabled in the registry, registry weight 0, drained in
// HAProxy, down in nginx — declares a fifth that runs nowhere, and checks that
// inspect -json reports exactly that live state, then that the human table says
// the same.
func TestInspectRealFleet(t *testing.T) {
	f := startFleet(t, "1.5.0", []string{"1.4.2", "1.4.2", "1.5.0", "1.5.0"}, "127.0.0.1:9")
	ctx := context.Background()
	d := f.demos
	must(t, "disable", f.registry.SetInstanceEnabled(ctx, f.instanceKey(d[0].Addr), false))
	must(t, "registry weight", f.registry.SetInstanceWeight(ctx, f.instanceKey(d[1].Addr), 0))
	must(t, "haproxy drain", f.lb.SetMemberState(ctx, "web", d[2].Addr, providers.StateDrain))
	must(t, "nginx down", f.edge.SetMemberState(ctx, "web", d[3].Addr, providers.StateDown))

	str := func(s string) *string { return &s }
	yes, no := func() *bool { b := true; return &b }(), func() *bool { b := false; return &b }()
	num := func(f float64) *float64 { return &f }
	zero := func() *int { n := 0; return &n }
	registered := func(addr, group string, version *string, enabled *bool, weight float64) inspectInstance {
		return inspectInstance{Address: addr, Group: group, Registered: true, Version: version,
			Enabled: enabled, Weight: num(weight), Healthy: yes}
	}
	nginxMembers, haproxyMembers := []inspectMember{}, []inspectMember{}
	for i, demo := range d {
		ng := inspectMember{Address: demo.Addr, Weight: 1, State: "ready"}
		hp := inspectMember{Address: demo.Addr, Weight: 1, State: "ready", Sessions: zero()}
		switch i {
		case 2:
			hp.State = "drain"
		case 3:
			ng.State = "down"
		}
		nginxMembers, haproxyMembers = append(nginxMembers, ng), append(haproxyMembers, hp)
	}
	byAddress := func(ms []inspectMember) {
		sort.Slice(ms, func(i, j int) bool { return ms[i].Address < ms[j].Address })
	}
	byAddress(nginxMembers)
	byAddress(haproxyMembers)
	want := inspectView{FormatVersion: "1.0", Services: []inspectService{{
		Name: f.service,
		Instances: []inspectInstance{
			// The provider reads an isolated instance's metadata through Polaris'
			// discovery API; a registry that hides it is covered by TestInspectView.
			registered(d[0].Addr, "a", str("1.4.2"), no, 1),
			registered(d[1].Addr, "a", str("1.4.2"), yes, 0),
			registered(d[2].Addr, "b", str("1.5.0"), yes, 1),
			registered(d[3].Addr, "b", str("1.5.0"), yes, 1),
			{Address: "127.0.0.1:9", Group: "b", Registered: false},
		},
		Balancers: []inspectBalancer{
			{Name: "http", Provider: "nginx.edge", Pool: "web", Members: nginxMembers},
			{Name: "tcp", Provider: "haproxy.lb", Pool: "web", Members: haproxyMembers},
		},
		Routes: []inspectRoute{},
	}}}

	// The registry's view of a write settles within a second or two.
	var last result
	eventually(t, 10*time.Second, "inspect -json reports the live state", func() string {
		last = f.nonstop(t, "inspect", "-json")
		if last.code != 0 {
			return last.String()
		}
		var got inspectView
		if err := json.Unmarshal([]byte(last.stdout), &got); err != nil {
			return err.Error() + "\n" + last.stdout
		}
		return cmp.Diff(want, got)
	})
	// Null, not absent: a reader can tell "unknown" from a missing key.
	for _, key := range []string{`"version": null`, `"sessions": null`, `"registered": false`, `"enabled": null`} {
		if !strings.Contains(last.stdout, key) {
			t.Errorf("inspect -json has no %s:\n%s", key, last.stdout)
		}
	}

	human := f.nonstop(t, "inspect").mustExit(t, 0)
	for _, line := range [][]string{
		{d[0].Addr, "a", "yes", "1.4.2", "no", "1", "yes"},
		{d[1].Addr, "a", "yes", "1.4.2", "yes", "0", "yes"},
		{"127.0.0.1:9", "b", "no", "-", "-", "-", "-"},
		{d[3].Addr, "1", "down", "-"},
		{d[2].Addr, "1", "drain", "0"},
	} {
		if !hasRow(human.stdout, line) {
			t.Errorf("inspect has no row %q:\n%s", line, human.stdout)
		}
	}
	for _, header := range []string{`balancer "http" (nginx.edge, pool web)`, `balancer "tcp" (haproxy.lb, pool web)`} {
		if !strings.Contains(human.stdout, header) {
			t.Errorf("inspect has no %q:\n%s", header, human.stdout)
		}
	}
}

// hasRow reports whether a line of out has exactly the given fields.
func hasRow(out string, fields []string) bool {
	for _, line := range strings.Split(out, "\n") {
		if cmp.Equal(strings.Fields(line), fields) {
			return true
		}
	}
	return false
}
