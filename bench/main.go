// Command nonstop-bench is `make bench`: the same release of the same four
// instances, under the same load, done five ways one after the other on one
// fleet, so that every dropped request is counted and none is hidden:
//
//  1. naive: stop → replace → start, one instance at a time (bench/naive.sh);
//  2. serial playbook: a rolling update as Ansible playbooks do it, `serial: 1`,
//     drained in HAProxy only (bench/rolling-update.yml, run with ansible-playbook
//     against localhost; bench/serial-rolling.sh, the same steps scripted, when
//     ansible-playbook is missing);
//  3. nonstop rolling; 4. nonstop blue_green (keep_standby = false, so all four
//     instances are released); 5. nonstop canary (25% and 50% steps of 2s, an
//     analysis gate).
//
// The fleet is `make demo`'s: Polaris, nginx, HAProxy with active checks, four
// demo-service instances in groups a and b that start like real applications
// (start-up delay, warm-up), and clients on three paths (through nginx, through
// HAProxy, and a registry consumer calling instances directly), each request on a
// new connection and never retried. Before each release the load runs idle for a
// while (the idle p99); the release's window runs from its start until two
// seconds after it ends.
//
// For each release it reports requests, failures per path, p50 and p99 latency of
// every path together (with the idle p99), wall time and wall ÷ the physical
// minimum: per group, the propagation wait and the measured time from the deploy's
// start until HAProxy's checks have the group UP again (plus the canary's
// pauses) — what any zero-downtime release of these groups needs. It prints a
// Markdown table, checks nonstop's targets, and writes everything as JSON.
//
// With -rate 0 (the default) it first measures what the machine allows: idle
// load at rising rates, keeping the highest whose p99 stays within twice the
// lowest rate's with no failure.
//
// Usage:
//
//	nonstop-bench [-nonstop bin/nonstop] [-rate 0] [-out bin/bench.json]
//	    [-idle 10s] [-methods naive,serial,rolling,blue_green,canary] [-ansible auto]
//	    [-group-size 2]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
	"github.com/nonstop-release/nonstop/internal/fleet"
)

type options struct {
	nonstop    string
	out        string
	rate       int
	idle       time.Duration
	methods    string
	ansible    string
	startDelay time.Duration
	warmup     time.Duration
	groupSize  int
}

const (
	service = "order-service"
	pool    = "order_backend"
	// propagation is examples/demo's drain propagation.
	propagation = 4 * time.Second
	settle      = 2 * time.Second
	unlimited   = 1 << 40
)

func main() {
	var o options
	flag.StringVar(&o.nonstop, "nonstop", "bin/nonstop", "the nonstop binary")
	flag.StringVar(&o.out, "out", "bin/bench.json", "where to write the results as JSON")
	flag.IntVar(&o.rate, "rate", 0, "requests per second on each client path; 0 measures what the machine allows first")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "idle load before each release (its p99 is the idle p99)")
	flag.StringVar(&o.methods, "methods", "naive,serial,rolling,blue_green,canary", "the releases to run, in order")
	flag.StringVar(&o.ansible, "ansible", "auto", "run the serial playbook with ansible-playbook: auto (when installed), yes, no (the scripted steps)")
	flag.DurationVar(&o.startDelay, "start-delay", 3*time.Second, "each instance's start-up delay")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "each instance's warm-up")
	flag.IntVar(&o.groupSize, "group-size", 2, "instances in each of the groups a and b")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// bench is one run.
type bench struct {
	o        options
	ctx      context.Context
	root     string // the repository
	work     string
	stack    *demo.Stack
	dir      string // nonstop's configuration directory
	varFile  string
	original []byte // examples/demo/main.ns.hcl
	load     *demo.Load
	analysis *demo.AnalysisServer
	serialBy string // how the serial playbook runs
}

// method is one way to release.
type method struct {
	key, name, tool string
	run             func(b *bench, to string) (log string, err error)
	pauses          time.Duration
}

var canaryStrategy = `strategy "canary" {
  step {
    weight = 25
    pause  = "2s"
  }
  step {
    weight   = 50
    pause    = "2s"
    analysis = ["error-rate"]
  }
  step { weight = 100 }
}`

