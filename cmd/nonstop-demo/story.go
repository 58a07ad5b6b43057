package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/internal/demo"
)

const (
	storyService = "order-service"
	storyPool    = "order_backend"
	// propagation is the drain propagation examples/demo sets.
	propagation = 4 * time.Second
	// settle is how long the clients keep calling after an apply, counted in its
	// release: a consumer's stale list or a late nginx worker shows up there.
	settle = 2 * time.Second
	// idleWindow is how much quiet load before a release gives its idle p99.
	idleWindow = 5 * time.Second
	// unlimited bounds a client path's requests: never reached.
	unlimited = 1 << 40
)

// phase is one release of the story.
type phase struct {
	title string
	intro []string
	to    string
	// strategy and extra replace the strategy block of examples/demo and add
	// blocks to its service; "" keeps the file's own.
	strategy, extra string
	// vars are -var options on top of the fleet's var file.
	vars []string
	// serving is how many instances every path must route to before it starts.
	serving int
	// showPlan runs `nonstop plan` first and says whether it deploys anything.
	showPlan bool
	beta     bool // beta testers (X-Canary: 1) call too
	// standbyFirst declares the group out of traffic first (the canary group is
	// the first declared one).
	standbyFirst bool
	failing      bool // the apply must fail and roll back
	floor        func(m measured) demo.Floor
}

// measured is what a phase's floor is computed from.
type measured struct {
	confirms []demo.GroupConfirm // the groups deployed at the target version
	rollback []demo.GroupConfirm // the groups redeployed at the previous version
	from     string
	// serving tells the groups that served when the release began: only they
	// owe a propagation wait before their deploy.
	serving map[string]bool
}

const canaryStrategy = `strategy "canary" {
  step {
    weight = 25
    pause  = "3s"
  }
  step {
    weight   = 50
    pause    = "3s"
    analysis = ["error-rate"]
  }
  step { weight = 100 }
}`

// canaryPauses is the sum of canaryStrategy's pauses.
const canaryPauses = 6 * time.Second

// canaryExtra is the beta route and the analysis gate; %s is the analysis URL.
const canaryExtra = `route "beta" {
  match {
    header = { "X-Canary" = "1" }
  }
  version = var.order_version
}

analysis "error-rate" {
  http      = "%s?query=sum(rate(demo_failed[30s]))/sum(rate(demo_sent[30s]))"
  max_value = 0.01
  no_data   = "fail"
}`

const healthTimeout = 8 * time.Second

