package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/fleet"
)

const (
	service = "order-service"
	pool    = "order_backend"
	from    = "1.0.0"
)

// options are the command-line flags.
type options struct {
	nonstop    string
	rate       int
	releases   int
	startDelay time.Duration
	warmup     time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.nonstop, "nonstop", "bin/nonstop", "the nonstop binary to run")
	flag.IntVar(&o.rate, "rate", 30, "requests per second on each client path")
	flag.IntVar(&o.releases, "releases", 2, "how many releases to apply in a row (1.0.0 → 1.1.0 → 1.2.0 ...)")
	flag.DurationVar(&o.startDelay, "start-delay", 3*time.Second, "each instance's start-up delay before its port opens")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "each instance's warm-up (every request answers 503) after its port opens")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// demoRun is one run's systems.
type demoRun struct {
	o        options
	work     string
	dir      string // configuration directory
	varFile  string
	reg      *fleet.Polaris
	ngx      *fleet.Nginx
	hap      *fleet.HAProxy
	fleet    *fleet.DemoFleet
	addrs    []string
	consumer *demo.Consumer
}

// run starts the fleet, releases, and stops what it started whatever happens.
func run(o options) error {
	nonstop, err := filepath.Abs(o.nonstop)
	if err != nil {
		return err
	}
	o.nonstop = nonstop
	work, err := os.MkdirTemp("", "nonstop-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &demoRun{o: o, work: work, dir: filepath.Join(work, "config")}

	step("Starting Polaris (the Nacos-protocol registry)")
	r.reg, err = fleet.StartPolarisProcess(filepath.Join(work, "polaris"), nil)
	if err != nil {
		return err
	}
	defer r.reg.Stop()
	fmt.Printf("    Nacos API %s, Polaris API %s (up in %s)\n", r.reg.NacosAddr, r.reg.NativeAddr, r.reg.Startup.Round(time.Millisecond))

	if r.addrs, err = freeAddrs(4); err != nil {
		return err
	}
	step(fmt.Sprintf("Starting 4 demo-service instances at %s with examples/demo/deploy.sh (start-up delay %s, warm-up %s)",
		from, o.startDelay, o.warmup))
	r.fleet, err = fleet.NewDemoFleet(filepath.Join(work, "fleet"), r.reg.NacosAddr, service)
	if err != nil {
		return err
	}
	r.fleet.StartDelay, r.fleet.Warmup = o.startDelay, o.warmup
	defer r.fleet.Stop()
	if err := r.fleet.DeployAll(r.addrs, from); err != nil {
		return err
	}
	fmt.Printf("    group a: %s\n    group b: %s\n", strings.Join(r.addrs[:2], " "), strings.Join(r.addrs[2:], " "))

	step("Starting nginx and HAProxy in front of them")
	r.ngx, err = fleet.StartEdgeNginxProcess(filepath.Join(work, "nginx"), pool, r.addrs)
	if err != nil {
		return err
	}
	defer r.ngx.Shutdown()
	r.hap, err = fleet.StartHAProxyProcess(filepath.Join(work, "haproxy"), fleet.HAProxyConfig{
		Backends:  []fleet.HAProxyBackend{{Name: pool, Servers: r.addrs}},
		Frontends: []fleet.HAProxyFrontend{{Name: "www", DefaultBackend: pool}},
	})
	if err != nil {
		return err
	}
	defer r.hap.Shutdown()
	c := fleet.DefaultHAProxyChecks
	fmt.Printf("    nginx http://%s/  HAProxy %s (runtime API %s; checks GET %s every %s, fall %d, rise %d)\n",
		r.ngx.Addr(), r.hap.URL("www"), r.hap.TCPURL(), c.Path, c.Inter, c.Fall, c.Rise)

	if r.varFile, err = writeConfig(r.dir, fleetVars{reg: r.reg, ngx: r.ngx, hap: r.hap, fleet: r.fleet, addrs: r.addrs}); err != nil {
		return err
	}
	for _, args := range [][]string{{"validate"}, {"inspect"}, {"plan"}} {
		step("nonstop " + args[0] + " examples/demo")
		if err := runCLI(ctx, o.nonstop, append(args, "-var-file", r.varFile, r.dir)...); err != nil {
			return err
		}
	}

	r.consumer, err = demo.NewConsumer(r.reg.NacosAddr, service, "DEFAULT_GROUP", filepath.Join(work, "consumer"))
	if err != nil {
		return err
	}
	defer r.consumer.Close()

	version := from
	var results []releaseResult
	for i := 1; i <= o.releases; i++ {
		next := fmt.Sprintf("1.%d.0", i)
		res, err := r.release(ctx, version, next)
		results = append(results, res)
		if err != nil {
			summarize(results)
			return err
		}
		version = next
	}
	summarize(results)
	step("nonstop history examples/demo")
	if err := runCLI(ctx, o.nonstop, "history", "-var-file", r.varFile, r.dir); err != nil {
		return err
	}
	fmt.Println("\nZero failed requests. Stopping the fleet.")
	return nil
}

func step(s string) { fmt.Printf("\n==> %s\n", s) }

// runCLI runs the nonstop binary with its output on ours. plan exits 2 when it
// has changes (-detailed-exitcode is not passed, so only 1 is an error).
func runCLI(ctx context.Context, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nonstop %s: %v", strings.Join(args, " "), err)
	}
	return nil
}

