package command

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// The live-command tests share one Polaris, started on first use and stopped by
// TestMain; each test starts its own demo-service instances (under a service name
// of its own), nginx and HAProxy, so no test sees another's state.
var (
	polarisOnce sync.Once
	polaris     *testfleet.Polaris
	polarisDir  string
	polarisErr  error
)

// sharedPolaris returns the package's Polaris, starting it on first use.
func sharedPolaris(t *testing.T) *testfleet.Polaris {
	t.Helper()
	polarisOnce.Do(func() {
		polarisDir, polarisErr = os.MkdirTemp("", "nonstop-command-polaris-")
		if polarisErr != nil {
			return
		}
		polaris, polarisErr = testfleet.StartPolarisProcess(polarisDir, nil)
	})
	if polarisErr != nil {
		t.Fatalf("polaris did not start (these tests need it; no skips): %v", polarisErr)
	}
	return polaris
}

// stopSharedPolaris stops the shared Polaris if a test started it.
func stopSharedPolaris() {
	if polaris != nil {
		polaris.Stop()
	}
	if polarisDir != "" {
		os.RemoveAll(polarisDir)
	}
}

// fleet is one test's live systems and a configuration directory describing them.
type fleet struct {
	service string
	demos   []*testfleet.Demo
	nginx   *testfleet.Nginx
	haproxy *testfleet.HAProxy
	// dir holds fleet.ns.hcl.
	dir string
	// registry, edge and lb are providers opened on the fleet, for the test to put
	// live state where it wants it, as an operator's hand would.
	registry providers.Registry
	edge     providers.Balancer
	lb       providers.Balancer
}

// startFleet starts demo-service instances of the given versions (the first half
// in group a, the rest in group b) registered in the shared Polaris under a service
// named after the test, with nginx and HAProxy pools "web" holding them all.
// extraB are declared in group b but run nowhere. The configuration's version
// defaults to configVersion.
func startFleet(t *testing.T, configVersion string, versions []string, extraB ...string) *fleet {
	t.Helper()
	pol := sharedPolaris(t)
	f := &fleet{service: strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), dir: t.TempDir()}
	f.demos = startDemos(t, pol, f.service, versions)
	var addrs []string
	for _, d := range f.demos {
		addrs = append(addrs, d.Addr)
	}
	f.nginx = testfleet.StartNginx(t, testfleet.NginxOptions{Pools: map[string][]string{"web": addrs}})
	f.haproxy = testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: "web", Servers: addrs}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "fe", DefaultBackend: "web"}},
	})
	half := len(addrs) / 2
	f.writeConfig(t, map[string]any{
		"Version": configVersion, "Service": f.service,
		"NacosAddr": pol.NacosAddr, "PolarisAddr": pol.NativeAddr,
		"UpstreamsFile": f.nginx.UpstreamsFile,
		"NginxTest":     f.nginx.Command("-t"), "NginxReload": f.nginx.Command("-s", "reload"),
		"HAProxyAPI": f.haproxy.SocketURL(),
		"GroupA":     addrs[:half], "GroupB": append(append([]string{}, addrs[half:]...), extraB...),
	})
	f.registry = openProvider(t, "nacos", map[string]cty.Value{
		"addresses":       cty.TupleVal([]cty.Value{cty.StringVal(pol.NacosAddr)}),
		"flavor":          cty.StringVal("polaris"),
		"polaris_address": cty.StringVal(pol.NativeAddr),
	}).(providers.Registry)
	f.edge = openProvider(t, "nginx", map[string]cty.Value{
		"upstreams_file": cty.StringVal(f.nginx.UpstreamsFile),
		"test":           stringsVal(f.nginx.Command("-t")),
		"reload":         stringsVal(f.nginx.Command("-s", "reload")),
	}).(providers.Balancer)
	f.lb = openProvider(t, "haproxy", map[string]cty.Value{"runtime_api": cty.StringVal(f.haproxy.SocketURL())}).(providers.Balancer)
	f.waitRegistered(t, len(addrs))
	// HAProxy assumes every server up until its first check; nonstop counts a
	// server only once a check passed, so plans wait for the checks here.
	if err := f.haproxy.WaitConfirmed("web", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return f
}

