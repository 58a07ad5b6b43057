package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// Environment variables that give the gateway flags their defaults, so that a
// deploy script can make an instance a gateway without touching the command line.
const (
	// EnvGatewayTo is -gateway-to: the registered service the gateway routes to.
	EnvGatewayTo = "NONSTOP_DEMO_GATEWAY_TO"
	// EnvGatewayGroup is -gateway-group: that service's Nacos group.
	EnvGatewayGroup = "NONSTOP_DEMO_GATEWAY_GROUP"
)

// gatewayReselect is how often a gateway re-selects its upstream instances from
// the naming client, as Spring Cloud LoadBalancer's cached supplier refreshes.
const gatewayReselect = time.Second

// gatewayTimeout bounds one proxied request.
const gatewayTimeout = 30 * time.Second

// upstreams is the gateway's list of the instances it may route to: the healthy,
// enabled instances with a weight, as the registry last told it.
type upstreams struct {
	mu      sync.Mutex
	addrs   []string
	lastErr error
	known   bool // a selection or a push has succeeded once
	next    atomic.Uint64
}

// usable returns the addresses of the instances a gateway may route to: healthy,
// enabled and with a weight above zero, sorted, each once.
func usable(insts []model.Instance) []string {
	var out []string
	for _, in := range insts {
		if !in.Healthy || !in.Enable || in.Weight <= 0 {
			continue
		}
		a := net.JoinHostPort(in.Ip, strconv.FormatUint(in.Port, 10))
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// update takes a selection or a push. A failed one keeps the previous list, as
// Spring Cloud's cache does (nacos-sdk-go reports a service without instances as
// an error too); a successful one replaces it, empty included.
func (u *upstreams) update(insts []model.Instance, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastErr = err
	if err != nil {
		return
	}
	u.addrs = usable(insts)
	u.known = true
}

// list returns the current list.
func (u *upstreams) list() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.addrs)
}

// pick returns the next instance, round robin, and false when there is none.
func (u *upstreams) pick() (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.addrs) == 0 {
		return "", false
	}
	return u.addrs[int(u.next.Add(1)-1)%len(u.addrs)], true
}

// ready reports whether the gateway has somewhere to route: a list that holds at
// least one instance.
func (u *upstreams) ready() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.known && len(u.addrs) > 0
}

// gateway is the reverse proxy of -gateway-to: it resolves the service's
// instances through its own nacos-sdk-go naming client (subscribed, re-selected
// every second) and sends each request to one of them, once: a failure is the
// client's to see, never retried on another instance.
type gateway struct {
	service, group string
	client         naming_client.INamingClient
	ups            upstreams
	proxy          *httputil.ReverseProxy
	cancel         context.CancelFunc
	done           chan struct{}
}

// startGateway connects to the registry and starts resolving o.gatewayTo.
func startGateway(o options) (*gateway, error) {
	dir := o.sdkDir
	if dir == "" {
		_, port, _ := net.SplitHostPort(o.addr)
		dir = filepath.Join(os.TempDir(), "demo-service-"+port)
	}
	client, err := namingClient(o, filepath.Join(dir, "gateway"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{service: o.gatewayTo, group: o.gatewayGroup, client: client, cancel: cancel, done: make(chan struct{})}
	g.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetXForwarded()
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = pr.In.Context().Value(upstreamKey{}).(string)
		},
		// A fresh connection per request: Go's transport re-sends an idempotent
		// request whose pooled connection the server closed, which would hide an
		// instance that went away.
		Transport: &http.Transport{
			DisableKeepAlives:     true,
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			ResponseHeaderTimeout: gatewayTimeout,
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			up, _ := r.Context().Value(upstreamKey{}).(string)
			log.Printf("gateway: %s %s via %s: %v", r.Method, r.URL.Path, up, err)
			http.Error(w, fmt.Sprintf("gateway: upstream %s: %v", up, err), http.StatusBadGateway)
		},
	}
	err = client.Subscribe(&vo.SubscribeParam{ServiceName: g.service, GroupName: g.group,
		SubscribeCallback: func(insts []model.Instance, err error) { g.ups.update(insts, err) }})
	if err != nil {
		log.Printf("gateway: subscribe to %s: %v (re-selecting every %s)", g.service, err, gatewayReselect)
	}
	g.reselect()
	go g.loop(ctx)
	log.Printf("gateway to %s (group %s): %v", g.service, g.group, g.ups.list())
	return g, nil
}

// upstreamKey carries the picked instance from ServeHTTP to the proxy's Rewrite.
type upstreamKey struct{}

// reselect asks the naming client for the healthy, enabled instances.
func (g *gateway) reselect() {
	insts, err := g.client.SelectInstances(vo.SelectInstancesParam{ServiceName: g.service, GroupName: g.group, HealthyOnly: true})
	g.ups.update(insts, err)
}

func (g *gateway) loop(ctx context.Context) {
	defer close(g.done)
	t := time.NewTicker(gatewayReselect)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.reselect()
		}
	}
}

// ServeHTTP sends the request to one instance of the service, or answers 503
// when the gateway knows none.
func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up, ok := g.ups.pick()
	if !ok {
		http.Error(w, "gateway: no instance of "+g.service, http.StatusServiceUnavailable)
		return
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), upstreamKey{}, up)))
}

// serveInstances answers GET /gateway/instances: the JSON list the gateway routes
// to now.
func (g *gateway) serveInstances(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	addrs := g.ups.list()
	if addrs == nil {
		addrs = []string{}
	}
	_ = json.NewEncoder(w).Encode(addrs)
}

// close stops resolving and closes the naming client.
func (g *gateway) close() {
	g.cancel()
	<-g.done
	g.client.CloseClient()
}

// namingClient connects a nacos-sdk-go naming client (gRPC) to o.nacos, with
// its logs and cache in dir.
func namingClient(o options, dir string) (naming_client.INamingClient, error) {
	host, portStr, err := net.SplitHostPort(o.nacos)
	if err != nil {
		return nil, fmt.Errorf("-nacos %q: %v", o.nacos, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("-nacos %q: bad port", o.nacos)
	}
	namespace := o.namespace
	if namespace == "public" {
		namespace = ""
	}
	cc := constant.NewClientConfig(
		constant.WithNamespaceId(namespace),
		constant.WithTimeoutMs(5000),
		constant.WithNotLoadCacheAtStart(true),
		constant.WithLogDir(filepath.Join(dir, "log")),
		constant.WithCacheDir(filepath.Join(dir, "cache")),
		constant.WithLogLevel("warn"),
		constant.WithUsername(o.username),
		constant.WithPassword(o.password),
	)
	client, err := clients.NewNamingClient(vo.NacosClientParam{ClientConfig: cc,
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig(host, port)}})
	if err != nil {
		return nil, fmt.Errorf("nacos client for %s: %v", o.nacos, err)
	}
	return client, nil
}

// errGatewayWithoutRegistry is parseFlags' refusal of -gateway-to with -nacos "".
var errGatewayWithoutRegistry = errors.New("-gateway-to needs a registry (-nacos)")
