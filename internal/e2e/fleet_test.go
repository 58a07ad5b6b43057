package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

const (
	pool = "order_backend"
	// loadRate is each path's requests per second; loadMax bounds each path's count.
	loadRate = 30
	loadMax  = loadRate * 150
)

// fleet is one test's systems: its own nginx, HAProxy and four instances in groups
// a and b, registered as its own service in the package's Polaris.
type fleet struct {
	t       *testing.T
	service string
	groupA  []string
	groupB  []string
	nginx   *testfleet.Nginx
	haproxy *testfleet.HAProxy
	demo    *testfleet.DemoFleet
	dir     string // configuration directory
	cfg     demo.Config
}

// newFleet starts the fleet with every instance at version through deploy.sh.
func newFleet(t *testing.T, service, version string) *fleet {
	t.Helper()
	addrs := make([]string, 4)
	for i := range addrs {
		port, err := testfleet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	f := &fleet{t: t, service: service, groupA: addrs[:2], groupB: addrs[2:], dir: t.TempDir()}
	f.demo = testfleet.StartDemoFleet(t, registry.NacosAddr, service, addrs, version)
	t.Cleanup(func() {
		if t.Failed() {
			for _, a := range addrs {
				t.Logf("log of %s:\n%s", a, f.demo.Log(a))
			}
		}
	})
	f.nginx = testfleet.StartEdgeNginx(t, pool, addrs)
	f.haproxy = testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: pool, Servers: addrs}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "www", DefaultBackend: pool}},
	})
	f.cfg = demo.Config{
		Service:       service,
		Version:       version,
		Nacos:         registry.NacosAddr,
		PolarisNative: registry.NativeAddr,
		UpstreamsFile: f.nginx.UpstreamsFile,
		NginxTest:     f.nginx.Command("-t"),
		NginxReload:   f.nginx.Command("-s", "reload"),
		RuntimeAPI:    f.haproxy.TCPURL(),
		Pool:          pool,
		GroupA:        f.groupA,
		GroupB:        f.groupB,
		Strategy:      `strategy "rolling" { batch = "group" }`,
		FleetDir:      f.demo.Dir,
		DemoBin:       f.demo.Bin,
	}
	return f
}

func (f *fleet) addrs() []string { return append(append([]string(nil), f.groupA...), f.groupB...) }

// releaser writes the configuration for version and opens it; known carries the
// versions earlier applies deployed.
func (f *fleet) releaser(version string, known map[string]map[string]string) *demo.Releaser {
	f.t.Helper()
	f.cfg.Version = version
	if err := f.cfg.WriteConfig(f.dir, f.demo.Script); err != nil {
		f.t.Fatal(err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "nonstop", Level: hclog.Info, Output: testWriter{f.t}})
	r, err := demo.Open(f.dir, lang.LoadOptions{}, logger)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = r.Close() })
	r.Events = executor.LineSink(testWriter{f.t})
	if known != nil {
		r.Known = known
	}
	return r
}

