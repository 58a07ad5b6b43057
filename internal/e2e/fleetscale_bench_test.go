package e2e

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/executor"
	"github.com/nonstop-release/nonstop/executor/operation"
	fleetpkg "github.com/nonstop-release/nonstop/internal/fleet"
	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// fleetScaleSizes are the numbers of services BenchmarkFleetScale releases at once
// unless NONSTOP_FLEETSCALE_SIZES lists others ("1,8,16").
var fleetScaleSizes = []int{1, 8, 16, 32, 100}

// fleetScaleShapes are the fleets BenchmarkFleetScale releases unless
// NONSTOP_FLEETSCALE_SHAPES names some of them ("registry").
var fleetScaleShapes = []string{"registry", "balancers"}

// scalePropagation is every service's drain propagation in the fleet-scale
// benchmark (the measurement: 2 s).
const scalePropagation = 2 * time.Second

// BenchmarkFleetScale releases 1, 8, 16, 32 and 100 services at once at default
// settings (-parallelism 10, -parallelism-per-host 10; NONSTOP_FLEETSCALE_PARALLELISM
// sets both) and reports the wall time
// per size, its ratio to one service's, and the most writes each provider had in
// flight at once, counted by a proxy around each provider. Each service has four
// instances of the demo-service (fast start) in groups a and b, released rolling
// by group with a 2 s propagation. Shape "registry": registry-only services on
// Polaris; shape "balancers": each service also behind its own upstream in one
// nginx and its own backend in one HAProxy (with active checks). Every instance
// of the fleet runs on 127.0.0.1, so the per-host deploy bound applies to all.
//
//	go test ./internal/e2e -run '^$' -bench FleetScale -benchtime 1x -timeout 60m
//
// It fails when a provider received more concurrent writes than the bound or a
// release failed; the wall-time target (≤ 1.3 × one service) is reported, not
// asserted: a timed assertion on a shared 2-core machine would be fragile.
func BenchmarkFleetScale(b *testing.B) {
	sizes := envSizes(b)
	var rows []scaleRow
	for _, shape := range envShapes() {
		b.Run(shape, func(b *testing.B) {
			sf := newScaleFleet(b, shape, sizes[len(sizes)-1])
			var one time.Duration
			for _, n := range sizes {
				b.Run(strconv.Itoa(n), func(b *testing.B) {
					var wall time.Duration
					for range b.N {
						row := sf.release(b, n)
						wall += row.wall
						if n == 1 && one == 0 {
							one = row.wall
						}
						row.one = one
						rows = append(rows, row)
						b.Logf("%s", row.markdown())
					}
					b.ReportMetric(wall.Seconds()/float64(b.N), "wall-s/op")
					if one > 0 {
						b.ReportMetric(wall.Seconds()/float64(b.N)/one.Seconds(), "ratio")
					}
					b.ReportMetric(0, "ns/op")
				})
			}
		})
	}
	var out strings.Builder
	out.WriteString("\n| shape | services | instances | wall | × one service | most concurrent writes (bound) per provider | outcome | load avg at start |\n")
	out.WriteString("|---|---:|---:|---:|---:|---|---|---:|\n")
	for _, r := range rows {
		out.WriteString(r.markdown() + "\n")
	}
	// On stdout: a parent benchmark's log is not printed once it has sub-benchmarks.
	fmt.Println(out.String())
}

// scaleRow is one release of the benchmark.
type scaleRow struct {
	shape    string
	services int
	wall     time.Duration
	one      time.Duration
	writes   string
	load     string
	// outcome lists the services that did not apply, "" when all did.
	outcome string
}

func (r scaleRow) markdown() string {
	ratio := "–"
	if r.one > 0 {
		ratio = fmt.Sprintf("%.2f", r.wall.Seconds()/r.one.Seconds())
	}
	outcome := "all applied"
	if r.outcome != "" {
		outcome = r.outcome
	}
	return fmt.Sprintf("| %s | %d | %d | %.1f s | %s | %s | %s | %s |", r.shape, r.services, 4*r.services,
		r.wall.Seconds(), ratio, r.writes, outcome, r.load)
}