func storyPhases(analysisURL string) []phase {
	groupsFloor := func(m measured) demo.Floor {
		var f demo.Floor
		for _, g := range m.confirms {
			if m.serving[g.Name] {
				f = append(f, demo.FloorTerm{What: "propagation", D: propagation})
			}
			f = append(f, demo.FloorTerm{What: "confirm " + g.Name, D: g.Confirm})
		}
		return f
	}
	return []phase{{
		title: "Phase 1 · rolling 1.0.0 → 1.1.0",
		intro: []string{
			"strategy \"rolling\" { batch = \"group\" }: group a, then group b. Each instance leaves nginx,",
			"HAProxy and the registry, waits out the propagation (4s: consumers' cached lists) and its",
			"drain, is redeployed, must pass health, verify and HAProxy's own checks, and only then returns.",
		},
		to: "1.1.0", serving: 4, floor: groupsFloor,
	}, {
		title: "Phase 2 · blue-green 1.1.0 → 1.2.0 with keep_standby",
		intro: []string{
			"The idle group gets 1.2.0 out of traffic, then nginx, HAProxy and the registry switch to it in",
			"one step each. keep_standby leaves the old group running 1.1.0, warm, at weight 0.",
		},
		to: "1.2.0", serving: 4,
		strategy: "strategy \"blue_green\" {\n  keep_standby = true\n}",
		floor: func(m measured) demo.Floor {
			f := groupsFloor(m)
			return append(f, demo.FloorTerm{What: "propagation (old group)", D: propagation})
		},
	}, {
		title: "Phase 2 · instant switch back to 1.1.0",
		intro: []string{
			"Applying the previous version again: the standby group still runs 1.1.0, so the plan has no",
			"deploy step, only health checks, the switch and the propagation wait of the group it leaves.",
		},
		to: "1.1.0", serving: 2, showPlan: true,
		strategy: "strategy \"blue_green\" {\n  keep_standby = true\n}",
		floor: func(measured) demo.Floor {
			return demo.Floor{{What: "propagation (old group)", D: propagation}}
		},
	}, {
		title: "Phase 3 · canary 1.1.0 → 1.3.0 with a beta route and an analysis gate",
		intro: []string{
			"The first group gets 1.3.0 and 25%, then 50% of the traffic (registry weights too), each step",
			"held 3s; before 100% the gate asks the demo's analysis endpoint (a stand-in for Prometheus) for",
			"the clients' error rate and goes on only if it is ≤ 0.01. Beta testers (header X-Canary: 1)",
			"are routed to 1.3.0 by nginx and HAProxy as soon as one instance serves it. The canary group",
			"is the first one declared: the standby group (out of traffic since the switch back) is",
			"declared first, so the canary goes there without draining anything.",
		},
		to: "1.3.0", serving: 2, beta: true, standbyFirst: true,
		strategy: canaryStrategy, extra: fmt.Sprintf(canaryExtra, analysisURL),
		floor: func(m measured) demo.Floor {
			return append(groupsFloor(m), demo.FloorTerm{What: "canary pauses", D: canaryPauses})
		},
	}, {
		title: "Phase 4 · a bad version: 1.4.0 fails its health check and is rolled back",
		intro: []string{
			"deploy.sh starts 1.4.0 broken (its /health answers 503). The first instances get it out of",
			"traffic; wait.healthy gives up after 8s, on_failure = \"rollback\" redeploys 1.3.0 there and",
			"puts them back. Clients never reach 1.4.0. (The beta route is dropped from the configuration:",
			"its removal is the plan's first step.)",
		},
		to: "1.4.0", serving: 4, failing: true,
		vars: []string{"health_timeout=" + healthTimeout.String(), "bad_versions=1.4.0"},
		floor: func(m measured) demo.Floor {
			f := demo.Floor{{What: "propagation", D: propagation}, {What: "health timeout", D: healthTimeout}}
			for _, g := range m.rollback {
				f = append(f, demo.FloorTerm{What: "confirm " + g.Name + " at " + m.from, D: g.Confirm})
			}
			return f
		},
	}}
}

// story is one run of the four phases.
type story struct {
	r        *runner
	stack    *demo.Stack
	dir      string // the configuration directory
	varFile  string
	original []byte // examples/demo/main.ns.hcl
	load     *demo.Load
	lastEnd  time.Time
	version  string
	beta     []demo.Counts // the beta testers' counts
}

