package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// StackGroup is one group of instances of a Stack.
type StackGroup struct {
	Name string
	Size int
}

// StackOptions configures StartStack.
type StackOptions struct {
	// Dir receives every component's files; it is created when missing.
	Dir string
	// Service is the registered service name, RegistryGroup its Nacos group
	// ("" is DEFAULT_GROUP).
	Service, RegistryGroup string
	// Version is what every instance runs at first.
	Version string
	// Groups are the service's groups, each of Size instances on free loopback
	// ports.
	Groups []StackGroup
	// NginxPool is the upstream of an edge nginx in front of every instance;
	// "" runs no nginx.
	NginxPool string
	// HAProxyBackend is the backend of an HAProxy with active checks in front of
	// every instance; "" runs no HAProxy.
	HAProxyBackend string
	// Routes names the routes HAProxy can hold: each gets a backend
	// HAProxyBackend__NAME with every instance, and the frontend the rules of
	// providers/haproxy/doc.go for header RouteHeader and for client IPs.
	Routes      []string
	RouteHeader string
	// StartDelay and Warmup make instances start like real applications.
	StartDelay, Warmup time.Duration
	// Say prints one line of progress; nil prints nothing.
	Say func(format string, args ...any)
}

// Stack is a running loopback fleet: Polaris, the demo-service instances (deployed
// by examples/demo/deploy.sh), nginx and HAProxy in front of them, and a registry
// consumer. Stop stops all of it.
type Stack struct {
	Opts     StackOptions
	Registry *fleet.Polaris
	Fleet    *fleet.DemoFleet
	Nginx    *fleet.Nginx   // nil without NginxPool
	HAProxy  *fleet.HAProxy // nil without HAProxyBackend
	Consumer *Consumer
	// Addrs are every instance's address, Groups the same by group.
	Addrs  []string
	Groups map[string][]string

	mu      sync.Mutex
	stops   []func()
	stopped bool
}

// StartStack starts a stack; on an error it stops what it started.
func StartStack(o StackOptions) (s *Stack, err error) {
	if o.Say == nil {
		o.Say = func(string, ...any) {}
	}
	if o.RegistryGroup == "" {
		o.RegistryGroup = "DEFAULT_GROUP"
	}
	s = &Stack{Opts: o, Groups: map[string][]string{}}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	for _, g := range o.Groups {
		for range g.Size {
			port, err := fleet.FreePort()
			if err != nil {
				return nil, err
			}
			a := fmt.Sprintf("127.0.0.1:%d", port)
			s.Addrs = append(s.Addrs, a)
			s.Groups[g.Name] = append(s.Groups[g.Name], a)
		}
	}

	s.Registry, err = fleet.StartPolarisProcess(filepath.Join(o.Dir, "polaris"), nil)
	if err != nil {
		return nil, err
	}
	s.onStop(s.Registry.Stop)
	o.Say("Polaris (the Nacos-protocol registry): Nacos API %s, Polaris API %s, up in %s",
		s.Registry.NacosAddr, s.Registry.NativeAddr, s.Registry.Startup.Round(time.Millisecond))

	if o.NginxPool != "" {
		s.Nginx, err = fleet.StartEdgeNginxProcess(filepath.Join(o.Dir, "nginx"), o.NginxPool, s.Addrs)
		if err != nil {
			return nil, err
		}
		s.onStop(s.Nginx.Shutdown)
		o.Say("nginx http://%s/ (upstream %s; upstreams file %s)", s.Nginx.Addr(), o.NginxPool, s.Nginx.UpstreamsFile)
	}
	if o.HAProxyBackend != "" {
		cfg := fleet.HAProxyConfig{
			Backends:  []fleet.HAProxyBackend{{Name: o.HAProxyBackend, Servers: s.Addrs}},
			Frontends: []fleet.HAProxyFrontend{{Name: "www", DefaultBackend: o.HAProxyBackend, Rules: routeRules(o)}},
		}
		for _, r := range o.Routes {
			cfg.Backends = append(cfg.Backends, fleet.HAProxyBackend{Name: o.HAProxyBackend + "__" + r, Servers: s.Addrs})
		}
		s.HAProxy, err = fleet.StartHAProxyProcess(filepath.Join(o.Dir, "haproxy"), cfg)
		if err != nil {
			return nil, err
		}
		s.onStop(s.HAProxy.Shutdown)
		c := fleet.DefaultHAProxyChecks
		o.Say("HAProxy %s (backend %s; runtime API %s; checks GET %s every %s, fall %d, rise %d)",
			s.HAProxy.URL("www"), o.HAProxyBackend, s.HAProxy.TCPURL(), c.Path, c.Inter, c.Fall, c.Rise)
	}

	s.Fleet, err = fleet.NewDemoFleet(filepath.Join(o.Dir, "fleet"), s.Registry.NacosAddr, o.Service)
	if err != nil {
		return nil, err
	}
	s.Fleet.StartDelay, s.Fleet.Warmup = o.StartDelay, o.Warmup
	s.onStop(s.Fleet.Stop)
	// deploy.sh registers instances in NONSTOP_DEMO_GROUP; DemoFleet passes it
	// on from this process's environment.
	if err := os.Setenv("NONSTOP_DEMO_GROUP", o.RegistryGroup); err != nil {
		return nil, err
	}
	started := time.Now()
	if err := s.Fleet.DeployAll(s.Addrs, o.Version); err != nil {
		return nil, err
	}
	o.Say("%d demo-service instances at %s, ready in %s (start-up delay %s, warm-up %s, then registration):",
		len(s.Addrs), o.Version, time.Since(started).Round(100*time.Millisecond), o.StartDelay, o.Warmup)
	for _, g := range o.Groups {
		o.Say("    group %-6s %s", g.Name, strings.Join(s.Groups[g.Name], " "))
	}

	if o.RegistryGroup == "DEFAULT_GROUP" {
		s.Consumer, err = NewConsumer(s.Registry.NacosAddr, o.Service, o.RegistryGroup, filepath.Join(o.Dir, "consumer"))
	} else {
		// Polaris pushes no change of such a service to gRPC subscribers.
		s.Consumer, err = NewHTTPConsumer(s.Registry.NacosAddr, o.Service, o.RegistryGroup)
		o.Say("registry consumer: re-reads group %s over the Nacos HTTP API every second (Polaris %s pushes no change of a group other than DEFAULT_GROUP to gRPC subscribers)",
			o.RegistryGroup, fleet.PolarisVersion)
	}
	if err != nil {
		return nil, err
	}
	s.onStop(s.Consumer.Close)
	return s, nil
}

