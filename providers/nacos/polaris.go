package nacos

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nonstop-release/nonstop/providers"
)

// polarisInstance is an instance as Polaris' own API shows it.
type polarisInstance struct {
	Host     string            `json:"host"`
	Port     int               `json:"port"`
	Weight   *float64          `json:"weight"`
	Healthy  *bool             `json:"healthy"`
	Isolate  *bool             `json:"isolate"`
	Metadata map[string]string `json:"metadata"`
}

// polarisServiceName is the name Polaris gives a Nacos service: the group and the
// service joined by "__", except for DEFAULT_GROUP, which is left out (checked on
// v1.18.1: group "G1", service "order-service" is "G1__order-service").
func polarisServiceName(svc providers.ServiceKey) string {
	if svc.Group == "" || svc.Group == defaultGroup {
		return svc.Service
	}
	return svc.Group + "__" + svc.Service
}

// polarisInstances lists with Polaris' own API (isolate, healthy, weight of every
// instance) and merges the metadata of the enabled ones from the Nacos list: two
// calls per service (more past 100 instances, Polaris' page limit). Polaris' listing
// lacks the application's metadata, so an isolated instance's version is unknown.
func (n *Nacos) polarisInstances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	native, err := n.polarisList(ctx, svc)
	if err != nil {
		return nil, n.serviceErr("list instances of", svc, n.cfg.PolarisAddress, err)
	}
	enabled, addr, err := n.nacosList(ctx, svc)
	if err != nil {
		return nil, n.serviceErr("list instances of", svc, addr, err)
	}
	byAddr := make(map[string]nacosInstance, len(enabled))
	for _, in := range enabled {
		byAddr[net.JoinHostPort(in.IP, strconv.Itoa(in.Port))] = in
	}
	out := make([]providers.Instance, 0, len(native))
	for _, pi := range native {
		cluster := clusterOrDefault(pi.Metadata[polarisClusterKey])
		if svc.Cluster != "" && cluster != svc.Cluster {
			continue
		}
		address := net.JoinHostPort(pi.Host, strconv.Itoa(pi.Port))
		inst := providers.Instance{
			Service:  svc.Service,
			Group:    svc.Group,
			Cluster:  cluster,
			Address:  address,
			Enabled:  pi.Isolate == nil || !*pi.Isolate,
			Weight:   derefFloat(pi.Weight, 100),
			Healthy:  pi.Healthy == nil || *pi.Healthy,
			Metadata: appMetadata(pi.Metadata),
		}
		if ni, ok := byAddr[address]; ok && inst.Enabled {
			inst.Metadata = appMetadata(ni.Metadata)
			inst.Version, inst.VersionKnown = inst.Metadata["version"]
		}
		out = append(out, inst)
	}
	return out, nil
}

// polarisList pages through GET /naming/v1/instances.
func (n *Nacos) polarisList(ctx context.Context, svc providers.ServiceKey) ([]polarisInstance, error) {
	var out []polarisInstance
	for offset := 0; ; offset += polarisPageSize {
		q := url.Values{
			"namespace": {n.polarisNamespace()},
			"service":   {polarisServiceName(svc)},
			"offset":    {strconv.Itoa(offset)},
			"limit":     {strconv.Itoa(polarisPageSize)},
		}
		var page struct {
			Amount    int               `json:"amount"`
			Instances []polarisInstance `json:"instances"`
		}
		if err := n.polarisCall(ctx, http.MethodGet, "/naming/v1/instances", q, nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Instances...)
		if len(page.Instances) < polarisPageSize || len(out) >= page.Amount {
			return out, nil
		}
	}
}

// setPolarisInstance changes isolate or weight through Polaris' own API, which
// leaves health and metadata as they were.
func (n *Nacos) setPolarisInstance(ctx context.Context, inst providers.InstanceKey, change map[string]any) error {
	host, port, err := splitAddress(inst.Address)
	if err != nil {
		return err
	}
	body := map[string]any{
		"service":   polarisServiceName(inst.ServiceKey),
		"namespace": n.polarisNamespace(),
		"host":      host,
		"port":      port,
	}
	for k, v := range change {
		body[k] = v
	}
	return n.polarisCall(ctx, http.MethodPut, "/naming/v1/instances", nil, []any{body}, nil)
}

func derefFloat(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func splitAddress(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, &net.AddrError{Err: "invalid port", Addr: addr}
	}
	return host, port, nil
}