// runStory starts the fleet and runs the four phases under one steady load.
func runStory(r *runner, work string) error {
	step("Starting the fleet on free 127.0.0.1 ports")
	stack, err := demo.StartStack(demo.StackOptions{
		Dir: filepath.Join(work, "fleet"), Service: storyService, Version: "1.0.0",
		Groups:    []demo.StackGroup{{Name: "a", Size: 2}, {Name: "b", Size: 2}},
		NginxPool: storyPool, HAProxyBackend: storyPool, Routes: []string{"beta"}, RouteHeader: "X-Canary",
		StartDelay: r.o.startDelay, Warmup: r.o.warmup, Say: say,
	})
	if err != nil {
		return err
	}
	r.clean.add(stack.Stop)
	s := &story{r: r, stack: stack, dir: filepath.Join(work, "config"), version: "1.0.0"}
	if err := s.writeConfig(); err != nil {
		return err
	}

	step("Waiting until every client path sees the whole fleet")
	if err := stack.WaitSeen(r.ctx, 4, 60*time.Second); err != nil {
		return err
	}
	say("the registry lists 4 instances, HAProxy has 4 servers UP by its checks, nginx routes to 4")
	for _, cmd := range []string{"validate", "inspect", "plan"} {
		step("nonstop %s examples/demo", cmd)
		if cmd == "plan" {
			fmt.Println("    (the plan of phase 1, every step; later phases print only their changes)")
		}
		if err := s.showCLI(cmd, "-var-file", s.varFile, s.dir); err != nil {
			return err
		}
	}

	step("Starting the clients: %d requests/s on each path, each on a new connection, never retried", r.o.rate)
	s.load = demo.StartLoad(r.o.rate, unlimited, stack.Paths()...)
	r.clean.add(func() { s.load.Stop() })
	analysis, err := demo.StartAnalysis(s.load.Window)
	if err != nil {
		return err
	}
	r.clean.add(analysis.Close)
	say("via nginx (http://%s/work), via HAProxy (%swork), via registry (a Nacos SDK", stack.Nginx.Addr(), stack.HAProxy.URL("www"))
	say("consumer re-reading its list every second, calling a random instance directly)")
	s.lastEnd = time.Now()

	var results []demo.Result
	var failures []string
	for _, p := range storyPhases(analysis.URL) {
		res, err := s.run(p)
		if err != nil {
			return err
		}
		results = append(results, res)
		if res.Failed > 0 {
			failures = append(failures, fmt.Sprintf("%s: %d failed", p.title, res.Failed))
		}
		if p.beta {
			n, last := analysis.Queries()
			say("analysis endpoint: queried %d times, last answer %s", n, last)
		}
	}
	var betaSent, betaFailed int64
	for _, c := range s.beta {
		betaSent += c.Sent()
		betaFailed += c.Failed
	}

	step("Summary: every phase under the same load (%d requests/s on each path)", r.o.rate)
	fmt.Println()
	fmt.Print(indentText(demo.Table("release", results), "    "))
	fmt.Println()
	say("p50/p99: every path's successful requests during the release; idle p99: the %s before it.", idleWindow)
	say("minimum: propagation (consumers' caches) + confirm (deploy start → HAProxy's checks UP) per")
	say("group deployed, + canary pauses; for the failed release, + health timeout + the rollback's confirm;")
	say("+ registry: the time the registry took to serve each group's writes (Polaris: its next cache refresh).")
	say("beta testers (X-Canary: 1, phase 3 only): %d requests, %d failed.", betaSent, betaFailed)
	step("nonstop history examples/demo")
	if err := s.showCLI("history", "-var-file", s.varFile, s.dir); err != nil {
		return err
	}
	if len(failures) > 0 {
		return fmt.Errorf("requests failed: %s", strings.Join(failures, "; "))
	}
	var total int64
	for _, res := range results {
		total += res.Requests
	}
	fmt.Printf("\n%d requests during the releases, 0 failed. Stopping the fleet.\n", total)
	if betaFailed > 0 {
		fmt.Printf("NOTE: %d of the beta testers' %d requests failed (listed under phase 3).\n", betaFailed, betaSent)
	}
	return nil
}

// writeConfig copies examples/demo into the configuration directory and writes
// the fleet's variables next to it.
func (s *story) writeConfig() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	src := filepath.Join(root, "examples", "demo")
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"main.ns.hcl", "deploy.sh"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		if name == "main.ns.hcl" {
			s.original = b
		}
		if err := os.WriteFile(filepath.Join(s.dir, name), b, 0o755); err != nil {
			return err
		}
	}
	vars, err := s.stack.Vars()
	if err != nil {
		return err
	}
	s.varFile = filepath.Join(s.dir, "fleet.nsvars")
	return demo.WriteVarFile(s.varFile, demo.DeclaredVariables(s.original), vars)
}

// showCLI runs nonstop with its whole output.
func (s *story) showCLI(args ...string) error {
	verbose := s.r.o.verbose
	s.r.o.verbose = true
	defer func() { s.r.o.verbose = verbose }()
	_, err := s.r.nonstop(args...)
	return err
}

