package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"

	// The provider kinds the demo configuration uses.
	_ "github.com/nonstop-release/nonstop/providers/haproxy"
	_ "github.com/nonstop-release/nonstop/providers/nacos"
	_ "github.com/nonstop-release/nonstop/providers/nginx"
)

const (
	pool = "order_backend"
	// loadRate is each path's requests per second; loadMax bounds each path's count.
	loadRate = 30
	loadMax  = loadRate * 300
	// minAvailable is the configuration's min_available: each group has two
	// instances, so every strategy keeps two serving on every path.
	minAvailable = 2
	// startDelay and warmup make the instances behave like real applications: the
	// deploy returns at once, the port opens startDelay later, and for warmup every
	// request (health included) answers 503.
	startDelay = 3 * time.Second
	warmup     = time.Second
	// sampleEvery is how often the samplers count each path's serving members.
	sampleEvery = 100 * time.Millisecond
)

// fleet is one test's systems: its own nginx, HAProxy and four instances in groups
// a and b, registered as its own service in the package's Polaris.
type fleet struct {
	t       testing.TB
	service string
	groupA  []string
	groupB  []string
	nginx   *testfleet.Nginx
	haproxy *testfleet.HAProxy
	demo    *testfleet.DemoFleet
	dir     string // configuration directory
	cfg     demo.Config
	// progress keeps the applies' progress and log lines (see progressLog).
	progress *progressLog

	consumer *demo.Consumer
}

// fleetOption adjusts a fleet before its first deploy.
type fleetOption func(*testfleet.DemoFleet)

// fastStart makes the instances start at once, without warm-up.
func fastStart(f *testfleet.DemoFleet) { f.StartDelay, f.Warmup = 0, 0 }

// newFleet starts the fleet with every instance at version through deploy.sh.
// Its instances start slowly and warm up (startDelay, warmup) unless an option
// says otherwise.
func newFleet(t testing.TB, service, version string, opts ...fleetOption) *fleet {
	t.Helper()
	addrs := make([]string, 4)
	for i := range addrs {
		port, err := testfleet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	f := &fleet{t: t, service: service, groupA: addrs[:2], groupB: addrs[2:], dir: t.TempDir(), progress: newProgressLog(t)}
	f.demo = testfleet.StartDemoFleetWith(t, registry.NacosAddr, service, addrs, version, func(d *testfleet.DemoFleet) {
		d.StartDelay, d.Warmup = startDelay, warmup
		for _, o := range opts {
			o(d)
		}
	})
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
		MinAvailable:  minAvailable,
		HealthTimeout: "30s",
	}
	consumer, err := demo.NewConsumer(registry.NacosAddr, service, "DEFAULT_GROUP", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(consumer.Close)
	f.consumer = consumer
	return f
}

func (f *fleet) addrs() []string { return append(append([]string(nil), f.groupA...), f.groupB...) }

// releaser is one version of the fleet's configuration, released the way
// `nonstop apply -auto-approve` releases it: by operation.Apply, under the lock of
// the local state in the configuration directory, which keeps the journal, the
// history and the versions earlier applies deployed.
type releaser struct {
	cfg *lang.Config
	log hclog.Logger
	// events also receives the apply's progress events when set.
	events executor.EventSink
}

// releaser writes the configuration for version and loads it.
func (f *fleet) releaser(version string) *releaser {
	f.t.Helper()
	f.cfg.Version = version
	if err := f.cfg.WriteConfig(f.dir, f.demo.Script); err != nil {
		f.t.Fatal(err)
	}
	cfg, ds := lang.LoadDir(f.dir, lang.LoadOptions{})
	if ds.HasErrors() {
		f.t.Fatalf("load %s: %v", f.dir, ds.Err())
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "nonstop", Level: hclog.Info, Output: f.progress})
	return &releaser{cfg: cfg, log: logger}
}

// options are the operation options of r: what `nonstop apply -auto-approve DIR`
// passes, with the test log as the progress view.
func (f *fleet) options(r *releaser) operation.Options {
	var events executor.EventSink = views.LineSink(f.progress)
	if r.events != nil {
		events = executor.MultiSink(events, r.events)
	}
	return operation.Options{
		Config:      r.cfg,
		Dir:         f.dir,
		AutoApprove: true,
		Events:      events,
		Logger:      r.log,
		View:        &testView{t: f.t, f: f, r: r},
	}
}

// traffic is the load on the three paths and the samplers that count, every
// sampleEvery, the members each path really routes to.
type traffic struct {
	load    *demo.Load
	sampler *demo.Sampler
	started time.Time
	// checksUp is what the sampler saw of HAProxy's checks (drained members
	// included), set by stopLoad: it tells when HAProxy confirmed a restart.
	checksUp demo.PathServing
	// paths is what the sampler saw of each path, set by stopLoad.
	paths []demo.PathServing
	// lenient names paths whose failures and capacity stopLoad logs instead of
	// failing the test, with why: a fault nonstop cannot keep from that path.
	lenient map[string]string
}