// releaseResult is what one release measured.
type releaseResult struct {
	from, to string
	wall     time.Duration // the apply's wall time
	failed   int64
	// The physical minimum: Σ groups (propagation + slowest confirm), see
	// demo.Minimum.
	min demo.Minimum
}

// release waits until every path sees the whole fleet, runs `nonstop apply
// -auto-approve` to version `to` while the three client paths run and the sampler
// watches which members each routes to, and prints what they saw.
func (r *demoRun) release(ctx context.Context, from, to string) (releaseResult, error) {
	res := releaseResult{from: from, to: to, min: demo.Minimum{Propagation: propagation(r.dir)}}
	step(fmt.Sprintf("Release %s → %s: waiting until every client path sees the whole fleet", from, to))
	if err := r.consumer.WaitInstances(len(r.addrs), 30*time.Second); err != nil {
		return res, err
	}
	if err := r.hap.WaitConfirmed(pool, 30*time.Second); err != nil {
		return res, err
	}
	fmt.Printf("    registry consumer lists %d instances; HAProxy has all %d servers UP by their checks\n", len(r.addrs), len(r.addrs))

	sampler := demo.StartSampler(100*time.Millisecond,
		demo.NginxServing("via nginx", r.ngx.UpstreamsFile, pool),
		demo.HAProxyServing("via HAProxy", r.hap.TCPURL(), pool),
		r.consumer.Serving("via registry"),
		demo.HAProxyChecksUp("HAProxy checks UP", r.hap.TCPURL(), pool))
	load := demo.StartLoad(r.o.rate, r.o.rate*600,
		demo.HTTPPath("via nginx", "http://"+r.ngx.Addr()),
		demo.HTTPPath("via HAProxy", r.hap.URL("www")),
		r.consumer.Path("via registry"))
	stopTicker := r.reportWhileRunning(load)

	step(fmt.Sprintf("nonstop apply -auto-approve examples/demo (%s → %s) while clients call the service", from, to))
	time.Sleep(time.Second)
	started := time.Now()
	err := runCLI(ctx, r.o.nonstop, "apply", "-auto-approve", "-var", "order_version="+to, "-var-file", r.varFile, r.dir)
	res.wall = time.Since(started)
	fmt.Printf("    apply finished in %s\n", res.wall.Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	stopTicker()
	counts := load.Stop()
	serving := sampler.Stop()

	step(fmt.Sprintf("Requests during the release %s → %s", from, to))
	for _, c := range counts {
		fmt.Println("   ", c)
		res.failed += c.Failed
	}
	step("Members each path routed to (sampled every 100 ms), and those HAProxy's checks had UP")
	var checksUp demo.PathServing
	for _, p := range serving {
		fmt.Println("   ", p)
		if p.Name == "HAProxy checks UP" {
			checksUp = p
		}
	}
	res.min.Computed = demo.ComputedConfirm(r.o.startDelay, r.o.warmup, fleet.DefaultHAProxyChecks)
	res.min.Groups = []demo.GroupConfirm{
		demo.MeasureConfirm("a", r.fleet, r.addrs[:2], to, checksUp, started, res.min.Computed),
		demo.MeasureConfirm("b", r.fleet, r.addrs[2:], to, checksUp, started, res.min.Computed),
	}
	res.print()
	if err != nil {
		return res, err
	}
	if res.failed > 0 {
		return res, fmt.Errorf("%d requests failed during the release %s → %s", res.failed, from, to)
	}
	return res, nil
}

func (res releaseResult) print() {
	step(fmt.Sprintf("Release %s → %s: time", res.from, res.to))
	fmt.Printf("    apply wall time             %s\n", res.wall.Round(10*time.Millisecond))
	fmt.Printf("    deploy start → HAProxy UP   (computed: start-up delay + warm-up + rise × inter = %s)\n", res.min.Computed)
	for _, g := range res.min.Groups {
		per := make([]string, len(g.Measured))
		for i, d := range g.Measured {
			per[i] = d.Round(10 * time.Millisecond).String()
		}
		if len(per) == 0 {
			per = []string{"not measured, computed used"}
		}
		fmt.Printf("        group %s: %s\n", g.Name, strings.Join(per, ", "))
	}
	fmt.Printf("    physical minimum            Σ groups (propagation + slowest confirm) = %s = %s\n",
		res.min.Terms(), res.min.Total().Round(10*time.Millisecond))
	fmt.Printf("    apply / minimum             %.2f\n", res.min.Ratio(res.wall))
}

// summarize prints one line per release.
func summarize(results []releaseResult) {
	step("Summary")
	for _, r := range results {
		ratio := "-"
		if r.min.Total() > 0 {
			ratio = fmt.Sprintf("%.2f", r.min.Ratio(r.wall))
		}
		fmt.Printf("    %s → %s: apply %s, physical minimum %s, ratio %s, %d failed requests\n",
			r.from, r.to, r.wall.Round(10*time.Millisecond), r.min.Total().Round(10*time.Millisecond), ratio, r.failed)
	}
}

// reportWhileRunning prints the load's counters every two seconds and every new
// failure (path, member, error) as it appears; the returned func stops it.
func (r *demoRun) reportWhileRunning(load *demo.Load) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ticker := time.NewTicker(2 * time.Second)
		defer ticker.Stop()
		printed := map[string]int{}
		for {
			select {
			case <-done:
				return
			case <-ticker.C:
			}
			snap := load.Snapshot()
			fmt.Println("    load:", oneLine(snap))
			for _, c := range snap {
				for _, f := range c.Failures[printed[c.Name]:] {
					fmt.Println("    FAILED:", f)
				}
				printed[c.Name] = len(c.Failures)
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func oneLine(cs []demo.Counts) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %d ok %d failed", c.Name, c.OK, c.Failed)
	}
	return strings.Join(parts, " | ")
}

var propagationAttr = regexp.MustCompile(`(?m)^\s*propagation\s*=\s*"([^"]+)"`)

// propagation reads the longest propagation the configuration in dir sets (the
// registry provider's and the drain block's).
func propagation(dir string) time.Duration {
	b, _ := os.ReadFile(filepath.Join(dir, "main.ns.hcl"))
	var longest time.Duration
	for _, m := range propagationAttr.FindAllStringSubmatch(string(b), -1) {
		if d, err := time.ParseDuration(m[1]); err == nil {
			longest = max(longest, d)
		}
	}
	return longest
}