// scaleParallelism is -parallelism and -parallelism-per-host of the releases:
// NONSTOP_FLEETSCALE_PARALLELISM, else the defaults (10).
func scaleParallelism(b *testing.B) int {
	v := os.Getenv("NONSTOP_FLEETSCALE_PARALLELISM")
	if v == "" {
		return executor.DefaultParallelism
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("NONSTOP_FLEETSCALE_PARALLELISM: %q is not a whole number of at least 1", v)
	}
	return n
}

// envSizes returns the sizes to release, in increasing order.
func envSizes(b *testing.B) []int {
	v := os.Getenv("NONSTOP_FLEETSCALE_SIZES")
	if v == "" {
		return fleetScaleSizes
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("NONSTOP_FLEETSCALE_SIZES: %q is not a number of services", f)
		}
		out = append(out, n)
	}
	return out
}

func envShapes() []string {
	if v := os.Getenv("NONSTOP_FLEETSCALE_SHAPES"); v != "" {
		return strings.Split(v, ",")
	}
	return fleetScaleShapes
}

// scaleFleet is the benchmark's fleet: services fs-000, fs-001, ... with four
// demo-service instances each, all registered in the package's Polaris, and for
// shape "balancers" one nginx and one HAProxy with a pool per service.
type scaleFleet struct {
	shape    string
	dir      string
	fleetDir string
	demoBin  string
	services []scaleService
	nginx    *testfleet.Nginx
	haproxy  *testfleet.HAProxy
	version  int
}

type scaleService struct {
	Name           string
	Pool           string
	GroupA, GroupB []string
}

// newScaleFleet starts n services' instances at 1.0.0, a few services at a time.
func newScaleFleet(b *testing.B, shape string, n int) *scaleFleet {
	b.Helper()
	sf := &scaleFleet{shape: shape, dir: b.TempDir(), fleetDir: b.TempDir(), version: 0}
	seen := map[string]bool{}
	for i := range n {
		s := scaleService{Name: fmt.Sprintf("fs-%s-%03d", shape, i), Pool: fmt.Sprintf("fs_%03d", i)}
		var addrs []string
		for len(addrs) < 4 {
			port, err := scalePort()
			if err != nil {
				b.Fatal(err)
			}
			a := fmt.Sprintf("127.0.0.1:%d", port)
			if !seen[a] {
				seen[a] = true
				addrs = append(addrs, a)
			}
		}
		s.GroupA, s.GroupB = addrs[:2], addrs[2:]
		sf.services = append(sf.services, s)
	}
	start := time.Now()
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, 8)
	for _, s := range sf.services {
		d, err := fleetpkg.NewDemoFleet(sf.fleetDir, registry.NacosAddr, s.Name)
		if err != nil {
			b.Fatal(err)
		}
		sf.demoBin = d.Bin
		b.Cleanup(d.Stop)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := d.DeployAll(append(append([]string(nil), s.GroupA...), s.GroupB...), "1.0.0"); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		b.Fatalf("starting %d services: %v", n, first)
	}
	b.Logf("%s: %d services (%d instances) started in %s", shape, n, 4*n, time.Since(start).Round(100*time.Millisecond))
	if shape == "balancers" {
		pools := map[string][]string{}
		var backends []testfleet.HAProxyBackend
		for _, s := range sf.services {
			all := append(append([]string(nil), s.GroupA...), s.GroupB...)
			pools[s.Pool] = all
			backends = append(backends, testfleet.HAProxyBackend{Name: s.Pool, Servers: all})
		}
		sf.nginx = testfleet.StartNginx(b, testfleet.NginxOptions{Pools: pools})
		sf.haproxy = testfleet.StartHAProxy(b, testfleet.HAProxyConfig{
			Backends:  backends,
			Frontends: []testfleet.HAProxyFrontend{{Name: "www", DefaultBackend: backends[0].Name}},
		})
		for _, s := range sf.services {
			if err := sf.haproxy.WaitConfirmed(s.Pool, 60*time.Second); err != nil {
				b.Fatal(err)
			}
		}
	}
	script, err := os.ReadFile(filepath.Join(mustModuleRoot(b), "examples", "demo", "deploy.sh"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sf.dir, "deploy.sh"), script, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sf.dir, "count-commits.sh"), []byte(countCommits), 0o755); err != nil {
		b.Fatal(err)
	}
	return sf
}