func methods() []method {
	return []method{
		{key: "naive", name: "naive stop → replace → start", tool: "bench/naive.sh", run: (*bench).naive},
		{key: "serial", name: "serial playbook (HAProxy drain only)", run: (*bench).serial},
		{key: "rolling", name: "nonstop rolling", tool: "nonstop apply", run: func(b *bench, to string) (string, error) {
			return b.nonstop(to, `strategy "rolling" { batch = "group" }`, "")
		}},
		{key: "blue_green", name: "nonstop blue_green", tool: "nonstop apply", run: func(b *bench, to string) (string, error) {
			return b.nonstop(to, `strategy "blue_green" { keep_standby = false }`, "")
		}},
		{key: "canary", name: "nonstop canary", tool: "nonstop apply", pauses: 4 * time.Second, run: func(b *bench, to string) (string, error) {
			return b.nonstop(to, canaryStrategy, fmt.Sprintf(`analysis "error-rate" {
  http      = "%s?query=failed_ratio"
  max_value = 0.01
  no_data   = "fail"
}`, b.analysis.URL))
		}},
	}
}

func run(o options) error {
	var chosen []method
	for _, key := range strings.Split(o.methods, ",") {
		i := slices.IndexFunc(methods(), func(m method) bool { return m.key == strings.TrimSpace(key) })
		if i < 0 {
			return fmt.Errorf("-methods: no method %q (naive, serial, rolling, blue_green, canary)", key)
		}
		chosen = append(chosen, methods()[i])
	}
	for _, bin := range []string{fleet.NginxBinary, fleet.HAProxyBinary, "/usr/bin/curl"} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s is missing: `make demo` installs nginx and HAProxy (as root); curl: apt-get install curl", bin)
		}
	}
	nonstop, err := filepath.Abs(o.nonstop)
	if err != nil {
		return err
	}
	o.nonstop = nonstop
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(root, "examples", "demo", "main.ns.hcl")); err != nil {
		return errors.New("run the bench from the repository's root (make bench)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	work, err := os.MkdirTemp("", "nonstop-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	b := &bench{o: o, ctx: ctx, root: root, work: work, dir: filepath.Join(work, "config")}
	b.serialBy = b.serialTool()

	if o.groupSize < 1 {
		return errors.New("-group-size must be at least 1")
	}
	step("Starting the fleet (Polaris, nginx, HAProxy, %d instances at 1.0.0 in groups a and b)", 2*o.groupSize)
	b.stack, err = demo.StartStack(demo.StackOptions{
		Dir: filepath.Join(work, "fleet"), Service: service, Version: "1.0.0",
		Groups:    []demo.StackGroup{{Name: "a", Size: o.groupSize}, {Name: "b", Size: o.groupSize}},
		NginxPool: pool, HAProxyBackend: pool, StartDelay: o.startDelay, Warmup: o.warmup, Say: say,
	})
	if err != nil {
		return err
	}
	var stopOnce sync.Once
	stopAll := func() {
		stopOnce.Do(func() {
			if b.load != nil {
				b.load.Stop()
			}
			if b.analysis != nil {
				b.analysis.Close()
			}
			b.stack.Stop()
		})
	}
	defer stopAll()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		fmt.Println("\n==> Interrupted: stopping everything the bench started")
		stopAll()
		os.RemoveAll(work)
		os.Exit(130)
	}()
	if err := b.writeConfig(); err != nil {
		return err
	}
	if err := b.stack.WaitSeen(ctx, len(b.stack.Addrs), time.Minute); err != nil {
		return err
	}

	var probe []probeResult
	if o.rate <= 0 {
		step("Measuring the load this machine allows (idle, %d instances)", len(b.stack.Addrs))
		if probe, o.rate, err = b.probeRates(); err != nil {
			return err
		}
		b.o.rate = o.rate
	}
	step("Clients: %d requests/s on each of 3 paths (%d/s in all), each on a new connection, never retried", o.rate, 3*o.rate)
	b.load = demo.StartLoad(o.rate, unlimited, b.stack.Paths()...)
	b.analysis, err = demo.StartAnalysis(b.load.Window)
	if err != nil {
		return err
	}

	var results []demo.Result
	version := "1.0.0"
	for i, m := range chosen {
		to := fmt.Sprintf("1.%d.0", i+1)
		res, err := b.measure(m, version, to)
		if err != nil {
			return fmt.Errorf("%s: %v", m.name, err)
		}
		results = append(results, res)
		version = to
	}

	step("Results: one release of %d instances, %d ways, %d requests/s on each path", len(b.stack.Addrs), len(results), o.rate)
	table := demo.Table("release", results)
	fmt.Println()
	fmt.Print(table)
	checks := targets(results)
	fmt.Println()
	for _, c := range checks {
		fmt.Println(c)
	}
	report := b.report(results, probe, table, checks)
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(report, "", "  ")
	if err := os.WriteFile(o.out, append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s\n", o.out)
	return nil
}

// writeConfig copies examples/demo and writes the fleet's variables.
func (b *bench) writeConfig() error {
	if err := os.MkdirAll(b.dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"main.ns.hcl", "deploy.sh"} {
		text, err := os.ReadFile(filepath.Join(b.root, "examples", "demo", name))
		if err != nil {
			return err
		}
		if name == "main.ns.hcl" {
			b.original = text
		}
		if err := os.WriteFile(filepath.Join(b.dir, name), text, 0o755); err != nil {
			return err
		}
	}
	vars, err := b.stack.Vars()
	if err != nil {
		return err
	}
	b.varFile = filepath.Join(b.dir, "fleet.nsvars")
	return demo.WriteVarFile(b.varFile, demo.DeclaredVariables(b.original), vars)
}

// measure runs one release under the load and measures it.
func (b *bench) measure(m method, from, to string) (demo.Result, error) {
	tool := m.tool
	if m.key == "serial" {
		tool = b.serialBy
	}
	step("%s: %s → %s (%s)", m.name, from, to, tool)
	if err := b.stack.WaitSeen(b.ctx, len(b.stack.Addrs), time.Minute); err != nil {
		return demo.Result{}, err
	}
	if !sleep(b.ctx, b.o.idle) {
		return demo.Result{}, b.ctx.Err()
	}
	sampler := demo.StartSampler(100*time.Millisecond, b.stack.ServingSources()...)
	load1 := loadAverage()
	started := time.Now()
	log, runErr := m.run(b, to)
	wall := time.Since(started)
	sleep(b.ctx, settle)
	end := time.Now()
	serving := sampler.Stop()
	if b.ctx.Err() != nil {
		return demo.Result{}, b.ctx.Err()
	}
	logFile := filepath.Join(b.work, m.key+".log")
	_ = os.WriteFile(logFile, []byte(log), 0o644)
	if runErr != nil {
		return demo.Result{}, fmt.Errorf("%v\n%s", runErr, tail(log, 30))
	}
	if v := b.versions(); v != to {
		return demo.Result{}, fmt.Errorf("after the release the instances run %s, want %s\n%s", v, to, tail(log, 30))
	}

	var checksUp demo.PathServing
	servedAtStart := map[string]bool{}
	for _, ps := range serving {
		if ps.Name == demo.ChecksUpPath {
			checksUp = ps
		}
		if ps.Name == demo.PathHAProxy && len(ps.Changes) > 0 {
			for g, addrs := range b.stack.Groups {
				for _, a := range addrs {
					servedAtStart[g] = servedAtStart[g] || slices.Contains(ps.Changes[0].Members, a)
				}
			}
		}
	}
	var floor demo.Floor
	for _, g := range b.stack.Confirms(to, checksUp, started, b.stack.ComputedConfirmOf()) {
		if servedAtStart[g.Name] {
			floor = append(floor, demo.FloorTerm{What: "propagation", D: propagation})
		}
		floor = append(floor, demo.FloorTerm{What: "confirm " + g.Name, D: g.Confirm})
	}
	if m.pauses > 0 {
		floor = append(floor, demo.FloorTerm{What: "canary pauses", D: m.pauses})
	}
	// The registry's own time to serve the release's registry writes (nonstop's
	// steps return once a listing shows them; the other tools write none).
	floor = append(floor, demo.RegistryFloor(log)...)
	counts := b.load.Window(started, end)
	idle := b.load.Window(started.Add(-b.o.idle), started)
	res := demo.NewResult(m.name, counts, idle, wall, floor)
	res.Tool, res.From, res.To, res.Outcome = tool, from, to, "success"
	res.Note = fmt.Sprintf("load average %.2f at its start (%d CPUs)", load1, runtime.NumCPU())
	if load1 > 2*float64(runtime.NumCPU()) {
		res.Note += ": the machine was saturated by other processes"
	}
	for _, c := range counts {
		say("%s", strings.ReplaceAll(c.String(), "\n", "\n    "))
	}
	say("wall %s; minimum %s = %s; wall ÷ minimum %.2f; p99 %.1f ms (idle %.1f ms)",
		wall.Round(10*time.Millisecond), floor, floor.Total().Round(10*time.Millisecond), floor.Ratio(wall), res.P99ms, res.IdleP99ms)
	return res, nil
}

// versions returns the version every instance answers, or them all when they differ.
func (b *bench) versions() string {
	var vs []string
	for _, a := range b.stack.Addrs {
		v := "down"
		if out, err := exec.Command("curl", "-fsS", "--max-time", "2", "http://"+a+"/version").Output(); err == nil {
			v = string(out)
		}
		vs = append(vs, v)
	}
	if len(slices.Compact(slices.Clone(vs))) == 1 {
		return vs[0]
	}
	return strings.Join(vs, ", ")
}

// env is what deploy.sh needs, for the scripts.
func (b *bench) env() []string {
	f := b.stack.Fleet
	return append(os.Environ(),
		"DEPLOY="+filepath.Join(b.root, "examples", "demo", "deploy.sh"),
		"NONSTOP_DEMO_DIR="+f.Dir, "NONSTOP_DEMO_BIN="+f.Bin, "NONSTOP_DEMO_NACOS="+b.stack.Registry.NacosAddr,
		"SERVICE="+service)
}

// command runs a command with its output captured.
func (b *bench) command(name string, args []string, env []string) (string, error) {
	cmd := exec.CommandContext(b.ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Env = env
	cmd.Dir = b.root
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// naive restarts every instance in turn with bench/naive.sh.
func (b *bench) naive(to string) (string, error) {
	env := append(b.env(), "ADDRS="+strings.Join(b.stack.Addrs, " "), "VERSION="+to)
	return b.command("bash", []string{filepath.Join(b.root, "bench", "naive.sh")}, env)
}

// serialTool says how the serial playbook runs here.
func (b *bench) serialTool() string {
	if b.o.ansible == "no" {
		return "bench/serial-rolling.sh (scripted: -ansible no)"
	}
	path, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if b.o.ansible == "yes" {
			return "ansible-playbook (missing)"
		}
		return "bench/serial-rolling.sh (scripted: ansible-playbook is not installed)"
	}
	version := "ansible-playbook"
	if out, err := exec.Command(path, "--version").Output(); err == nil {
		version = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	return version + " bench/rolling-update.yml"
}

// serial runs the serial rolling update: the Ansible playbook, or its steps
// scripted.
func (b *bench) serial(to string) (string, error) {
	var servers []string
	for i, a := range b.stack.Addrs {
		servers = append(servers, fmt.Sprintf("node%d=%s", i+1, a)) // fleet.HAProxy names them so
	}
	if !strings.Contains(b.serialBy, "rolling-update.yml") {
		env := append(b.env(), "INSTANCES="+strings.Join(servers, " "), "VERSION="+to,
			"HAPROXY_API="+b.stack.HAProxy.APIAddr(), "HAPROXY_BACKEND="+pool)
		return b.command("bash", []string{filepath.Join(b.root, "bench", "serial-rolling.sh")}, env)
	}
	dir := filepath.Join(b.work, "ansible")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var inv strings.Builder
	inv.WriteString("[order_service]\n")
	for _, s := range servers {
		name, addr, _ := strings.Cut(s, "=")
		host, port, _ := strings.Cut(addr, ":")
		fmt.Fprintf(&inv, "%s ansible_connection=local ansible_python_interpreter=%s instance_host=%s instance_port=%s haproxy_server=%s\n",
			strings.ReplaceAll(addr, ":", "_"), python(), host, port, name)
	}
	invFile := filepath.Join(dir, "inventory.ini")
	if err := os.WriteFile(invFile, []byte(inv.String()), 0o644); err != nil {
		return "", err
	}
	f := b.stack.Fleet
	vars := map[string]any{
		"target_version":  to,
		"deploy_script":   filepath.Join(b.root, "examples", "demo", "deploy.sh"),
		"haproxy_socket":  b.stack.HAProxy.SocketPath,
		"haproxy_backend": pool,
		"deploy_env": map[string]string{
			"NONSTOP_DEMO_DIR": f.Dir, "NONSTOP_DEMO_BIN": f.Bin, "NONSTOP_DEMO_NACOS": b.stack.Registry.NacosAddr, "SERVICE": service,
		},
	}
	js, _ := json.Marshal(vars)
	varsFile := filepath.Join(dir, "vars.json")
	if err := os.WriteFile(varsFile, js, 0o644); err != nil {
		return "", err
	}
	env := append(os.Environ(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_REMOTE_TEMP="+filepath.Join(dir, "tmp"))
	return b.command("ansible-playbook", []string{"-i", invFile, "-e", "@" + varsFile,
		filepath.Join(b.root, "bench", "rolling-update.yml")}, env)
}

func python() string {
	if p, err := exec.LookPath("python3"); err == nil {
		return p
	}
	return "/usr/bin/python3"
}

// nonstop applies examples/demo with strategy (and extra blocks) at version to.
func (b *bench) nonstop(to, strategy, extra string) (string, error) {
	text, err := demo.WithStrategy(b.original, strategy, extra)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "main.ns.hcl"), text, 0o644); err != nil {
		return "", err
	}
	return b.command(b.o.nonstop, []string{"apply", "-auto-approve", "-no-color", "-var", "order_version=" + to,
		"-var-file", b.varFile, b.dir}, os.Environ())
}

// probeResult is one rate of the idle load probe.
type probeResult struct {
	Rate     int     `json:"rate_per_path"`
	Sent     int64   `json:"sent"`
	Failed   int64   `json:"failed"`
	Achieved float64 `json:"achieved_per_path"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Kept     bool    `json:"kept"`
}

// probeRates runs idle load at rising rates until one fails a request, misses
// its rate or more than doubles the first rate's p99, and returns the highest
// rate at most 60% of the last good one: the releases add work (deploys, nginx
// reloads, the serial playbook's Python), and other processes share the machine.
func (b *bench) probeRates() ([]probeResult, int, error) {
	const each = 8 * time.Second
	var out []probeResult
	chosen := 0
	var base float64
	steps := []int{100, 200, 300, 400, 500, 700, 1000}
	good := 0
	for _, rate := range steps {
		l := demo.StartLoad(rate, unlimited, b.stack.Paths()...)
		if !sleep(b.ctx, time.Second) {
			l.Stop()
			return nil, 0, b.ctx.Err()
		}
		from := time.Now()
		sleep(b.ctx, each)
		to := time.Now()
		l.Stop()
		if b.ctx.Err() != nil {
			return nil, 0, b.ctx.Err()
		}
		all := demo.Merge("all", l.Window(from, to)...)
		p := probeResult{Rate: rate, Sent: all.Sent(), Failed: all.Failed,
			Achieved: float64(all.Sent()) / 3 / to.Sub(from).Seconds(),
			P50ms:    float64(all.P50.Microseconds()) / 1000, P99ms: float64(all.P99.Microseconds()) / 1000}
		if base == 0 {
			base = p.P99ms
		}
		p.Kept = p.Failed == 0 && p.P99ms <= 2*base && p.Achieved >= 0.95*float64(rate)
		p.Kept = p.Kept && (len(out) == 0 || out[len(out)-1].Kept)
		say("%4d/s per path: %6d requests, %d failed, %.0f/s reached, p50 %.1f ms, p99 %.1f ms%s",
			rate, p.Sent, p.Failed, p.Achieved, p.P50ms, p.P99ms, map[bool]string{true: "", false: "  (too much)"}[p.Kept])
		out = append(out, p)
		if !p.Kept {
			break
		}
		good = rate
		if !sleep(b.ctx, 2*time.Second) {
			return nil, 0, b.ctx.Err()
		}
	}
	chosen = steps[0]
	for _, r := range steps {
		if float64(r) <= 0.6*float64(good) {
			chosen = r
		}
	}
	say("up to %d/s per path is clean when idle; using %d/s (at most 60%% of it, for the releases' own work)", good, chosen)
	return out, chosen, nil
}

// targets checks nonstop's rows against the targets.
func targets(results []demo.Result) []string {
	var serial *demo.Result
	for i := range results {
		if strings.HasPrefix(results[i].Name, "serial") {
			serial = &results[i]
		}
	}
	var lines []string
	var total, failed int64
	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	for _, r := range results {
		if !strings.HasPrefix(r.Name, "nonstop") {
			continue
		}
		total += r.Requests
		failed += r.Failed
		line := fmt.Sprintf("%-20s %s 0 failed (%d)   %s p99 ≤ 1.5 × idle p99 (%.1f ≤ %.1f ms)   %s wall ≤ 1.10 × minimum (%.2f)",
			r.Name, mark(r.Failed == 0), r.Failed, mark(r.P99ms <= 1.5*r.IdleP99ms), r.P99ms, 1.5*r.IdleP99ms,
			mark(r.Ratio > 0 && r.Ratio <= 1.10), r.Ratio)
		if serial != nil {
			line += fmt.Sprintf("   %s wall ≤ 0.5 × serial playbook (%.1f ≤ %.1f s)", mark(r.WallS <= 0.5*serial.WallS), r.WallS, 0.5*serial.WallS)
		}
		lines = append(lines, line)
	}
	lines = append(lines, fmt.Sprintf("nonstop, all rows:   %s %d failed of %d requests (target: 0 of ≥ 100,000)",
		mark(failed == 0 && total >= 100000), failed, total))
	for _, r := range results {
		if strings.HasSuffix(r.Note, "saturated by other processes") {
			lines = append(lines, fmt.Sprintf("NOTE %s: %s — its latency, and failures such as nginx resetting connections (one worker, 256 connections), may come from them; run again on a quieter machine", r.Name, r.Note))
		}
	}
	return lines
}

// report is the JSON written.
type report struct {
	Machine    map[string]string `json:"machine"`
	Rate       int               `json:"rate_per_path"`
	Idle       string            `json:"idle_before_each"`
	Fleet      map[string]string `json:"fleet"`
	SerialBy   string            `json:"serial_playbook_run_by"`
	Probe      []probeResult     `json:"load_probe,omitempty"`
	Results    []demo.Result     `json:"results"`
	Targets    []string          `json:"targets"`
	Markdown   string            `json:"markdown_table"`
	StartedUTC string            `json:"finished_utc"`
}

func (b *bench) report(results []demo.Result, probe []probeResult, table string, checks []string) report {
	c := fleet.DefaultHAProxyChecks
	return report{
		Machine: machine(),
		Rate:    b.o.rate,
		Idle:    b.o.idle.String(),
		Fleet: map[string]string{
			"instances":   fmt.Sprintf("%d demo-service, groups a and b of %d", 2*b.o.groupSize, b.o.groupSize),
			"start_delay": b.o.startDelay.String(),
			"warmup":      b.o.warmup.String(),
			"propagation": propagation.String(),
			"haproxy":     fmt.Sprintf("check inter %s fall %d rise %d", c.Inter, c.Fall, c.Rise),
			"request":     "GET " + demo.WorkPath + ", a new connection each, never retried",
		},
		SerialBy:   b.serialBy,
		Probe:      probe,
		Results:    results,
		Targets:    checks,
		Markdown:   table,
		StartedUTC: time.Now().UTC().Format(time.RFC3339),
	}
}

// loadAverage is the 1-minute load average, 0 when unknown.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	fmt.Sscan(string(b), &l)
	return l
}

// machine describes where the bench ran.
func machine() map[string]string {
	m := map[string]string{"nproc": fmt.Sprint(runtime.NumCPU()), "go": runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m["os"] = strings.Trim(v, `"`)
			}
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m["loadavg_at_end"] = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

func say(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
