package nacos

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

const (
	defaultGroup   = "DEFAULT_GROUP"
	defaultCluster = "DEFAULT"
	// catalogPageSize is the page size of the console listing (flavor nacos).
	catalogPageSize = 1000
	// polarisClusterKey is where Polaris keeps an instance's Nacos cluster.
	polarisClusterKey = "internal-nacos-cluster"
	// polarisInternalPrefix marks metadata Polaris adds for its Nacos bridge.
	polarisInternalPrefix = "internal-nacos-"
)

// nacosInstance is an instance as the Nacos HTTP API shows it.
type nacosInstance struct {
	IP          string            `json:"ip"`
	Port        int               `json:"port"`
	Weight      float64           `json:"weight"`
	Healthy     bool              `json:"healthy"`
	Enabled     bool              `json:"enabled"`
	Ephemeral   bool              `json:"ephemeral"`
	ClusterName string            `json:"clusterName"`
	Metadata    map[string]string `json:"metadata"`
}

// Instances lists every instance of the service, disabled ones included: with one
// call per service (paged beyond 1,000 instances on flavor nacos).
func (n *Nacos) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	svc = normalizeService(svc)
	var (
		out []providers.Instance
		err error
	)
	if n.cfg.Flavor == FlavorPolaris {
		out, err = n.polarisInstances(ctx, svc)
	} else {
		out, err = n.catalogInstances(ctx, svc)
	}
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out, nil
}

// catalogInstances lists with the console API of real Nacos, which shows disabled
// instances and their metadata. It needs a cluster; "" means "DEFAULT".
func (n *Nacos) catalogInstances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	raw, err := n.catalogRaw(ctx, svc)
	if err != nil {
		return nil, n.serviceErr("list instances of", svc, n.cfg.Addresses[0], err)
	}
	out := make([]providers.Instance, 0, len(raw))
	for _, in := range raw {
		out = append(out, fromNacos(in, svc))
	}
	return out, nil
}

// decodeCatalogPage decodes a page of GET /nacos/v1/ns/catalog/instances.
func decodeCatalogPage(raw []byte) ([]nacosInstance, int, error) {
	var page struct {
		List  []nacosInstance `json:"list"`
		Count int             `json:"count"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, 0, fmt.Errorf("undecodable catalog answer: %v", err)
	}
	return page.List, page.Count, nil
}

// fromNacos converts an instance of the Nacos API.
func fromNacos(in nacosInstance, svc providers.ServiceKey) providers.Instance {
	md := appMetadata(in.Metadata)
	version, known := md["version"]
	return providers.Instance{
		Service:      svc.Service,
		Group:        svc.Group,
		Cluster:      clusterOrDefault(in.ClusterName),
		Address:      net.JoinHostPort(in.IP, strconv.Itoa(in.Port)),
		Enabled:      in.Enabled,
		Weight:       in.Weight,
		Healthy:      in.Healthy,
		Metadata:     md,
		Version:      version,
		VersionKnown: known,
	}
}

// appMetadata returns the application's metadata without the keys Polaris adds.
func appMetadata(md map[string]string) map[string]string {
	out := make(map[string]string, len(md))
	for k, v := range md {
		if !strings.HasPrefix(k, polarisInternalPrefix) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// normalizeService fills in the default group.
func normalizeService(svc providers.ServiceKey) providers.ServiceKey {
	if svc.Group == "" {
		svc.Group = defaultGroup
	}
	return svc
}

func clusterOrDefault(c string) string {
	if c == "" {
		return defaultCluster
	}
	return c
}

// serviceErr names the provider, the operation, the service and the address.
func (n *Nacos) serviceErr(op string, svc providers.ServiceKey, addr string, err error) error {
	return fmt.Errorf("%s: %s service %s (group %s, namespace %s) at %s: %w",
		n.ref(), op, svc.Service, svc.Group, n.nacosNamespace(), addr, err)
}
