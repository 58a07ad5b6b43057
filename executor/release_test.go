package executor

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// release is a small fleet for apply tests: real HTTP instances (httptest) whose
// version is a file the deploy command (a real `sh -c`) writes, an in-memory nginx
// pool and registry, and a configuration loaded by lang from HCL.
type release struct {
	t     *testing.T
	dir   string
	addrs []string
	log   *writeLog
	lb    *fakeLB
	reg   *fakeRegistry
	out   *syncBuffer
	cfg   *lang.Config

	mu  sync.Mutex
	bad map[string]string // address -> version whose health fails there
}

// releaseOptions are the configuration knobs tests turn.
type releaseOptions struct {
	instances int
	command   string // HCL list expression; default writes the version file
	timeout   string // deploy timeout
	onFailure string
	// minAvailable sets min_available when above zero.
	minAvailable int
}

const writeVersion = `["sh", "-c", "echo deploying $1 $2 for $SERVICE; printf %s \"$2\" > \"versions/$3\"", "deploy", instance.address, version, tostring(instance.port)]`

func newRelease(t *testing.T, o releaseOptions) *release {
	t.Helper()
	if o.instances == 0 {
		o.instances = 2
	}
	if o.command == "" {
		o.command = writeVersion
	}
	if o.timeout == "" {
		o.timeout = "10s"
	}
	if o.onFailure == "" {
		o.onFailure = PolicyRollback
	}
	rl := &release{t: t, dir: t.TempDir(), log: &writeLog{}, out: &syncBuffer{}, bad: map[string]string{}}
	if err := os.Mkdir(filepath.Join(rl.dir, "versions"), 0o755); err != nil {
		t.Fatal(err)
	}
	rl.lb = newFakeLB("nginx", "edge", rl.log)
	rl.reg = newFakeRegistry("prod", rl.log)
	rl.reg.version = func(addr string) (string, bool) { return rl.version(addr), true }
	var groups []string
	for i := 0; i < o.instances; i++ {
		srv := httptest.NewServer(http.HandlerFunc(rl.serve))
		t.Cleanup(srv.Close)
		addr := srv.Listener.Addr().String()
		rl.addrs = append(rl.addrs, addr)
		rl.setVersion(addr, "1.0.0")
		rl.lb.addMember("order_backend", addr, 1)
		rl.reg.add("order-service", addr)
		groups = append(groups, fmt.Sprintf("group %q { instances = [%q] }", string(rune('a'+i)), addr))
	}
	src := fmt.Sprintf(`
provider "nacos" "prod" {
  addresses   = ["127.0.0.1:8848"]
  propagation = "10ms"
}
provider "nginx" "edge" { upstreams_file = "upstreams.conf" }
service "order-service" {
  version = "2.0.0"
  registry { provider = nacos.prod }
  %s
  balancer "http" {
    provider = nginx.edge
    pool     = "order_backend"
  }
  strategy "rolling" { batch = 1 }
  min_available = %d
  deploy {
    command = %s
    env     = { SERVICE = service.name }
    timeout = %q
  }
  health {
    http     = "http://${instance.address}/health"
    interval = "10ms"
    timeout  = "300ms"
  }
  verify {
    http     = "http://${instance.address}/version"
    contains = version
  }
  on_failure = %q
}
`, strings.Join(groups, "\n  "), max(1, o.minAvailable), o.command, o.timeout, o.onFailure)
	cfg, d := lang.LoadFiles(rl.dir, map[string][]byte{"main.ns.hcl": []byte(src)}, lang.LoadOptions{})
	if d.HasErrors() {
		t.Fatalf("loading the test configuration: %v", d)
	}
	rl.cfg = cfg
	return rl
}

// serve is an instance: /health fails for a version marked bad, /version reports it.
func (rl *release) serve(w http.ResponseWriter, r *http.Request) {
	addr := r.Host
	v := rl.version(addr)
	switch r.URL.Path {
	case "/health":
		rl.mu.Lock()
		bad := rl.bad[addr] == v
		rl.mu.Unlock()
		if bad {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	case "/version":
		fmt.Fprintf(w, "version=%s\n", v)
	default:
		http.NotFound(w, r)
	}
}

func (rl *release) versionFile(addr string) string {
	_, port, _ := strings.Cut(addr, ":")
	return filepath.Join(rl.dir, "versions", port)
}

func (rl *release) version(addr string) string {
	b, _ := os.ReadFile(rl.versionFile(addr))
	return string(b)
}

func (rl *release) setVersion(addr, v string) {
	if err := os.WriteFile(rl.versionFile(addr), []byte(v), 0o644); err != nil {
		rl.t.Fatal(err)
	}
}

// failHealth makes an instance unhealthy whenever it runs version v.
func (rl *release) failHealth(addr, v string) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.bad[addr] = v
}

func (rl *release) runner() *Runner {
	return &Runner{
		Config:       rl.cfg,
		Providers:    map[lang.ProviderRef]providers.Provider{{Kind: "nginx", Name: "edge"}: rl.lb, {Kind: "nacos", Name: "prod"}: rl.reg},
		Logger:       hclog.New(&hclog.LoggerOptions{Output: rl.out, Level: hclog.Info, DisableTime: true}),
		PollInterval: 5 * time.Millisecond,
	}
}

// unit returns the planner's drain → deploy → restore sequence for one instance,
// after the given steps. ids are "order-service.<prefix>.<n>".
func unit(prefix, addr, group string, propagation planner.Duration, after ...string) []planner.Step {
	const svc = "order-service"
	target := svc + "/" + group + "/" + addr
	lb := planner.StepArgs{Provider: "nginx.edge", Pool: "order_backend", Address: addr}
	reg := planner.StepArgs{Provider: "nacos.prod", Address: addr}
	inst := planner.StepArgs{Address: addr, Group: group, Version: "2.0.0"}
	var steps []planner.Step
	add := func(kind planner.StepKind, args planner.StepArgs, mutate func(*planner.StepArgs)) {
		if mutate != nil {
			mutate(&args)
		}
		id := fmt.Sprintf("%s.%s.%d", svc, prefix, len(steps)+1)
		st := planner.Step{ID: id, Kind: kind, Service: svc, Target: target, Args: args, After: after}
		steps = append(steps, st)
		after = []string{id}
	}
	add(planner.BalancerSetWeight, lb, func(a *planner.StepArgs) { a.Weight = intp(0) })
	add(planner.RegistrySetEnabled, reg, func(a *planner.StepArgs) { a.Enabled = boolp(false) })
	add(planner.WaitPropagation, planner.StepArgs{Duration: propagation}, nil)
	add(planner.WaitDrain, planner.StepArgs{Members: []string{"nginx.edge/order_backend/" + addr}, Duration: ms(100)}, nil)
	add(planner.Deploy, inst, func(a *planner.StepArgs) { a.FromVersion = "1.0.0" })
	add(planner.WaitHealthy, inst, nil)
	add(planner.Verify, inst, nil)
	add(planner.RegistrySetEnabled, reg, func(a *planner.StepArgs) { a.Enabled = boolp(true) })
	add(planner.BalancerSetWeight, lb, func(a *planner.StepArgs) { a.Weight = intp(1) })
	return steps
}

// syncBuffer is a goroutine-safe bytes.Buffer for log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