// routeRules are the HAProxy frontend lines of providers/haproxy/doc.go.
func routeRules(o StackOptions) []string {
	if len(o.Routes) == 0 {
		return nil
	}
	header := o.RouteHeader
	if header == "" {
		header = "X-Canary"
	}
	v := "txn.ns_" + strings.ToLower(strings.ReplaceAll(header, "-", "_"))
	pool := o.HAProxyBackend
	return []string{
		fmt.Sprintf("http-request set-var(%s) req.hdr(%s)", v, header),
		fmt.Sprintf("http-request set-var(txn.ns_key) str(%s/%s=),concat(,%s,)", pool, header, v),
		"use_backend %[var(txn.ns_key),map_str({dir}/routes.map),field(1,|)] if { var(txn.ns_key),map_str({dir}/routes.map) -m found }",
		fmt.Sprintf("use_backend %%[src,map_ip({dir}/routes-ip.map),field(1,|)] if { src,map_ip({dir}/routes-ip.map),field(1,|) -m beg %s__ }", pool),
	}
}

func (s *Stack) onStop(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stops = append(s.stops, f)
}

// Stop stops everything the stack started, the last started first. It is safe
// to call more than once and from several goroutines.
func (s *Stack) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	stops := s.stops
	s.mu.Unlock()
	for _, f := range slices.Backward(stops) {
		f()
	}
}

// Path names of the three client paths.
const (
	PathNginx    = "via nginx"
	PathHAProxy  = "via HAProxy"
	PathRegistry = "via registry"
)

// Paths returns a new client path through each balancer the stack runs and one
// through the registry consumer.
func (s *Stack) Paths() []*Path {
	var out []*Path
	if s.Nginx != nil {
		out = append(out, HTTPPath(PathNginx, "http://"+s.Nginx.Addr()))
	}
	if s.HAProxy != nil {
		out = append(out, HTTPPath(PathHAProxy, s.HAProxy.URL("www")))
	}
	return append(out, s.Consumer.Path(PathRegistry))
}