// run runs one phase: configuration, apply under the load, what the clients saw.
func (s *story) run(p phase) (demo.Result, error) {
	ctx := s.r.ctx
	from := s.version
	step("%s", p.title)
	for _, l := range p.intro {
		say("%s", l)
	}
	text := s.original
	if p.strategy != "" {
		var err error
		if text, err = demo.WithStrategy(s.original, p.strategy, p.extra); err != nil {
			return demo.Result{}, fmt.Errorf("examples/demo/main.ns.hcl: %v", err)
		}
		fmt.Println()
		say("examples/demo/main.ns.hcl with its strategy block replaced by:")
		fmt.Print(indentText(p.strategy+"\n", "        "))
		if p.extra != "" {
			say("and in the service:")
			fmt.Print(indentText(p.extra+"\n", "        "))
		}
	}
	if p.standbyFirst {
		standby := s.standbyGroup()
		if standby == "" {
			return demo.Result{}, fmt.Errorf("no group is on standby before %s", p.title)
		}
		var err error
		if text, err = declareFirst(text, standby); err != nil {
			return demo.Result{}, err
		}
		say("and group %q declared first: it is the standby group, out of traffic", standby)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "main.ns.hcl"), text, 0o644); err != nil {
		return demo.Result{}, err
	}
	args := []string{"-var", "order_version=" + p.to}
	for _, v := range p.vars {
		args = append(args, "-var", v)
	}
	args = append(args, "-var-file", s.varFile, s.dir)

	if err := s.stack.WaitSeen(ctx, p.serving, 60*time.Second); err != nil {
		return demo.Result{}, err
	}
	if p.showPlan {
		step("nonstop plan (back to %s)", p.to)
		out, err := s.r.nonstop(append([]string{"plan"}, args...)...)
		if err != nil {
			return demo.Result{}, err
		}
		if deploys := deployStep.FindAllString(out, -1); len(deploys) > 0 {
			say("the plan deploys %d instances: the standby was not reused", len(deploys))
		} else {
			say("no deploy step: the switch back reuses the standby group, which still runs %s", p.to)
		}
	}
	// The idle p99: the quiet load just before the release.
	idleFrom := time.Now().Add(-idleWindow)
	if idleFrom.Before(s.lastEnd) {
		if !sleep(ctx, s.lastEnd.Sub(idleFrom)) {
			return demo.Result{}, ctx.Err()
		}
		idleFrom = s.lastEnd
	}

	sampler := demo.StartSampler(100*time.Millisecond, s.stack.ServingSources()...)
	var beta *demo.Load
	if p.beta {
		beta = demo.StartLoad(max(s.r.o.rate/5, 2), unlimited,
			demo.HTTPPath("beta via nginx", "http://"+s.stack.Nginx.Addr()).WithHeader("X-Canary", "1"),
			demo.HTTPPath("beta via HAProxy", s.stack.HAProxy.URL("www")).WithHeader("X-Canary", "1"))
	}
	stopTicker := s.reportWhileRunning()
	step("nonstop apply -auto-approve (%s → %s) while the clients call", from, p.to)
	started := time.Now()
	idle := s.load.Window(idleFrom, started)
	out, applyErr := s.r.nonstop(append([]string{"apply", "-auto-approve"}, args...)...)
	wall := time.Since(started)
	if ctx.Err() != nil {
		return demo.Result{}, ctx.Err()
	}
	say("apply finished in %s", wall.Round(10*time.Millisecond))
	sleep(ctx, settle)
	end := time.Now()
	stopTicker()
	serving := sampler.Stop()
	counts := s.load.Window(started, end)
	s.lastEnd = end

	res := demo.Result{}
	outcome := "success"
	switch {
	case p.failing && applyErr == nil:
		return res, fmt.Errorf("the apply of %s succeeded, but the version fails its health check", p.to)
	case p.failing && !rolledBack.MatchString(out):
		return res, fmt.Errorf("the apply of %s failed without a rollback: %v", p.to, applyErr)
	case p.failing:
		outcome = "rolled back"
	case applyErr != nil:
		return res, applyErr
	default:
		s.version = p.to
	}

	step("What the clients saw during the release (%s → %s, %s)", from, p.to, outcome)
	for _, c := range counts {
		say("%s", c)
	}
	if beta != nil {
		for _, c := range beta.Stop() {
			say("%s", c)
			s.beta = append(s.beta, c)
		}
		say("beta testers first got %s %s; the other clients %s", p.to,
			firstSeen(beta.Paths, p.to, started), firstSeen(s.load.Paths, p.to, started))
	}
	say("members each path routed to, sampled every 100 ms (count, then changes since the start):")
	var checksUp demo.PathServing
	for _, ps := range serving {
		say("  %s", ps)
		if ps.Name == demo.ChecksUpPath {
			checksUp = ps
		}
	}
	say("instances now: %s", s.instances())

	m := measured{from: from, serving: s.servingAtStart(serving)}
	computed := s.stack.ComputedConfirmOf()
	m.confirms = s.stack.Confirms(p.to, checksUp, started, computed)
	if p.failing {
		m.rollback = s.stack.Confirms(from, checksUp, started, computed)
	}
	// The registry's own time to serve nonstop's writes (Polaris: its next cache
	// refresh, up to a second) is on the path of every group.
	floor := append(p.floor(m), demo.RegistryFloor(out)...)
	res = demo.NewResult(fmt.Sprintf("%s → %s %s", from, p.to, shortTitle(p.title)), counts, idle, wall, floor)
	res.Outcome, res.From, res.To = outcome, from, p.to
	say("wall time %s; physical minimum %s = %s; wall ÷ minimum %.2f",
		wall.Round(10*time.Millisecond), floor, floor.Total().Round(10*time.Millisecond), floor.Ratio(wall))
	if p.failing {
		s.explainRollback(from, started)
	}
	return res, nil
}

