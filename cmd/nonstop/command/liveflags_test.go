package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// TestLiveCommandUsageErrors checks that wrong flags and files make inspect, plan,
// show and drift exit 1 with a message that says what is wrong, before any
// provider is contacted (the configuration points at nothing that runs).
func TestLiveCommandUsageErrors(t *testing.T) {
	valid := filepath.Join("testdata", "validate", "valid")
	dir := t.TempDir()
	notPlan := filepath.Join(dir, "not-a-plan")
	tampered := filepath.Join(dir, "tampered.plan")
	if err := os.WriteFile(notPlan, []byte("service \"x\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &planner.Plan{FormatVersion: planner.FormatVersion, Summary: planner.Summary{Upgrades: 1}}
	if err := planner.WritePlanFile(tampered, p, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(tampered)
	if err := os.WriteFile(tampered, []byte(strings.Replace(string(b), `"upgrades": 1`, `"upgrades": 7`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		args []string
		want string
	}{
		"plan target not a service":   {[]string{"plan", "-target", "nginx.edge", valid}, `"nginx.edge" is not a service address: write service.NAME`},
		"plan target unknown service": {[]string{"plan", "-target", "service.nope", valid}, "service.nope names no service of the configuration"},
		"drift target unknown":        {[]string{"drift", "-target", "service.nope", valid}, "Invalid target"},
		"inspect target unknown":      {[]string{"inspect", "-json", "-target", "nope", valid}, "Invalid target"},
		"plan bad format":             {[]string{"plan", "-format", "yaml", valid}, `-format "yaml" is not one of human, json, markdown`},
		"plan json and markdown":      {[]string{"plan", "-json", "-format", "markdown", valid}, "contradict"},
		"drift bad format":            {[]string{"drift", "-format", "html", valid}, `-format "html" is not one of`},
		"bad parallelism":             {[]string{"inspect", "-parallelism", "0", valid}, "must be a whole number of at least 1"},
		"two directories":             {[]string{"plan", valid, valid}, "plan takes at most one directory, got 2"},
		"show no file":                {[]string{"show"}, "show takes exactly one plan file, got 0"},
		"show missing file":           {[]string{"show", filepath.Join(dir, "missing.plan")}, "no such file"},
		"show not a plan":             {[]string{"show", notPlan}, "is not a nonstop plan file"},
		"show tampered plan":          {[]string{"show", "-json", tampered}, "is corrupt or was edited"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := run(t, nil, "", tc.args...)
			if res.code != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("want exit 1 and %q on stderr, got\n%s", tc.want, res)
			}
			switch {
			case !wantsJSON(tc.args[1:]) && res.stdout != "":
				t.Errorf("stdout is not empty:\n%s", res.stdout)
			case wantsJSON(tc.args[1:]):
				// With -json the error is on stdout too, as JSON lines.
				checkJSONErrorLines(t, res.stdout, tc.want)
			}
		})
	}
	help := run(t, nil, "", "plan", "-help")
	if help.code != 0 || !strings.Contains(help.stdout, "Exit codes:") || !strings.Contains(help.stdout, "2  with -detailed-exitcode") {
		t.Errorf("plan -help does not document the exit codes:\n%s", help)
	}
}

// TestInspectView checks how inspect arranges live state it cannot see in full:
// a hidden version, an unregistered instance, an unread pool, a route.
func TestInspectView(t *testing.T) {
	cfg := &lang.Config{ServiceNames: []string{"svc"}, Services: map[string]*lang.Service{"svc": {
		Name:   "svc",
		Groups: []*lang.Group{{Name: "a", Instances: []lang.Address{{Host: "127.0.0.1", Port: 1}, {Host: "127.0.0.1", Port: 2}}}},
		Balancers: []*lang.Balancer{
			{Name: "http", Provider: lang.ProviderRef{Kind: "nginx", Name: "edge"}, Pool: "web"},
		},
	}}}
	live := &planner.Live{Services: map[string]*planner.LiveService{"svc": {
		Name:      "svc",
		Instances: map[string]providers.Instance{"127.0.0.1:1": {Address: "127.0.0.1:1", Enabled: false, Weight: 1, Healthy: true}},
		Balancers: map[string][]providers.Member{"http": {{Pool: "web", Address: "127.0.0.1:1", Weight: 2}}},
		Routes: map[string][]providers.Route{"http": {{Pool: "web", Name: "beta", Version: "2.0.0",
			Match: providers.RouteMatch{Header: map[string]string{"X-Beta": "1"}}, Members: []string{"127.0.0.1:1"}}}},
	}}}
	no, yes, one := false, true, 1.0
	want := inspectView{FormatVersion: "1.0", Services: []inspectService{{
		Name: "svc",
		Instances: []inspectInstance{
			{Address: "127.0.0.1:1", Group: "a", Registered: true, Enabled: &no, Weight: &one, Healthy: &yes},
			{Address: "127.0.0.1:2", Group: "a"},
		},
		Balancers: []inspectBalancer{{Name: "http", Provider: "nginx.edge", Pool: "web",
			Members: []inspectMember{{Address: "127.0.0.1:1", Weight: 2, State: "ready"}}}},
		Routes: []inspectRoute{{Balancer: "http", Pool: "web", Name: "beta", Version: "2.0.0",
			Match: providers.RouteMatch{Header: map[string]string{"X-Beta": "1"}}, Members: []string{"127.0.0.1:1"}}},
	}}}
	got := newInspectView(cfg, live, cfg.ServiceNames)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inspect view (-want +got):\n%s", diff)
	}
	var b strings.Builder
	writeInspectHuman(&b, got)
	for _, row := range [][]string{
		{"127.0.0.1:1", "a", "yes", "unknown", "no", "1", "yes"},
		{"127.0.0.1:2", "a", "no", "-", "-", "-", "-"},
		{"127.0.0.1:1", "2", "ready", "-"},
		{"beta", "http", "2.0.0", "header={X-Beta=1}", "127.0.0.1:1"},
	} {
		if !hasRow(b.String(), row) {
			t.Errorf("no row %q in:\n%s", row, b.String())
		}
	}
}