// scalePort returns a free port below the kernel's ephemeral range: the
// fleet's 400 instances, their SDK clients and Polaris open outgoing
// connections from ephemeral ports all the time, and a "free" ephemeral port
// picked for an instance was taken by one of them before the instance
// listened (bind: address already in use).
func scalePort() (int, error) {
	for range 1000 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port in 20000-31999")
}

func mustModuleRoot(b *testing.B) string {
	root, err := fleetpkg.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	return root
}

// release moves the first n services to the next version in one apply of every
// service of the configuration targeted at them, the way `nonstop apply
// -auto-approve -target ...` does at default settings.
func (sf *scaleFleet) release(b *testing.B, n int) scaleRow {
	b.Helper()
	sf.version++
	version := fmt.Sprintf("1.%d.0", sf.version)
	cfg := sf.writeConfig(b, version)
	provs, ds := planner.OpenProviders(cfg, nil)
	if ds.HasErrors() {
		b.Fatalf("open providers: %v", ds.Err())
	}
	counted, counters := countWrites(provs)
	defer provs.Close()
	var targets []string
	for _, s := range sf.services[:n] {
		targets = append(targets, s.Name)
	}
	sf.waitListed(b, provs, n)
	logger := hclog.New(&hclog.LoggerOptions{Name: "nonstop", Level: hclog.Warn, Output: testWriter{b}})
	failures, times := &failedSteps{}, &stepTimes{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	load := loadAverage()
	start := time.Now()
	times.start = start
	if name := os.Getenv("NONSTOP_FLEETSCALE_STEPS"); name != "" {
		f, err := os.Create(fmt.Sprintf("%s-%s-%d-%s", name, sf.shape, n, version))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		times.dump = f
	}
	reloads := 0
	if sf.nginx != nil {
		reloads = sf.nginx.Reloads()
	}
	par := scaleParallelism(b)
	res := operation.Apply(ctx, operation.Options{
		Config:         cfg,
		Dir:            sf.dir,
		Targets:        targets,
		AutoApprove:    true,
		Providers:      counted,
		Events:         executor.MultiSink(failures, times),
		Logger:         logger,
		Parallelism:    par,
		PerHostDeploys: par,
	})
	wall := time.Since(start)
	if res.Plan != nil {
		b.Logf("%s: %d services, %d steps, estimated %s, took %s; steps: %s", sf.shape, n, len(res.Plan.Steps),
			time.Duration(res.Plan.Summary.EstimatedWall), wall.Round(10*time.Millisecond), times)
	}
	if !res.Ran || res.Apply == nil || res.NoChanges {
		b.Fatalf("%s: release of %d services to %s ran no step: %v (no changes: %t)\n%s", sf.shape, n, version, res.Err, res.NoChanges, failures)
	}
	// A service that failed does not stop the others: the row says which and how
	// it ended, the wall time is the whole apply's.
	var outcome []string
	for _, name := range res.Apply.Order {
		if s := res.Apply.Services[name]; s.Outcome != executor.OutcomeApplied {
			outcome = append(outcome, fmt.Sprintf("%s %s", name, s.Outcome))
		}
	}
	if len(outcome) > 0 {
		b.Logf("%s: release of %d services to %s: %v\n%s", sf.shape, n, version, res.Err, failures)
	}
	var parts []string
	for _, c := range counters {
		most, total := c.read()
		if providers.CapabilitiesOf(c.ref.Kind).GroupsWrites {
			// nginx takes the writes sent at once in groups, one test and reload
			// each: what it receives at once are commits, counted by the test
			// command's wrapper.
			commits := sf.commitsAtOnce(b)
			if commits > par {
				b.Errorf("%s ran %d commits at once, more than the bound %d", c.ref, commits, par)
			}
			parts = append(parts, fmt.Sprintf("%s %d of %d commits (%d writes, %d at once; %d reloads)",
				c.ref, commits, par, total, most, sf.nginx.Reloads()-reloads))
			continue
		}
		if most > par {
			b.Errorf("%s received %d concurrent writes, more than the bound %d", c.ref, most, par)
		}
		parts = append(parts, fmt.Sprintf("%s %d of %d (%d writes)", c.ref, most, par, total))
		if readsMost, reads := c.readCounts(); reads > 0 {
			// Listings are not bounded: report them.
			b.Logf("%s: %d listings, %d at once, %.0f/s", c.ref, reads, readsMost, float64(reads)/wall.Seconds())
		}
	}
	return scaleRow{shape: sf.shape, services: n, wall: wall, writes: strings.Join(parts, ", "), load: load,
		outcome: strings.Join(outcome, ", ")}
}

// waitListed waits until the registry lists every instance of the first n
// services enabled and healthy: Polaris lists registrations and health with a
// lag, and a release planned before would see unregistered instances and skip
// their drains, or one instance not serving and (min_available = 2) release
// one instance at a time. Every release then starts from the same fleet.
func (sf *scaleFleet) waitListed(b *testing.B, provs planner.Providers, n int) {
	b.Helper()
	reg := provs[lang.ProviderRef{Kind: "nacos", Name: "registry"}].(providers.RegistryReader)
	deadline := time.Now().Add(60 * time.Second)
	for _, s := range sf.services[:n] {
		for {
			list, err := reg.Instances(context.Background(), providers.ServiceKey{Service: s.Name, Group: "DEFAULT_GROUP"})
			enabled := 0
			for _, in := range list {
				if in.Enabled && in.Healthy {
					enabled++
				}
			}
			if err == nil && enabled == 4 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: the registry lists %d enabled, healthy instances (%v), want 4", s.Name, enabled, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// stepTimes sums how long the steps of each kind took, from the step events.
type stepTimes struct {
	// dump, when set, receives a line per completed step: service, start and end
	// in seconds since start, kind and id (NONSTOP_FLEETSCALE_STEPS names the file).
	dump  *os.File
	start time.Time

	mu    sync.Mutex
	n     map[string]int
	total map[string]time.Duration
	most  map[string]time.Duration
}

func (s *stepTimes) Emit(e executor.Event) {
	if e.Type != executor.EventStepComplete || e.Step == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dump != nil {
		fmt.Fprintf(s.dump, "%s %.3f %.3f %s %s\n", e.Step.Service, e.Time.Sub(s.start).Seconds()-e.Elapsed.Seconds(),
			e.Time.Sub(s.start).Seconds(), e.Step.Kind, e.Step.ID)
	}
	if s.n == nil {
		s.n, s.total, s.most = map[string]int{}, map[string]time.Duration{}, map[string]time.Duration{}
	}
	k := string(e.Step.Kind)
	s.n[k]++
	s.total[k] += e.Elapsed
	s.most[k] = max(s.most[k], e.Elapsed)
}

// String is "deploy 64× mean 310ms max 900ms, ...".
func (s *stepTimes) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s.n)) {
		parts = append(parts, fmt.Sprintf("%s %d× mean %s max %s", k, s.n[k],
			(s.total[k]/time.Duration(s.n[k])).Round(time.Millisecond), s.most[k].Round(time.Millisecond)))
	}
	return strings.Join(parts, ", ")
}

// countCommits wraps nginx's test command, which every commit of the nginx
// provider runs once before its reload: it records how many run at once.
const countCommits = `#!/bin/sh
# count-commits.sh DIR COMMAND...: runs COMMAND, appending to DIR/counts how many
# runs were in progress when it started.
d=$1; shift
mkdir -p "$d"
touch "$d/run.$$"
ls "$d" | grep -c '^run\.' >>"$d/counts"
"$@"
rc=$?
rm -f "$d/run.$$"
exit $rc
`

// commitDir is where count-commits.sh keeps its counts.
func (sf *scaleFleet) commitDir() string { return filepath.Join(sf.fleetDir, "commits") }

// commitsAtOnce returns the most nginx commits that ran at once since the last
// call, and starts a new count.
func (sf *scaleFleet) commitsAtOnce(b *testing.B) int {
	file := filepath.Join(sf.commitDir(), "counts")
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatalf("nginx commits: %v", err)
	}
	most := 0
	for _, f := range strings.Fields(string(data)) {
		n, _ := strconv.Atoi(f)
		most = max(most, n)
	}
	if err := os.Remove(file); err != nil {
		b.Fatal(err)
	}
	return most
}