// explainRollback says when the rollback redeployed a group's instances one
// after the other: the minimum counts one confirm per group.
func (s *story) explainRollback(from string, started time.Time) {
	for _, g := range s.stack.Opts.Groups {
		var starts []time.Time
		for _, a := range s.stack.Groups[g.Name] {
			for _, d := range s.stack.Fleet.DeployStarts(a) {
				if d.Version == from && d.At.After(started) {
					starts = append(starts, d.At)
				}
			}
		}
		if len(starts) < 2 {
			continue
		}
		slices.SortFunc(starts, time.Time.Compare)
		if gap := starts[len(starts)-1].Sub(starts[0]); gap > time.Second {
			say("(the rollback redeployed group %s's %d instances one after the other, the last %.1fs after the first;",
				g.Name, len(starts), gap.Seconds())
			say(" the minimum counts them in parallel, as the release deployed them)")
		}
	}
}

// standbyGroup returns the group none of whose instances HAProxy serves.
func (s *story) standbyGroup() string {
	serving := map[string]bool{}
	if srvs, err := s.stack.HAProxy.Servers(storyPool); err == nil {
		for _, srv := range srvs {
			serving[srv.Addr] = srv.Serving()
		}
	}
	for _, g := range s.stack.Opts.Groups {
		idle := true
		for _, a := range s.stack.Groups[g.Name] {
			idle = idle && !serving[a]
		}
		if idle {
			return g.Name
		}
	}
	return ""
}

// servingAtStart tells the groups with a member HAProxy served at the first sample.
func (s *story) servingAtStart(paths []demo.PathServing) map[string]bool {
	out := map[string]bool{}
	for _, ps := range paths {
		if ps.Name != demo.PathHAProxy || len(ps.Changes) == 0 {
			continue
		}
		for name, addrs := range s.stack.Groups {
			for _, a := range addrs {
				if slices.Contains(ps.Changes[0].Members, a) {
					out[name] = true
				}
			}
		}
	}
	return out
}

