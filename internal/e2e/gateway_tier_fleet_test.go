package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
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
)

// The two tiers of examples/gateway-tier, as the example names them.
const (
	searchService  = "patent-search"
	gatewayService = "patent-gateway"
	// gatewayPool is the HAProxy backend that stands in for the SLB's vServer group.
	gatewayPool = "gateway_pool"
	// gatewayTierPropagation overrides the example's 30s: the consumers here
	// re-select every second and Polaris pushes within about two.
	gatewayTierPropagation = 4 * time.Second
	// gatewayTierInFlight overrides the example's 10s in-flight wait: a request
	// here takes milliseconds.
	gatewayTierInFlight = time.Second
)

// gatewayTier is the two-tier fleet of examples/gateway-tier on this machine:
// HAProxy with active checks standing in for the SLB, four gateway nodes (groups
// a and b) and four search servers (groups a and b), all demo-service processes
// started and restarted by examples/demo/deploy.sh, registered in the package's
// Polaris; the gateways resolve the search servers through it.
type gatewayTier struct {
	*fleet // t and the configuration directory, for release and assertNoChanges
	procs  *testfleet.DemoFleet
	search []string // a, a, b, b
	gws    []string // a, a, b, b
	lb     *testfleet.HAProxy

	searchConsumer, gatewayConsumer *demo.Consumer
}

// newGatewayTier starts the fleet with the search servers at searchVersion and
// the gateways at gatewayVersion, every process slow to start and warming up.
func newGatewayTier(t *testing.T, searchVersion, gatewayVersion string) *gatewayTier {
	t.Helper()
	addrs := make([]string, 8)
	for i := range addrs {
		port, err := testfleet.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = fmt.Sprintf("127.0.0.1:%d", port)
	}
	g := &gatewayTier{fleet: &fleet{t: t, dir: t.TempDir(), progress: newProgressLog(t)}, search: addrs[:4], gws: addrs[4:]}
	procs, err := testfleet.NewDemoFleet(t.TempDir(), registry.NacosAddr, searchService)
	if err != nil {
		t.Fatal(err)
	}
	procs.StartDelay, procs.Warmup = startDelay, warmup
	g.procs = procs
	t.Cleanup(procs.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			for _, a := range addrs {
				t.Logf("log of %s:\n%s", a, procs.Log(a))
			}
		}
	})
	// The search servers first: a gateway is ready only once it knows one.
	if err := procs.DeployAll(g.search, searchVersion); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(g.gws))
	for i, a := range g.gws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.deployGateway(a, gatewayVersion)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	g.lb = testfleet.StartHAProxy(t, testfleet.HAProxyConfig{
		Backends:  []testfleet.HAProxyBackend{{Name: gatewayPool, Servers: g.gws}},
		Frontends: []testfleet.HAProxyFrontend{{Name: "www", DefaultBackend: gatewayPool}},
	})
	for _, c := range []struct {
		svc string
		dst **demo.Consumer
	}{{searchService, &g.searchConsumer}, {gatewayService, &g.gatewayConsumer}} {
		consumer, err := demo.NewConsumer(registry.NacosAddr, c.svc, "DEFAULT_GROUP", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(consumer.Close)
		*c.dst = consumer
	}
	return g
}

// deployGateway starts (or restarts) the gateway node at addr at version the way
// nonstop's deploy step does for examples/gateway-tier: deploy.sh with SERVICE
// and NONSTOP_DEMO_GATEWAY_TO, then waits until it is ready.
func (g *gatewayTier) deployGateway(addr, version string) error {
	if err := g.procs.WriteEnv(); err != nil {
		return err
	}
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command("bash", g.procs.Script, host, port, version)
	cmd.Env = append(append(os.Environ(), g.procs.Env()...),
		"SERVICE="+gatewayService, "NONSTOP_DEMO_GATEWAY_TO="+searchService)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("deploy gateway %s %s: %v\n%s", addr, version, err, out.String())
	}
	return g.procs.WaitReady(addr, version, 30*time.Second+startDelay+warmup)
}

var slbProvider = regexp.MustCompile(`(?ms)^provider "aliyun_slb" "edge" \{\n.*?^\}\n`)

// standInHAProxy returns examples/gateway-tier/main.ns.hcl with the SLB
// replaced by the HAProxy at runtimeAPI: the provider block and the gateway
// balancer's provider reference. Everything else is the example as written.
func standInHAProxy(text []byte, runtimeAPI string) ([]byte, error) {
	s := string(text)
	if n := len(slbProvider.FindAllStringIndex(s, -1)); n != 1 {
		return nil, fmt.Errorf(`want one provider "aliyun_slb" "edge" block, found %d`, n)
	}
	s = slbProvider.ReplaceAllLiteralString(s, fmt.Sprintf("provider \"haproxy\" \"edge\" {\n  runtime_api = %q\n}\n", runtimeAPI))
	const ref = "provider = aliyun_slb.edge"
	if n := strings.Count(s, ref); n != 1 {
		return nil, fmt.Errorf("want one %q, found %d", ref, n)
	}
	return []byte(strings.Replace(s, ref, "provider = haproxy.edge", 1)), nil
}

