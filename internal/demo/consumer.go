package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// ConsumerRefresh is how often a Consumer re-selects its instance list.
const ConsumerRefresh = time.Second

// Consumer is a client application that finds the service through the registry
// the way Spring Cloud does with Nacos: a nacos-sdk-go naming client (subscribed, so
// the registry pushes changes) whose healthy, enabled instances are re-selected
// every second into a cached list, and a random instance of that list per request.
type Consumer struct {
	client  naming_client.INamingClient // nil for an HTTP consumer
	param   vo.SelectInstancesParam
	list    func() ([]string, error) // the healthy, enabled instances now
	mu      sync.Mutex
	addrs   []string
	lastErr error
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewConsumer connects to the registry at nacos ("host:port" of the Nacos HTTP API;
// gRPC is port+1000) and starts refreshing service's instance list. sdkDir receives
// the SDK's logs and cache. Close stops it.
func NewConsumer(nacos, service, group, sdkDir string) (*Consumer, error) {
	host, portStr, err := net.SplitHostPort(nacos)
	if err != nil {
		return nil, fmt.Errorf("registry address %q: %v", nacos, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("registry address %q: bad port", nacos)
	}
	cc := constant.NewClientConfig(
		constant.WithTimeoutMs(5000),
		constant.WithNotLoadCacheAtStart(true),
		constant.WithLogDir(filepath.Join(sdkDir, "log")),
		constant.WithCacheDir(filepath.Join(sdkDir, "cache")),
		constant.WithLogLevel("warn"),
	)
	client, err := clients.NewNamingClient(vo.NacosClientParam{
		ClientConfig:  cc,
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig(host, port)},
	})
	if err != nil {
		return nil, fmt.Errorf("nacos client for %s: %v", nacos, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Consumer{
		client: client,
		param:  vo.SelectInstancesParam{ServiceName: service, GroupName: group, HealthyOnly: true},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	c.list = c.selectInstances
	c.refresh()
	go c.loop(ctx)
	return c, nil
}

// NewHTTPConsumer is a consumer that re-reads the healthy, enabled instances
// every second with the Nacos HTTP API (GET /nacos/v1/ns/instance/list), as
// Nacos 1.x clients do, instead of a subscribed gRPC client. Polaris v1.18.1
// pushes no change of a service outside DEFAULT_GROUP to gRPC subscribers (an
// isolated or deregistered instance stays in their lists), so the demo uses this
// one for such services.
func NewHTTPConsumer(nacos, service, group string) (*Consumer, error) {
	if _, _, err := net.SplitHostPort(nacos); err != nil {
		return nil, fmt.Errorf("registry address %q: %v", nacos, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Consumer{
		param:  vo.SelectInstancesParam{ServiceName: service, GroupName: group, HealthyOnly: true},
		cancel: cancel,
		done:   make(chan struct{}),
	}
	client := &http.Client{Timeout: 2 * time.Second}
	u := "http://" + nacos + "/nacos/v1/ns/instance/list?" + url.Values{
		"serviceName": {group + "@@" + service}, "groupName": {group}, "healthyOnly": {"true"},
	}.Encode()
	c.list = func() ([]string, error) {
		resp, err := client.Get(u)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		var answer struct {
			Hosts []struct {
				IP      string  `json:"ip"`
				Port    uint64  `json:"port"`
				Healthy bool    `json:"healthy"`
				Enabled bool    `json:"enabled"`
				Weight  float64 `json:"weight"`
			} `json:"hosts"`
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&answer); err != nil {
			return nil, fmt.Errorf("GET %s: %v", u, err)
		}
		addrs := make([]string, 0, len(answer.Hosts))
		for _, h := range answer.Hosts {
			if h.Healthy && h.Enabled && h.Weight > 0 {
				addrs = append(addrs, net.JoinHostPort(h.IP, strconv.FormatUint(h.Port, 10)))
			}
		}
		return addrs, nil
	}
	c.refresh()
	go c.loop(ctx)
	return c, nil
}

// selectInstances asks the naming client for the healthy, enabled instances.
func (c *Consumer) selectInstances() ([]string, error) {
	insts, err := c.client.SelectInstances(c.param)
	addrs := make([]string, 0, len(insts))
	for _, in := range insts {
		addrs = append(addrs, net.JoinHostPort(in.Ip, strconv.FormatUint(in.Port, 10)))
	}
	return addrs, err
}

func (c *Consumer) loop(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(ConsumerRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.refresh()
		}
	}
}

// refresh re-selects the healthy, enabled instances. A failed selection keeps the
// previous list, as Spring Cloud's cache does.
func (c *Consumer) refresh() {
	addrs, err := c.list()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastErr = err
	if err != nil && len(addrs) == 0 && len(c.addrs) > 0 {
		return
	}
	c.addrs = addrs
}

// Instances returns the cached instance list.
func (c *Consumer) Instances() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.addrs...)
}

// pick returns the base URL of a random cached instance.
func (c *Consumer) pick() (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.addrs) == 0 {
		return "", fmt.Errorf("no instance of %s in the registry (last selection: %v)", c.param.ServiceName, c.lastErr)
	}
	return "http://" + c.addrs[rand.IntN(len(c.addrs))], nil
}

// Path returns a load path that calls the consumer's instances directly.
func (c *Consumer) Path(name string) *Path {
	p := newPath(name, c.pick)
	p.direct = true
	return p
}

// WaitInstances waits until the consumer's list holds n instances.
func (c *Consumer) WaitInstances(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got := c.Instances()
		if len(got) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the registry consumer lists %v after %s, want %d instances", got, timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Close stops refreshing and closes the naming client.
func (c *Consumer) Close() {
	c.cancel()
	<-c.done
	if c.client != nil {
		c.client.CloseClient()
	}
}