var groupLine = regexp.MustCompile(`(?m)^  group "([a-z]+)" \{ instances = var\.group_[a-z]+ \}\n`)

// declareFirst moves the declaration of group name before the other groups'.
func declareFirst(text []byte, name string) ([]byte, error) {
	locs := groupLine.FindAllSubmatchIndex(text, -1)
	if len(locs) < 2 {
		return nil, fmt.Errorf("examples/demo/main.ns.hcl: want one `group \"NAME\" { instances = var.group_NAME }` line per group")
	}
	var first []byte
	var rest [][]byte
	for _, l := range locs {
		line := text[l[0]:l[1]]
		if string(text[l[2]:l[3]]) == name {
			first = line
		} else {
			rest = append(rest, line)
		}
	}
	if first == nil {
		return nil, fmt.Errorf("examples/demo/main.ns.hcl declares no group %q", name)
	}
	block := append(slices.Clone(first), slices.Concat(rest...)...)
	start, end := locs[0][0], locs[len(locs)-1][1]
	return slices.Concat(text[:start], block, text[end:]), nil
}

var (
	deployStep = regexp.MustCompile(`(?m)^\s+\d+\. deploy `)
	rolledBack = regexp.MustCompile(`(?i)roll(ed)? ?back`)
	titleWord  = regexp.MustCompile(`· (\S+)`)
)

// shortTitle is the strategy word of a phase title: "rolling", "blue-green", ...
func shortTitle(title string) string {
	if strings.Contains(title, "switch back") {
		return "switch back"
	}
	if strings.Contains(title, "bad version") {
		return "bad version"
	}
	if m := titleWord.FindStringSubmatch(title); m != nil {
		return m[1]
	}
	return title
}

// firstSeen says when a path first answered version, after started.
func firstSeen(paths []*demo.Path, version string, started time.Time) string {
	var first time.Time
	for _, p := range paths {
		if at, ok := p.FirstVersion(version, started); ok && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	if first.IsZero() {
		return "never"
	}
	return fmt.Sprintf("at +%.1fs", first.Sub(started).Seconds())
}

// instances renders every instance's version and whether HAProxy serves it:
// "a 1.1.0 1.1.0 | b 1.2.0 1.2.0 (standby)".
func (s *story) instances() string {
	serving := map[string]bool{}
	if srvs, err := s.stack.HAProxy.Servers(storyPool); err == nil {
		for _, srv := range srvs {
			serving[srv.Addr] = srv.Serving()
		}
	}
	client := &http.Client{Timeout: time.Second}
	var parts []string
	for _, g := range s.stack.Opts.Groups {
		var vs []string
		in := false
		for _, a := range s.stack.Groups[g.Name] {
			v := "down"
			if resp, err := client.Get("http://" + a + "/version"); err == nil {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
				resp.Body.Close()
				v = string(b)
			}
			vs = append(vs, v)
			in = in || serving[a]
		}
		part := "group " + g.Name + " " + strings.Join(slices.Compact(vs), "/")
		if !in {
			part += " (standby, out of traffic)"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, " | ")
}

// reportWhileRunning prints the clients' counters every five seconds and every
// new failure as it happens; the returned func stops it.
func (s *story) reportWhileRunning() func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		ticker := time.NewTicker(time.Second)
		defer ticker.Stop()
		printed := map[string]int{}
		for i := 1; ; i++ {
			select {
			case <-done:
				return
			case <-ticker.C:
			}
			var parts []string
			for _, p := range s.load.Paths {
				ok, failed := p.Totals()
				for _, f := range p.FailuresFrom(printed[p.Name]) {
					say("FAILED: %s", f)
					printed[p.Name]++
				}
				parts = append(parts, fmt.Sprintf("%s %d ok %d failed", p.Name, ok, failed))
			}
			if i%5 == 0 {
				say("clients: %s", strings.Join(parts, " | "))
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func indentText(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(l)
	}
	return b.String()
}