// failedSteps keeps the error events of an apply, for the failure message.
type failedSteps struct {
	mu    sync.Mutex
	lines []string
}

func (f *failedSteps) Emit(e executor.Event) {
	if e.Level != executor.LevelError && e.Level != executor.LevelWarn {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lines) < 50 {
		f.lines = append(f.lines, e.Message+" "+e.Error)
	}
}

func (f *failedSteps) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.lines, "\n")
}

// loadAverage returns the one-minute load average, "" when unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// writeConfig writes the fleet's configuration at version and loads it.
func (sf *scaleFleet) writeConfig(b *testing.B, version string) *lang.Config {
	b.Helper()
	data := map[string]any{
		"Nacos": registry.NacosAddr, "Native": registry.NativeAddr, "Version": version,
		"Propagation": scalePropagation.String(), "FleetDir": sf.fleetDir, "DemoBin": sf.demoBin,
		"Services": sf.services, "Balancers": sf.shape == "balancers",
	}
	if sf.nginx != nil {
		data["Upstreams"] = sf.nginx.UpstreamsFile
		data["NginxTest"] = hclStrings(append([]string{"sh", filepath.Join(sf.dir, "count-commits.sh"), sf.commitDir()},
			sf.nginx.Command("-t")...))
		data["NginxReload"] = hclStrings(sf.nginx.Command("-s", "reload"))
		data["RuntimeAPI"] = sf.haproxy.TCPURL()
	}
	var text strings.Builder
	if err := scaleConfig.Execute(&text, data); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sf.dir, "main.ns.hcl"), []byte(text.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, ds := lang.LoadDir(sf.dir, lang.LoadOptions{})
	if ds.HasErrors() {
		b.Fatalf("load %s: %v", sf.dir, ds.Err())
	}
	return cfg
}

