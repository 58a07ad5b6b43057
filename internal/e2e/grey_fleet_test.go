package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/internal/demo"
	fleetpkg "github.com/nonstop-release/nonstop/internal/fleet"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// examples/grey-by-id as the example names it: the service, its route and the
// first id of the new records.
const (
	greyService   = "order-service"
	greyRoute     = "new-records"
	greyThreshold = 5000000
)

// newGreyFleet starts the fleet examples/grey-by-id runs on: four slow-starting
// instances of order-service at version in groups a and b, nginx in front of
// them, and HAProxy with active checks whose frontend compares query parameter
// id through its number map (the rules of providers/haproxy/numbers.go) and
// declares the route's backend order_backend__new-records with every instance.
// It is newFleet's fleet but for HAProxy's configuration; the example, not
// demo.Config, is the configuration (greyReleaser).
func newGreyFleet(t *testing.T, version string) *fleet {
	t.Helper()
	addrs := make([]string, 4)
	for i := range addrs {
		port, err := testfleet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	f := &fleet{t: t, service: greyService, groupA: addrs[:2], groupB: addrs[2:], dir: t.TempDir(), progress: newProgressLog(t)}
	f.demo = testfleet.StartDemoFleetWith(t, registry.NacosAddr, greyService, addrs, version, func(d *testfleet.DemoFleet) {
		d.StartDelay, d.Warmup = startDelay, warmup
	})
	t.Cleanup(func() {
		if t.Failed() {
			for _, a := range addrs {
				t.Logf("log of %s:\n%s", a, f.demo.Log(a))
			}
		}
	})
	f.nginx = testfleet.StartEdgeNginx(t, pool, addrs)
	numbers := "{dir}/routes-number.map"
	f.haproxy = testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends: []testfleet.HAProxyBackend{
			{Name: pool, Servers: addrs},
			{Name: pool + "__" + greyRoute, Servers: addrs},
		},
		Frontends: []testfleet.HAProxyFrontend{{Name: "www", DefaultBackend: pool, Rules: []string{
			"http-request set-var(txn.ns_q_id) urlp(id)",
			"http-request set-var(txn.ns_num_id) str(" + pool + "/query/id=),concat(,txn.ns_q_id,)",
			"use_backend %[var(txn.ns_num_id),map_reg(" + numbers + "),field(1,|)] if { var(txn.ns_num_id),map_reg(" + numbers + ") -m found }",
		}}},
	})
	// HAProxy counts a server UP before its first check; the plan does not
	// (providers/haproxy: the last finished check), and startLoad's wait takes
	// HAProxy's word. Wait for a passed check of every server.
	for _, be := range []string{pool, pool + "__" + greyRoute} {
		if err := f.haproxy.WaitConfirmed(be, 15*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	consumer, err := demo.NewConsumer(registry.NacosAddr, greyService, "DEFAULT_GROUP", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(consumer.Close)
	f.consumer = consumer
	return f
}

// routeBlock is the example's route block, with its comment.
var routeBlock = regexp.MustCompile(`(?ms)^  route "new-records" \{\n.*?^  \}\n`)

// greyReleaser writes examples/grey-by-id with the fleet's variables and
// version, and loads it. Without route the route block is left out: the
// configuration once the migration is over.
func (f *fleet) greyReleaser(version string, route bool) *releaser {
	t := f.t
	t.Helper()
	root, err := fleetpkg.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	example := filepath.Join(root, "examples", "grey-by-id")
	text, err := os.ReadFile(filepath.Join(example, "main.ns.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !route {
		if n := len(routeBlock.FindAllIndex(text, -1)); n != 1 {
			t.Fatalf("examples/grey-by-id/main.ns.hcl: want one route %q block, found %d", greyRoute, n)
		}
		text = routeBlock.ReplaceAll(text, nil)
	}
	script, err := os.ReadFile(filepath.Join(example, "deploy.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "main.ns.hcl"), text, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.dir, "deploy.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"order_version":             demo.HCLString(version),
		"nacos":                     demo.HCLString(registry.NacosAddr),
		"polaris":                   demo.HCLString(registry.NativeAddr),
		"upstreams_file":            demo.HCLString(f.nginx.UpstreamsFile),
		"nginx_test":                demo.HCLList(f.nginx.Command("-t")),
		"nginx_reload":              demo.HCLList(f.nginx.Command("-s", "reload")),
		"haproxy_api":               demo.HCLString(f.haproxy.TCPURL()),
		"haproxy_routes_number_map": demo.HCLString(f.haproxy.RoutesNumberMap),
		"group_a":                   demo.HCLList(f.groupA),
		"group_b":                   demo.HCLList(f.groupB),
		"deploy_env": demo.HCLMap(map[string]string{
			"NONSTOP_DEPLOY_HOOK": f.demo.Script,
			"NONSTOP_DEMO_DIR":    f.demo.Dir,
			"NONSTOP_DEMO_BIN":    f.demo.Bin,
			"NONSTOP_DEMO_NACOS":  registry.NacosAddr,
		}),
	}
	varFile := filepath.Join(f.dir, "fleet.nsvars")
	if err := demo.WriteVarFile(varFile, demo.DeclaredVariables(text), vars); err != nil {
		t.Fatal(err)
	}
	cfg, ds := lang.LoadDir(f.dir, lang.LoadOptions{VarFiles: []string{varFile}})
	if ds.HasErrors() {
		t.Fatalf("load %s: %v", f.dir, ds.Err())
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "nonstop", Level: hclog.Info, Output: f.progress})
	return &releaser{cfg: cfg, log: logger}
}

// greyCase is one kind of request the probes send: its id parameter (none when
// omitted) and whether the route must send it to the new version.
type greyCase struct {
	name  string
	query string // appended to demo.WorkPath
	isNew bool
}

var greyCases = []greyCase{
	{"N-1", fmt.Sprintf("&id=%d", greyThreshold-1), false},
	{"N", fmt.Sprintf("&id=%d", greyThreshold), true},
	{"N+1", fmt.Sprintf("&id=%d", greyThreshold+1), true},
	{"leading zeros", fmt.Sprintf("&id=%010d", greyThreshold), true},
	{"not a number", "&id=5e6", false},
	{"no id", "", false},
}

// probe is one answer to a probe request.
type probe struct {
	at       time.Time // when it was sent
	lb       string    // "nginx" or "haproxy"
	c        greyCase
	status   int    // 0 when there was no answer
	err      string // transport error or unreadable answer
	version  string
	servedBy string // nginx's X-Upstream address, HAProxy's "backend/server@address"
	// upstream is the pool or route upstream the balancer chose: nginx's
	// X-Upstream-Name, the backend in HAProxy's X-Served-By.
	upstream string
}

func (p probe) ok() bool { return p.status == http.StatusOK && p.err == "" }

func (p probe) String() string {
	if !p.ok() {
		return fmt.Sprintf("%s %s %q at %s: status %d %s", p.lb, p.c.name, p.c.query, p.at.UTC().Format("15:04:05.000"), p.status, p.err)
	}
	return fmt.Sprintf("%s %s %q at %s: %s from %s (%s)", p.lb, p.c.name, p.c.query, p.at.UTC().Format("15:04:05.000"), p.version, p.servedBy, p.upstream)
}

// prober sends every greyCase through each balancer every interval until stopped,
// one request at a time on a new connection, never retried.
type prober struct {
	bases    map[string]string // balancer name → base URL
	client   *http.Client
	interval time.Duration

	mu     sync.Mutex
	probes []probe
	cancel context.CancelFunc
	done   chan struct{}
}

func startProber(bases map[string]string, interval time.Duration) *prober {
	ctx, cancel := context.WithCancel(context.Background())
	p := &prober{
		bases:    bases,
		client:   &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
		interval: interval,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			for _, lb := range []string{"nginx", "haproxy"} {
				for _, c := range greyCases {
					p.record(p.send(lb, c))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *prober) send(lb string, c greyCase) probe {
	pr := probe{at: time.Now(), lb: lb, c: c}
	resp, err := p.client.Get(strings.TrimSuffix(p.bases[lb], "/") + demo.WorkPath + c.query)
	if err != nil {
		pr.err = err.Error()
		return pr
	}
	defer resp.Body.Close()
	pr.status = resp.StatusCode
	if lb == "nginx" {
		pr.servedBy, pr.upstream = resp.Header.Get("X-Upstream"), resp.Header.Get("X-Upstream-Name")
	} else {
		pr.servedBy = resp.Header.Get("X-Served-By")
		pr.upstream, _, _ = strings.Cut(pr.servedBy, "/")
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		pr.err = "read body: " + err.Error()
		return pr
	}
	pr.version = strings.TrimSpace(strings.TrimPrefix(string(body), "done "))
	return pr
}

func (p *prober) record(pr probe) {
	p.mu.Lock()
	p.probes = append(p.probes, pr)
	p.mu.Unlock()
}

// stop stops the prober and returns every probe, oldest first.
func (p *prober) stop() []probe {
	p.cancel()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]probe(nil), p.probes...)
}

// greyEvents watches an apply: when each balancer's first route.set ended and
// its first balancer.switch began, and when the manual pause began; it resumes
// that pause hold after it began by appending its step id to resumeFile, as
// `nonstop resume` does for local state.
type greyEvents struct {
	hold       time.Duration
	resumeFile string

	mu          sync.Mutex
	routeSet    map[string]time.Time // provider → first route.set complete
	switchStart map[string]time.Time // provider → first balancer.switch start
	pauseStart  time.Time
	pauseStep   string
	resumedAt   time.Time
	resumeErr   error
}

func newGreyEvents(hold time.Duration, resumeFile string) *greyEvents {
	return &greyEvents{hold: hold, resumeFile: resumeFile,
		routeSet: map[string]time.Time{}, switchStart: map[string]time.Time{}}
}

func (g *greyEvents) Emit(e executor.Event) {
	if e.Step == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	prov := e.Step.Args.Provider
	switch {
	case e.Type == executor.EventStepComplete && e.Step.Kind == planner.RouteSet:
		if _, ok := g.routeSet[prov]; !ok {
			g.routeSet[prov] = e.Time
		}
	case e.Type == executor.EventStepStart && e.Step.Kind == planner.BalancerSwitch:
		if _, ok := g.switchStart[prov]; !ok {
			g.switchStart[prov] = e.Time
		}
	case e.Type == executor.EventStepStart && e.Step.Kind == planner.Pause && e.Step.Args.UntilResumed && g.pauseStep == "":
		g.pauseStart, g.pauseStep = e.Time, e.Step.ID
		step := e.Step.ID
		time.AfterFunc(g.hold, func() { g.resume(step) })
	}
}

// resume appends step to the resume file the running apply watches.
func (g *greyEvents) resume(step string) {
	err := appendResume(g.resumeFile, step)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.resumedAt, g.resumeErr = time.Now(), err
}

func appendResume(path, step string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(fh, step); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// times returns what the events recorded.
func (g *greyEvents) times() (routeSet, switchStart map[string]time.Time, pauseStart, resumedAt time.Time, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.routeSet, g.switchStart, g.pauseStart, g.resumedAt, g.resumeErr
}