// checksUpPath names the sampler's count of the members HAProxy's checks have up,
// whatever their state: not a path requests take.
const checksUpPath = "haproxy checks up"

// waitServing waits until every path sees the instances: the consumer lists them
// and HAProxy's checks have them up. A plan made earlier sees members the
// balancer does not route to yet.
func (f *fleet) waitServing(instances int) {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	checksUp := demo.HAProxyServing("haproxy", f.haproxy.TCPURL(), pool)
	for {
		up, err := checksUp.Members()
		if len(f.consumer.Instances()) >= instances && err == nil && len(up) >= instances {
			break
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("before the load: the consumer sees %v and HAProxy serves %v (%v), want %d instances",
				f.consumer.Instances(), up, err, instances)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// HAProxy reports a server UP before its first check: as many servers as the
	// caller expects must have passed one (a blue-green standby at weight 0 never
	// serves, so only the count is asked for).
	for {
		confirmed, _, err := f.haproxy.Confirmed(pool)
		if err == nil && confirmed >= instances {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("before the load: %d HAProxy servers passed a check (%v), want %d", confirmed, err, instances)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startLoad starts the three paths: nginx, HAProxy and a registry consumer that
// re-selects a healthy instance every second. It first waits until every path
// sees the instances: the consumer lists them and HAProxy's checks have them up.
func (f *fleet) startLoad(instances int) *traffic {
	f.t.Helper()
	f.waitServing(instances)
	sampler := demo.StartSampler(sampleEvery,
		demo.NginxServing("nginx", f.nginx.UpstreamsFile, pool),
		demo.HAProxyServing("haproxy", f.haproxy.TCPURL(), pool),
		f.consumer.Serving("registry"),
		demo.HAProxyChecksUp(checksUpPath, f.haproxy.TCPURL(), pool))
	load := demo.StartLoad(loadRate, loadMax,
		demo.HTTPPath("nginx", "http://"+f.nginx.Addr()),
		demo.HTTPPath("haproxy", f.haproxy.URL("www")),
		f.consumer.Path("registry"))
	return &traffic{load: load, sampler: sampler, started: time.Now()}
}

// release applies r with operation.Apply while the load runs (the plan is
// checked for safety once more on its own by the view) and returns the apply's
// result, error and wall time. An apply that stops before running any step
// fails the test.
func (f *fleet) release(r *releaser) (*executor.Result, time.Duration, error) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	res := operation.Apply(ctx, f.options(r))
	elapsed := time.Since(start)
	switch {
	case res.NoChanges:
		f.t.Fatal("the plan has no steps")
	case !res.Ran:
		f.t.Fatalf("the apply ran no step: %v", res.Err)
	}
	f.t.Logf("apply took %s: %v", elapsed.Round(time.Millisecond), res.Err)
	return res.Apply, elapsed, res.Err
}

// stopLoad stops the load and the samplers and asserts, for every path: no
// request failed; at least half the requests the rate promises succeeded; and
// the path never routed to fewer than need members (as the path itself sees them:
// HAProxy's own checks and states, nginx's upstream set, the consumer's list).
func (f *fleet) stopLoad(tr *traffic, need int) []demo.Counts {
	f.t.Helper()
	ran := time.Since(tr.started)
	counts := tr.load.Stop()
	paths := tr.sampler.Stop()
	tr.paths = paths
	// Half the promised rate: the load must not stall (which would hide failures),
	// while a busy 2-core machine may slow it.
	minOK := int64(0.5 * loadRate * ran.Seconds())
	for _, c := range counts {
		f.t.Logf("load %s", c)
		if why, ok := tr.lenient[c.Name]; ok {
			if c.Failed > 0 {
				f.t.Logf("path %s: %d of %d requests failed (%s): %v", c.Name, c.Failed, c.OK+c.Failed, why, c.Errors)
			}
			continue
		}
		if c.Failed > 0 {
			f.t.Errorf("path %s: %d of %d requests failed, first at %v: %v", c.Name, c.Failed, c.OK+c.Failed, stamps(c.FailedAt), c.Errors)
		}
		if c.OK < minOK {
			f.t.Errorf("path %s: %d successful requests in %s, want at least %d", c.Name, c.OK, ran.Round(time.Millisecond), minOK)
		}
	}
	for _, p := range paths {
		f.t.Logf("serving %s", p)
		if p.Name == checksUpPath {
			tr.checksUp = p
			continue
		}
		if p.Samples < int(ran/sampleEvery)/2 {
			f.t.Errorf("path %s: only %d samples in %s (%d errors, last %s)", p.Name, p.Samples, ran.Round(time.Millisecond), p.Errors, p.LastError)
		}
		if why, ok := tr.lenient[p.Name]; ok {
			f.t.Logf("path %s: fewest members %d (%s)", p.Name, p.Min, why)
			continue
		}
		if p.Min < need {
			f.t.Errorf("path %s routed to %d members at %s, fewer than the %d it must keep", p.Name, p.Min, p.MinAt.UTC().Format("15:04:05.000"), need)
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
func (f *fleet) view(r *releaser) map[string]instanceView {
	f.t.Helper()
	live, ds := operation.Refresh(context.Background(), f.options(r))
	if ds.HasErrors() {
		f.t.Fatalf("refresh: %v", ds.Err())
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
			if m.Serving() { // by its weight, state and the balancer's own checks
				return serving
			}
			return out
		}
	}
	return "missing"
}

// directVersion asks the instance itself for its version.
func directVersion(t testing.TB, addr string) string {
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

// assertNoChanges asserts that a fresh plan (operation.Plan, as `nonstop plan`
// makes it, with the versions from the state) has no steps.
func (f *fleet) assertNoChanges(r *releaser) {
	f.t.Helper()
	p, ds := operation.Plan(context.Background(), f.options(r))
	if ds.HasErrors() {
		f.t.Fatalf("plan: %v", ds.Err())
	}
	if len(p.Steps) != 0 {
		var b strings.Builder
		_ = views.RenderPlan(&b, p)
		f.t.Errorf("a second plan has %d steps, want none:\n%s", len(p.Steps), b.String())
	}
}

// testView is the operation's view in a test: everything goes to the test log,
// an error diagnostic fails the test, and each plan is checked for safety on its
// own against the live state it was made from.
type testView struct {
	t testing.TB
	f *fleet
	r *releaser
}

func (v *testView) Diagnostics(ds diags.Diagnostics) {
	v.t.Helper()
	for _, d := range ds {
		if d.Severity == diags.Error {
			v.t.Errorf("diagnostic: %v", d)
		} else {
			v.t.Logf("diagnostic: %v", d)
		}
	}
}

func (v *testView) Interrupted(j *state.Journal) {
	v.t.Errorf("an earlier apply (%s) did not finish", j.ApplyID)
}

// Plan logs the plan and checks its safety against a fresh refresh: nothing
// changes the fleet between the plan and this call.
func (v *testView) Plan(p *planner.Plan) error {
	var b strings.Builder
	_ = views.RenderPlan(&b, p)
	v.t.Logf("plan:\n%s", b.String())
	live, ds := operation.Refresh(context.Background(), operation.Options{Config: v.r.cfg, Dir: v.f.dir})
	if ds.HasErrors() {
		return ds.Err()
	}
	if ds := planner.CheckSafety(v.r.cfg, live, p); ds.HasErrors() {
		v.t.Errorf("the plan fails its safety check: %v", ds.Err())
	}
	return nil
}

func (v *testView) Approve(*planner.Plan) bool {
	v.t.Error("an auto-approved apply asked for approval")
	return false
}

func (v *testView) Result(r *operation.Result) {
	if r.Apply != nil {
		v.t.Logf("result: %s", r.Apply.Summary())
	}
	if r.UnlockErr != nil {
		v.t.Errorf("releasing the state lock: %v", r.UnlockErr)
	}
}

// progressLog holds the applies' progress and log lines. With -v they go to
// t.Log as they come; otherwise they are kept, and a failed test ends with the
// last progressTail of them: CI shows the head and the tail of a failed test's
// output, and hundreds of progress lines in between used to push the failure's
// own message out of both.
type progressLog struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

// newProgressLog makes a test's progressLog. Call it before the fleet registers
// its other cleanups: cleanups run last first, so the progress ends a failed
// test's output.
func newProgressLog(t testing.TB) *progressLog {
	p := &progressLog{t: t}
	t.Cleanup(p.dump)
	return p
}

// progressTail is how many progress lines a failed test prints at its end.
const progressTail = 40

func (p *progressLog) Write(b []byte) (int, error) {
	if testing.Verbose() {
		return testWriter{p.t}.Write(b)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, strings.Split(strings.TrimRight(string(b), "\n"), "\n")...)
	return len(b), nil
}

// dump prints the last progressTail lines of a failed test.
func (p *progressLog) dump() {
	if !p.t.Failed() || testing.Verbose() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.lines[max(0, len(p.lines)-progressTail):]
	p.t.Logf("the applies' last %d of %d progress lines (all with -v):\n%s", len(lines), len(p.lines), strings.Join(lines, "\n"))
}

// testWriter sends lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