func hclStrings(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var scaleConfig = template.Must(template.New("scale").Funcs(template.FuncMap{"list": hclStrings}).Parse(`
nonstop {
  state "local" { path = ".nonstop" }
}

provider "nacos" "registry" {
  addresses       = [{{printf "%q" .Nacos}}]
  polaris_address = {{printf "%q" .Native}}
  namespace       = "public"
  flavor          = "polaris"
  propagation     = {{printf "%q" .Propagation}}
}
{{if .Balancers}}
provider "nginx" "edge" {
  upstreams_file = {{printf "%q" .Upstreams}}
  test           = {{.NginxTest}}
  reload         = {{.NginxReload}}
}

provider "haproxy" "lb" {
  runtime_api = {{printf "%q" .RuntimeAPI}}
}
{{end}}
{{- range .Services}}
service {{printf "%q" .Name}} {
  version = {{printf "%q" $.Version}}
  registry {
    provider = nacos.registry
    group    = "DEFAULT_GROUP"
    cluster  = "DEFAULT"
  }
  group "a" { instances = {{list .GroupA}} }
  group "b" { instances = {{list .GroupB}} }
{{- if $.Balancers}}
  balancer "nginx" {
    provider = nginx.edge
    pool     = {{printf "%q" .Pool}}
    weight   = 1
  }
  balancer "haproxy" {
    provider = haproxy.lb
    pool     = {{printf "%q" .Pool}}
    weight   = 1
  }
{{- end}}
  min_available = 2
  strategy "rolling" { batch = "group" }
  drain {
    propagation = {{printf "%q" $.Propagation}}
    timeout     = "10s"
  }
  deploy {
    command = ["bash", "./deploy.sh", instance.host, tostring(instance.port), version]
    env = {
      SERVICE            = service.name
      NONSTOP_DEMO_DIR   = {{printf "%q" $.FleetDir}}
      NONSTOP_DEMO_BIN   = {{printf "%q" $.DemoBin}}
      NONSTOP_DEMO_NACOS = {{printf "%q" $.Nacos}}
    }
    timeout = "1m"
  }
  health {
    http     = "http://${instance.address}/health"
    expect   = 200
    interval = "250ms"
    timeout  = "60s"
  }
  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }
  on_failure = "rollback"
}
{{end}}`))