// startDemos starts the instances one after the other, each waiting for its
// registration. Under load the Nacos SDK now and then reports a registration that
// Polaris did make as refused (ok=false) and the instance exits; it is started
// again on the same address, which re-registers the same instance, twice at most.
func startDemos(t *testing.T, pol *testfleet.Polaris, service string, versions []string) []*testfleet.Demo {
	t.Helper()
	demos := make([]*testfleet.Demo, len(versions))
	for i, v := range versions {
		port, err := testfleet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		for attempt := 0; attempt < 3; attempt++ {
			demos[i], err = testfleet.StartDemoProcess(testfleet.DemoOptions{Addr: "127.0.0.1:" + strconv.Itoa(port),
				Nacos: pol.NacosAddr, Service: service, Version: v, DrainTimeout: time.Second}, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), "ok=false") {
				break
			}
			t.Logf("demo-service %d: registration refused, retrying: %v", i, err)
		}
		if err != nil {
			t.Fatalf("start demo-service %d: %v", i, err)
		}
		t.Cleanup(demos[i].Kill)
	}
	return demos
}

// waitRegistered waits until the registry lists n instances with known versions:
// Polaris' Nacos view lags a registration by up to a second.
func (f *fleet) waitRegistered(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		insts, err := f.registry.Instances(context.Background(), providers.ServiceKey{Service: f.service, Group: "DEFAULT_GROUP"})
		known := 0
		for _, in := range insts {
			if in.VersionKnown && in.Healthy {
				known++
			}
		}
		if err == nil && known == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry lists %d of %d instances with versions (err %v): %+v", known, n, err, insts)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// writeConfig renders testdata/plan/fleet.ns.hcl.tmpl into the fleet's directory.
func (f *fleet) writeConfig(t *testing.T, data map[string]any) {
	t.Helper()
	tmpl, err := template.New("fleet.ns.hcl.tmpl").Funcs(template.FuncMap{"list": hclList}).
		ParseFiles(filepath.Join("testdata", "plan", "fleet.ns.hcl.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "fleet.ns.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hclList renders strings as an HCL list: ["a", "b"].
func hclList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

func stringsVal(items []string) cty.Value {
	vs := make([]cty.Value, len(items))
	for i, s := range items {
		vs[i] = cty.StringVal(s)
	}
	return cty.TupleVal(vs)
}

// openProvider opens a provider through its registered factory, as nonstop does.
func openProvider(t *testing.T, kind string, attrs map[string]cty.Value) providers.Provider {
	t.Helper()
	factory, ok := providers.Lookup(kind)
	if !ok {
		t.Fatalf("provider kind %q is not registered (kinds.go)", kind)
	}
	p, err := factory.New(providers.Settings{Name: "test", Attrs: attrs, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := p.(providers.Closer); ok {
		t.Cleanup(func() { c.Close() })
	}
	return p
}

// instanceKey names one of the fleet's registered instances.
func (f *fleet) instanceKey(addr string) providers.InstanceKey {
	return providers.InstanceKey{ServiceKey: providers.ServiceKey{Service: f.service, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}, Address: addr}
}

// must fails the test on a provider error.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eventually retries check every 250 ms until it returns "" or timeout passes, and
// fails the test with its last answer.
func eventually(t *testing.T, timeout time.Duration, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s:\n%s", what, timeout, msg)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// nonstop runs nonstop in-process with the fleet's directory as the last argument.
func (f *fleet) nonstop(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, map[string]string{"NONSTOP_LOG": "warn"}, "", append(args, f.dir)...)
}

func (r result) mustExit(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\n%s", r.code, code, r)
	}
	return r
}