// releaser writes examples/gateway-tier (the SLB stood in by HAProxy) with the
// fleet's variables and the two versions, and loads it.
func (g *gatewayTier) releaser(searchVersion, gatewayVersion string) *releaser {
	t := g.t
	t.Helper()
	root, err := fleetpkg.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	example := filepath.Join(root, "examples", "gateway-tier")
	text, err := os.ReadFile(filepath.Join(example, "main.ns.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	cfgText, err := standInHAProxy(text, g.lb.TCPURL())
	if err != nil {
		t.Fatalf("examples/gateway-tier/main.ns.hcl: %v", err)
	}
	script, err := os.ReadFile(filepath.Join(example, "deploy.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(g.dir, "main.ns.hcl"), cfgText, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(g.dir, "deploy.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"search_version":    demo.HCLString(searchVersion),
		"gateway_version":   demo.HCLString(gatewayVersion),
		"propagation":       demo.HCLString(gatewayTierPropagation.String()),
		"in_flight":         demo.HCLString(gatewayTierInFlight.String()),
		"health_path":       demo.HCLString("/health"),
		"nacos":             demo.HCLString(registry.NacosAddr),
		"polaris":           demo.HCLString(registry.NativeAddr),
		"slb_vserver_group": demo.HCLString(gatewayPool),
		"search_a":          demo.HCLList(g.search[:2]),
		"search_b":          demo.HCLList(g.search[2:]),
		"gateway_a":         demo.HCLList(g.gws[:2]),
		"gateway_b":         demo.HCLList(g.gws[2:]),
		"deploy_env": demo.HCLMap(map[string]string{
			"NONSTOP_DEPLOY_HOOK": g.procs.Script,
			"NONSTOP_DEMO_DIR":    g.procs.Dir,
			"NONSTOP_DEMO_BIN":    g.procs.Bin,
			"NONSTOP_DEMO_NACOS":  registry.NacosAddr,
		}),
	}
	varFile := filepath.Join(g.dir, "fleet.nsvars")
	if err := demo.WriteVarFile(varFile, demo.DeclaredVariables(cfgText), vars); err != nil {
		t.Fatal(err)
	}
	cfg, ds := lang.LoadDir(g.dir, lang.LoadOptions{VarFiles: []string{varFile}})
	if ds.HasErrors() {
		t.Fatalf("load %s: %v", g.dir, ds.Err())
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "nonstop", Level: hclog.Info, Output: g.progress})
	return &releaser{cfg: cfg, log: logger}
}

// gatewaysRouteTo is the path from the front balancer through a gateway to the
// search servers, as the gateways see it: of the gateways HAProxy routes to now,
// the smallest list of search servers one of them routes to.
func gatewaysRouteTo(name, runtimeAPI string) demo.ServingSource {
	client := &http.Client{Timeout: time.Second}
	return demo.ServingSource{Name: name, Members: func() ([]string, error) {
		srvs, err := testfleet.HAProxyServers(runtimeAPI, gatewayPool)
		if err != nil {
			return nil, err
		}
		var smallest []string
		seen := false
		for _, s := range srvs {
			if !s.Serving() {
				continue
			}
			list, err := gatewayList(client, s.Addr)
			if err != nil {
				return nil, err
			}
			if !seen || len(list) < len(smallest) {
				smallest, seen = list, true
			}
		}
		if !seen {
			return nil, nil
		}
		return smallest, nil
	}}
}

// gatewayList reads the search servers a gateway routes to (GET /gateway/instances).
func gatewayList(client *http.Client, addr string) ([]string, error) {
	resp, err := client.Get("http://" + addr + "/gateway/instances")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("gateway %s: GET /gateway/instances: %s", addr, resp.Status)
	}
	var list []string
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("gateway %s: /gateway/instances: %v", addr, err)
	}
	return list, nil
}

// stepSpans records, per service, when its first step started and its last
// step ended.
type stepSpans struct {
	mu          sync.Mutex
	first, last map[string]time.Time
}

func newStepSpans() *stepSpans {
	return &stepSpans{first: map[string]time.Time{}, last: map[string]time.Time{}}
}

func (s *stepSpans) Emit(e executor.Event) {
	if e.Step == nil || e.Service == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Type {
	case executor.EventStepStart:
		if _, ok := s.first[e.Service]; !ok {
			s.first[e.Service] = e.Time
		}
	case executor.EventStepComplete:
		if e.Time.After(s.last[e.Service]) {
			s.last[e.Service] = e.Time
		}
	}
}

// span returns when service's first step started and its last step ended.
func (s *stepSpans) span(service string) (first, last time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first[service], s.last[service]
}
