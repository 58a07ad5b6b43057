package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
)

// example is what the demo fleet needs to run one of examples/*: its service,
// registry group, groups, balancer pools, and the version the fleet starts at
// (the configuration's default version is the release).
type example struct {
	service, registryGroup string
	groups                 []demo.StackGroup
	nginxPool, haproxy     string
	from, to               string
	// analysis says the configuration has an analysis_url variable, which the
	// demo points at its own analysis endpoint.
	analysis bool
	// vars are more variables for the fleet ("health_path").
	vars map[string]string
	// watch says what to look at, printed before the apply.
	watch []string
}

var examples = map[string]example{
	"rolling": {
		service: "order-service", groups: []demo.StackGroup{{Name: "a", Size: 2}, {Name: "b", Size: 2}},
		nginxPool: "order_backend", from: "1.4.1", to: "1.4.2",
		watch: []string{
			"Group a leaves nginx and the registry, waits the 4s propagation, is redeployed and comes",
			"back; only then does group b go. nginx and the registry consumer always route to ≥ 2",
			"instances (min_available = 2), and no request fails.",
		},
	},
	"blue-green": {
		service: "payment-service", groups: []demo.StackGroup{{Name: "blue", Size: 2}, {Name: "green", Size: 2}},
		haproxy: "payment_backend", from: "1.9.0", to: "2.0.0",
		watch: []string{
			"Green is drained and redeployed while blue serves; HAProxy's checks must pass on green",
			"before one balancer.switch moves all traffic to it, and blue stays warm at weight 0",
			"(keep_standby): the versions the clients get flip from 1.9.0 to 2.0.0 at one instant.",
		},
	},
	"canary": {
		service: "search-service", registryGroup: "SEARCH",
		groups:    []demo.StackGroup{{Name: "canary", Size: 1}, {Name: "east", Size: 2}, {Name: "west", Size: 2}},
		nginxPool: "search_backend", from: "3.0.0", to: "3.1.0", analysis: true,
		watch: []string{
			"The canary instance gets 3.1.0, then 5% and 25% of the traffic (nginx and registry",
			"weights), each held 10s; the error-rate gate queries the demo's analysis endpoint before",
			"100%, then east and west follow one group at a time. Beta testers (X-Canary: 1 from",
			"127.0.0.0/8) get 3.1.0 as soon as the canary serves it.",
		},
	},
	"patent-ab": {
		service: "patent-search", registryGroup: "PATENT",
		groups:    []demo.StackGroup{{Name: "a", Size: 2}, {Name: "b", Size: 2}},
		nginxPool: "patent_http", haproxy: "patent_ws", from: "5.1.0", to: "5.2.0",
		vars: map[string]string{"health_path": `"/health"`},
		watch: []string{
			"One release through two balancers at once: B is prepared while A serves, then nginx",
			"(HTTP) and HAProxy (websocket) switch together; A stays warm as the standby.",
		},
	},
}

func exampleNames() string {
	return strings.Join(slices.Sorted(maps.Keys(examples)), ", ")
}