// ChecksUpPath names the sampler's count of the members HAProxy's checks have up.
const ChecksUpPath = "HAProxy checks UP"

// ServingSources returns a source per client path and, with HAProxy, the members
// its checks have up (ChecksUpPath).
func (s *Stack) ServingSources() []ServingSource {
	var out []ServingSource
	if s.Nginx != nil {
		out = append(out, NginxServing(PathNginx, s.Nginx.UpstreamsFile, s.Opts.NginxPool))
	}
	if s.HAProxy != nil {
		out = append(out, HAProxyServing(PathHAProxy, s.HAProxy.TCPURL(), s.Opts.HAProxyBackend))
	}
	out = append(out, s.Consumer.Serving(PathRegistry))
	if s.HAProxy != nil {
		out = append(out, HAProxyChecksUp(ChecksUpPath, s.HAProxy.TCPURL(), s.Opts.HAProxyBackend))
	}
	return out
}

// WaitSeen waits until every client path sees n instances: the registry
// consumer lists n, HAProxy has n servers serving with a passed check, and the
// nginx upstream has n serving members.
func (s *Stack) WaitSeen(ctx context.Context, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		missing := s.unseen(n)
		if missing == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s %s", timeout, missing)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// unseen says which path does not see n instances yet, "" when all do.
func (s *Stack) unseen(n int) string {
	if got := s.Consumer.Instances(); len(got) < n {
		return fmt.Sprintf("the registry consumer lists %d instances, want %d", len(got), n)
	}
	if s.HAProxy != nil {
		confirmed, _, err := s.HAProxy.Confirmed(s.Opts.HAProxyBackend)
		if err != nil {
			return "HAProxy: " + err.Error()
		}
		if confirmed < n {
			return fmt.Sprintf("HAProxy has %d servers UP by a passed check, want %d", confirmed, n)
		}
	}
	if s.Nginx != nil {
		m, err := nginxMembers(s.Nginx.UpstreamsFile, s.Opts.NginxPool)
		if err != nil {
			return "nginx: " + err.Error()
		}
		if len(m) < n {
			return fmt.Sprintf("nginx routes to %d members, want %d", len(m), n)
		}
	}
	return ""
}

// Vars returns the values (HCL expressions) of the variables the examples
// declare for the fleet: the registry, nginx and HAProxy addresses, each group's
// instances as group_NAME, and deploy_env, the environment under which an
// example's deploy.sh hands over to examples/demo/deploy.sh.
func (s *Stack) Vars() (map[string]string, error) {
	hook := filepath.Join(filepath.Dir(s.Fleet.Script), "deploy.sh")
	if _, err := os.Stat(hook); err != nil {
		return nil, err
	}
	env := map[string]string{
		"NONSTOP_DEPLOY_HOOK": hook,
		"NONSTOP_DEMO_DIR":    s.Fleet.Dir,
		"NONSTOP_DEMO_BIN":    s.Fleet.Bin,
		"NONSTOP_DEMO_NACOS":  s.Registry.NacosAddr,
		"NONSTOP_DEMO_GROUP":  s.Opts.RegistryGroup,
	}
	v := map[string]string{
		"nacos":      HCLString(s.Registry.NacosAddr),
		"polaris":    HCLString(s.Registry.NativeAddr),
		"fleet_dir":  HCLString(s.Fleet.Dir),
		"demo_bin":   HCLString(s.Fleet.Bin),
		"deploy_env": HCLMap(env),
	}
	if s.Nginx != nil {
		v["upstreams_file"] = HCLString(s.Nginx.UpstreamsFile)
		v["nginx_test"] = HCLList(s.Nginx.Command("-t"))
		v["nginx_reload"] = HCLList(s.Nginx.Command("-s", "reload"))
	}
	if s.HAProxy != nil {
		v["haproxy_api"] = HCLString(s.HAProxy.TCPURL())
		if len(s.Opts.Routes) > 0 {
			v["haproxy_routes_map"] = HCLString(s.HAProxy.RoutesMap)
			v["haproxy_routes_ip_map"] = HCLString(s.HAProxy.RoutesIPMap)
		}
	}
	for name, addrs := range s.Groups {
		v["group_"+name] = HCLList(addrs)
	}
	return v, nil
}
