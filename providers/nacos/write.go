package nacos

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/nonstop-release/nonstop/providers"
)

// maxWeight is the largest weight Nacos accepts.
const maxWeight = 10000

// SetInstanceEnabled enables or disables an instance, preserving its metadata and
// weight (and, on flavor polaris, its health).
func (n *Nacos) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	inst.ServiceKey = normalizeService(inst.ServiceKey)
	op := fmt.Sprintf("set enabled=%t on %s of", enabled, inst.Address)
	send := func(ctx context.Context) error {
		if n.cfg.Flavor == FlavorPolaris {
			if err := n.setPolarisInstance(ctx, inst, map[string]any{"isolate": !enabled}); err != nil {
				return n.serviceErr(op, inst.ServiceKey, n.cfg.PolarisAddress, err)
			}
			return nil
		}
		return n.updateNacosInstance(ctx, op, inst, func(in *nacosInstance) { in.Enabled = enabled })
	}
	// A disabled instance that is no longer listed at all is out of consumers' lists.
	return n.writeShown(ctx, op, inst, send, func(in providers.Instance) bool { return in.Enabled == enabled }, !enabled)
}

// SetInstanceWeight sets an instance's weight, preserving its metadata and enabled
// flag. Weights range from 0 to 10000; Polaris keeps whole numbers only.
func (n *Nacos) SetInstanceWeight(ctx context.Context, inst providers.InstanceKey, weight float64) error {
	inst.ServiceKey = normalizeService(inst.ServiceKey)
	op := fmt.Sprintf("set weight=%g on %s of", weight, inst.Address)
	if math.IsNaN(weight) || weight < 0 || weight > maxWeight {
		return n.serviceErr(op, inst.ServiceKey, "-", fmt.Errorf("weight must be between 0 and %d", maxWeight))
	}
	if n.cfg.Flavor == FlavorPolaris && weight != math.Trunc(weight) {
		return n.serviceErr(op, inst.ServiceKey, n.cfg.PolarisAddress,
			fmt.Errorf("polaris keeps whole-number weights only"))
	}
	send := func(ctx context.Context) error {
		if n.cfg.Flavor == FlavorPolaris {
			if err := n.setPolarisInstance(ctx, inst, map[string]any{"weight": uint32(weight)}); err != nil {
				return n.serviceErr(op, inst.ServiceKey, n.cfg.PolarisAddress, err)
			}
			return nil
		}
		return n.updateNacosInstance(ctx, op, inst, func(in *nacosInstance) { in.Weight = weight })
	}
	return n.writeShown(ctx, op, inst, send, func(in providers.Instance) bool { return in.Weight == weight }, false)
}

// updateNacosInstance reads the instance from the console listing (disabled ones
// included), applies change and writes every field back with
// PUT /nacos/v1/ns/instance: the server replaces the metadata map whole and resets
// missing fields to defaults, so nothing may be left out.
func (n *Nacos) updateNacosInstance(ctx context.Context, op string, inst providers.InstanceKey, change func(*nacosInstance)) error {
	current, err := n.findCatalogInstance(ctx, inst)
	if err != nil {
		return n.serviceErr(op, inst.ServiceKey, n.cfg.Addresses[0], err)
	}
	change(&current)
	params, err := n.instanceForm(inst.ServiceKey, current)
	if err != nil {
		return n.serviceErr(op, inst.ServiceKey, n.cfg.Addresses[0], err)
	}
	if _, _, addr, err := n.nacosCall(ctx, http.MethodPut, "/nacos/v1/ns/instance", params); err != nil {
		return n.serviceErr(op, inst.ServiceKey, addr, err)
	}
	return nil
}

// findCatalogInstance finds one instance, with its metadata, in the console listing.
func (n *Nacos) findCatalogInstance(ctx context.Context, inst providers.InstanceKey) (nacosInstance, error) {
	host, port, err := splitAddress(inst.Address)
	if err != nil {
		return nacosInstance{}, err
	}
	all, err := n.catalogRaw(ctx, inst.ServiceKey)
	if err != nil {
		return nacosInstance{}, err
	}
	for _, in := range all {
		if in.IP == host && in.Port == port {
			if in.ClusterName == "" {
				in.ClusterName = clusterOrDefault(inst.Cluster)
			}
			return in, nil
		}
	}
	return nacosInstance{}, fmt.Errorf("instance %s is not registered in cluster %s", inst.Address, clusterOrDefault(inst.Cluster))
}

// catalogRaw lists the console view of a service's cluster without conversion.
func (n *Nacos) catalogRaw(ctx context.Context, svc providers.ServiceKey) ([]nacosInstance, error) {
	var out []nacosInstance
	for page := 1; ; page++ {
		params := url.Values{
			"serviceName": {svc.Group + "@@" + svc.Service},
			"groupName":   {svc.Group},
			"namespaceId": {n.nacosNamespace()},
			"clusterName": {clusterOrDefault(svc.Cluster)},
			"pageNo":      {strconv.Itoa(page)},
			"pageSize":    {strconv.Itoa(catalogPageSize)},
		}
		raw, _, _, err := n.nacosCall(ctx, http.MethodGet, "/nacos/v1/ns/catalog/instances", params)
		if err != nil {
			return nil, err
		}
		list, count, err := decodeCatalogPage(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		if len(list) == 0 || len(out) >= count {
			return out, nil
		}
	}
}

// instanceForm is the complete form of PUT /nacos/v1/ns/instance for in.
func (n *Nacos) instanceForm(svc providers.ServiceKey, in nacosInstance) (url.Values, error) {
	md := in.Metadata
	if md == nil {
		md = map[string]string{}
	}
	mdJSON, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	return url.Values{
		"serviceName": {svc.Group + "@@" + svc.Service},
		"groupName":   {svc.Group},
		"namespaceId": {n.nacosNamespace()},
		"clusterName": {clusterOrDefault(in.ClusterName)},
		"ip":          {in.IP},
		"port":        {strconv.Itoa(in.Port)},
		"ephemeral":   {strconv.FormatBool(in.Ephemeral)},
		"enabled":     {strconv.FormatBool(in.Enabled)},
		"healthy":     {strconv.FormatBool(in.Healthy)},
		"weight":      {strconv.FormatFloat(in.Weight, 'f', -1, 64)},
		"metadata":    {string(mdJSON)},
	}, nil
}