// startLoad starts the three paths: nginx, HAProxy and a registry consumer. It
// waits until the consumer sees every instance.
func (f *fleet) startLoad(instances int) *demo.Load {
	f.t.Helper()
	consumer, err := demo.NewConsumer(registry.NacosAddr, f.service, "DEFAULT_GROUP", f.t.TempDir())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(consumer.Close)
	deadline := time.Now().Add(15 * time.Second)
	for len(consumer.Instances()) < instances {
		if time.Now().After(deadline) {
			f.t.Fatalf("the consumer sees %v, want %d instances", consumer.Instances(), instances)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return demo.StartLoad(loadRate, loadMax,
		demo.HTTPPath("nginx", "http://"+f.nginx.Addr()),
		demo.HTTPPath("haproxy", f.haproxy.URL("www")),
		consumer.Path("registry"))
}

// release plans (asserting the plan passed its safety check) and applies it while
// the load runs, and returns the apply's result, error and wall time.
func (f *fleet) release(r *demo.Releaser) (*executor.Result, time.Duration, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, p, err := r.Plan(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(p.Steps) == 0 {
		f.t.Fatal("the plan has no steps")
	}
	var b strings.Builder
	_ = planner.RenderHuman(&b, p)
	f.t.Logf("plan:\n%s", b.String())
	res, elapsed, err := r.Apply(ctx, p)
	f.t.Logf("apply took %s: %v", elapsed.Round(time.Millisecond), err)
	return res, elapsed, err
}

// stopLoad stops the load and asserts that no request failed on any path and that
// each path had at least min successes.
func (f *fleet) stopLoad(l *demo.Load, min int64) []demo.Counts {
	f.t.Helper()
	counts := l.Stop()
	for _, c := range counts {
		f.t.Logf("load %s", c)
		if c.Failed > 0 {
			f.t.Errorf("path %s: %d of %d requests failed, first at %v: %v", c.Name, c.Failed, c.OK+c.Failed, stamps(c.FailedAt), c.Errors)
		}
		if c.OK < min {
			f.t.Errorf("path %s: %d successful requests, want at least %d", c.Name, c.OK, min)
		}
	}
	return counts
}

func stamps(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format("15:04:05.000")
	}
	return out
}

// instanceView is what a test asserts about one instance, gathered from the
// registry, both balancers and the instance itself.
type instanceView struct {
	Version  string // from GET /version, directly
	Registry string // "serving", "disabled" or "missing"
	Nginx    string // "serving" or "out"
	HAProxy  string
}

const serving, out = "serving", "out"

// view refreshes the live state and describes every instance.
func (f *fleet) view(r *demo.Releaser) map[string]instanceView {
	f.t.Helper()
	live, err := r.Refresh(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	ls := live.Services[f.service]
	if ls == nil {
		f.t.Fatalf("refresh saw no service %s", f.service)
	}
	got := map[string]instanceView{}
	for _, a := range f.addrs() {
		v := instanceView{Version: directVersion(f.t, a), Registry: "missing"}
		if in, ok := ls.Instances[a]; ok {
			v.Registry = "disabled"
			if in.Enabled && in.Healthy && in.Weight > 0 {
				v.Registry = serving
				if !in.VersionKnown || in.Version != v.Version {
					f.t.Errorf("%s: registry version %q (known %t), the instance says %q", a, in.Version, in.VersionKnown, v.Version)
				}
			}
		}
		v.Nginx = memberView(ls.Balancers["nginx"], a)
		v.HAProxy = memberView(ls.Balancers["haproxy"], a)
		got[a] = v
	}
	return got
}

func memberView(members []providers.Member, addr string) string {
	for _, m := range members {
		if m.Address == addr {
			if m.State == providers.StateReady && m.Weight > 0 {
				return serving
			}
			return out
		}
	}
	return "missing"
}

// directVersion asks the instance itself for its version.
func directVersion(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/version")
	if err != nil {
		return "unreachable"
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// want builds the expected view of addrs.
func want(m map[string]instanceView, addrs []string, version string, servingNow bool) {
	for _, a := range addrs {
		if servingNow {
			m[a] = instanceView{Version: version, Registry: serving, Nginx: serving, HAProxy: serving}
		} else {
			m[a] = instanceView{Version: version, Registry: "disabled", Nginx: out, HAProxy: out}
		}
	}
}

// assertNoChanges asserts that a fresh plan has no steps.
func (f *fleet) assertNoChanges(r *demo.Releaser) {
	f.t.Helper()
	_, p, err := r.Plan(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	if len(p.Steps) != 0 {
		var b strings.Builder
		_ = planner.RenderHuman(&b, p)
		f.t.Errorf("a second plan has %d steps, want none:\n%s", len(p.Steps), b.String())
	}
}

// testWriter sends lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