// runExample runs examples/NAME as written on a fleet shaped for it: validate,
// inspect and plan once the fleet is registered, then the apply under load.
func runExample(r *runner, work string, ex example) error {
	name := r.o.example
	step("Starting the fleet for examples/%s on free 127.0.0.1 ports", name)
	stack, err := demo.StartStack(demo.StackOptions{
		Dir: filepath.Join(work, "fleet"), Service: ex.service, RegistryGroup: ex.registryGroup, Version: ex.from,
		Groups: ex.groups, NginxPool: ex.nginxPool, HAProxyBackend: ex.haproxy,
		StartDelay: r.o.startDelay, Warmup: r.o.warmup, Say: say,
	})
	if err != nil {
		return err
	}
	r.clean.add(stack.Stop)

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir := filepath.Join(work, "config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var text []byte
	for _, f := range []string{"main.ns.hcl", "deploy.sh"} {
		b, err := os.ReadFile(filepath.Join(root, "examples", name, f))
		if err != nil {
			return err
		}
		if f == "main.ns.hcl" {
			text = b
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o755); err != nil {
			return err
		}
	}
	vars, err := stack.Vars()
	if err != nil {
		return err
	}
	maps.Copy(vars, ex.vars)
	var load *demo.Load
	if ex.analysis {
		analysis, err := demo.StartAnalysis(func(from, to time.Time) []demo.Counts {
			if load == nil {
				return nil
			}
			return load.Window(from, to)
		})
		if err != nil {
			return err
		}
		r.clean.add(analysis.Close)
		vars["analysis_url"] = demo.HCLString(analysis.URL)
	}
	varFile := filepath.Join(dir, "fleet.nsvars")
	if err := demo.WriteVarFile(varFile, demo.DeclaredVariables(text), vars); err != nil {
		return err
	}
	say("examples/%s copied to %s; the fleet's addresses in %s", name, dir, filepath.Base(varFile))

	step("Waiting until every client path sees the whole fleet")
	if err := stack.WaitSeen(r.ctx, len(stack.Addrs), 60*time.Second); err != nil {
		return err
	}
	show := func(args ...string) error {
		v := r.o.verbose
		r.o.verbose = true
		defer func() { r.o.verbose = v }()
		_, err := r.nonstop(args...)
		return err
	}
	for _, cmd := range []string{"validate", "inspect", "plan"} {
		step("nonstop %s examples/%s", cmd, name)
		if err := show(cmd, "-var-file", varFile, dir); err != nil {
			return err
		}
	}

	step("Starting the clients: %d requests/s on each path", r.o.rate)
	load = demo.StartLoad(r.o.rate, unlimited, stack.Paths()...)
	r.clean.add(func() { load.Stop() })
	var beta *demo.Load
	if ex.analysis && stack.Nginx != nil {
		beta = demo.StartLoad(max(r.o.rate/5, 2), unlimited,
			demo.HTTPPath("beta via nginx", "http://"+stack.Nginx.Addr()).WithHeader("X-Canary", "1"))
	}
	if !sleep(r.ctx, idleWindow) {
		return r.ctx.Err()
	}
	step("nonstop apply -auto-approve examples/%s (%s → %s) — what to watch:", name, ex.from, ex.to)
	for _, l := range ex.watch {
		say("%s", l)
	}
	fmt.Println()
	sampler := demo.StartSampler(100*time.Millisecond, stack.ServingSources()...)
	started := time.Now()
	idle := load.Window(started.Add(-idleWindow), started)
	_, applyErr := r.nonstop("apply", "-auto-approve", "-var-file", varFile, dir)
	wall := time.Since(started)
	if r.ctx.Err() != nil {
		return r.ctx.Err()
	}
	sleep(r.ctx, settle)
	counts := load.Window(started, time.Now())
	serving := sampler.Stop()

	step("What the clients saw (%s → %s)", ex.from, ex.to)
	var failed int64
	for _, c := range counts {
		say("%s", c)
		failed += c.Failed
	}
	if beta != nil {
		for _, c := range beta.Stop() {
			say("%s", c)
			failed += c.Failed
		}
		say("beta testers first got %s %s; the other clients %s", ex.to,
			firstSeen(beta.Paths, ex.to, started), firstSeen(load.Paths, ex.to, started))
	}
	say("members each path routed to, sampled every 100 ms:")
	for _, ps := range serving {
		say("  %s", ps)
	}
	res := demo.NewResult("examples/"+name, counts, idle, wall, nil)
	say("wall time %s; p50 %.1f ms, p99 %.1f ms (idle p99 %.1f ms)", wall.Round(10*time.Millisecond), res.P50ms, res.P99ms, res.IdleP99ms)
	step("nonstop history examples/%s", name)
	if err := show("history", "-var-file", varFile, dir); err != nil {
		return err
	}
	if applyErr != nil {
		return applyErr
	}
	if failed > 0 {
		return fmt.Errorf("%d requests failed", failed)
	}
	fmt.Printf("\n%d requests during the release, 0 failed. Stopping the fleet.\n", res.Requests)
	return nil
}
