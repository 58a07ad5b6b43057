package nginx

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/providers"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// goldenFile is a model exercising every member state and both kinds of route.
func goldenFile() *upstreamsFile {
	f := &upstreamsFile{}
	p := f.addPool("order_backend")
	p.extra = []*directive{{Name: "keepalive", Args: []string{"16"}}}
	p.members = []*member{
		{addr: "127.0.0.1:18081", weight: 2, state: providers.StateReady, params: []string{"max_fails=3"}},
		{addr: "127.0.0.1:18082", weight: 0, state: providers.StateReady},
		{addr: "127.0.0.1:18083", weight: 5, state: providers.StateDrain},
		{addr: "127.0.0.1:18084", weight: 0, state: providers.StateMaint},
		{addr: "127.0.0.1:18085", weight: 1, state: providers.StateDown},
	}
	p.routes = []providers.Route{
		{Pool: "order_backend", Name: "beta-testers", Version: "1.5.0-rc1",
			Match:   providers.RouteMatch{ClientIP: []string{"10.8.0.0/16", "192.168.1.7"}, Header: map[string]string{"X-Canary": "1.5"}},
			Members: []string{"127.0.0.1:18083", "127.0.0.1:18086"}},
		{Pool: "order_backend", Name: "mobile", Version: "1.5.0",
			Match:   providers.RouteMatch{Header: map[string]string{"X-Client": "ios app", "X-Tier": "gold"}},
			Members: []string{"127.0.0.1:18081"}},
	}
	q := f.addPool("user-backend")
	q.members = []*member{{addr: "127.0.0.1:19001", weight: 1, state: providers.StateReady}}
	return f
}

// TestRenderParseRoundTrip renders a model, compares it with the golden file and
// parses it back to the same pools, members and routes.
func TestRenderParseRoundTrip(t *testing.T) {
	want := goldenFile()
	data, err := want.render("nginx.edge")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "upstreams.golden.conf")
	if *update {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	wantText, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(wantText), string(data)); diff != "" {
		t.Errorf("render differs from %s (-want +got):\n%s", golden, diff)
	}
	got, err := parseUpstreams(string(data))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"order_backend", "user-backend"} {
		gp, wp := got.findPool(name), want.findPool(name)
		if gp == nil {
			t.Fatalf("pool %s lost in round trip", name)
		}
		if diff := cmp.Diff(wp.live(), gp.live()); diff != "" {
			t.Errorf("pool %s members (-want +got):\n%s", name, diff)
		}
		if diff := cmp.Diff(wp.routes, gp.routes); diff != "" {
			t.Errorf("pool %s routes (-want +got):\n%s", name, diff)
		}
	}
	again, err := got.render("nginx.edge")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(data), string(again)); diff != "" {
		t.Errorf("second render differs (-first +second):\n%s", diff)
	}
}

// TestParseMemberHandEdits checks that the directives win over nonstop's comments.
func TestParseMemberHandEdits(t *testing.T) {
	type want struct {
		Weight int
		State  providers.MemberState
	}
	tests := map[string]want{
		"server a:1;":               {1, providers.StateReady},
		"server a:1 weight=5;":      {5, providers.StateReady},
		"server a:1 weight=5 down;": {5, providers.StateDown},
		"server a:1 weight=5 down;  # nonstop: state=drain":          {5, providers.StateDrain},
		"server a:1 down;  # nonstop: state=maint weight=0":          {0, providers.StateMaint},
		"server a:1 down;  # nonstop: state=ready weight=0":          {0, providers.StateReady},
		"server a:1 down;  # nonstop: weight=0":                      {0, providers.StateDown},
		"server a:1 weight=3 down;  # nonstop: state=ready weight=0": {3, providers.StateDown},
		"server a:1;  # nonstop: state=drain":                        {1, providers.StateReady},
		"server a:1 weight=2;  # nonstop: state=ready weight=0":      {2, providers.StateReady},
	}
	for line, w := range tests {
		ds, err := parseConf("upstream p {\n    " + line + "\n}\n")
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		m, err := parseMember(ds[0].Block[0])
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if diff := cmp.Diff(w, want{m.weight, m.state}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", line, diff)
		}
	}
}

// TestParseRejects checks that files nonstop cannot read faithfully are errors.
func TestParseRejects(t *testing.T) {
	tests := map[string]string{
		"foreign directive": "server { listen 80; }\n",
		"duplicate pool":    "upstream p { server a:1; }\nupstream p { server b:1; }\n",
		"duplicate member":  "upstream p { server a:1; server a:1; }\n",
		"bad weight":        "upstream p { server a:1 weight=x; }\n",
		"unterminated":      "upstream p { server a:1;\n",
		"orphan route":      "# nonstop:route {\"pool\":\"q\",\"name\":\"r\"}\nupstream q__r { server a:1; }\n",
	}
	for name, src := range tests {
		if _, err := parseUpstreams(src); err == nil {
			t.Errorf("%s: parse succeeded, want an error", name)
		}
	}
}

// TestRenderRejectsCollisions checks that names colliding in nginx are refused.
func TestRenderRejectsCollisions(t *testing.T) {
	f := &upstreamsFile{}
	p := f.addPool("web")
	p.members = []*member{{addr: "a:1", weight: 1, state: providers.StateReady}}
	p.routes = []providers.Route{
		{Pool: "web", Name: "a-b", Match: providers.RouteMatch{Header: map[string]string{"X": "1"}}, Members: []string{"a:1"}},
		{Pool: "web", Name: "a_b", Match: providers.RouteMatch{Header: map[string]string{"X": "2"}}, Members: []string{"a:1"}},
	}
	if _, err := f.render("nginx.edge"); err == nil {
		t.Error("render succeeded, want a collision error for routes a-b and a_b")
	}
}
