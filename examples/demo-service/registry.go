package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// registration is this instance's entry in the Nacos registry.
type registration struct {
	client naming_client.INamingClient
	param  vo.RegisterInstanceParam
}

// register registers the instance through nacos-sdk-go over gRPC as an ephemeral
// instance with metadata "version": it stays registered while this process's
// connection lives. With -register-enabled=false it is registered disabled
// (Enable=false, which Polaris stores as isolate=true): consumers do not see it
// until someone enables it, as nonstop does once the balancers confirm it.
func register(ctx context.Context, o options) (*registration, error) {
	host, portStr, err := net.SplitHostPort(o.nacos)
	if err != nil {
		return nil, fmt.Errorf("-nacos %q: %v", o.nacos, err)
	}
	nacosPort, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("-nacos %q: bad port", o.nacos)
	}
	ip, selfPortStr, _ := net.SplitHostPort(o.addr)
	selfPort, err := strconv.ParseUint(selfPortStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: bad port", o.addr)
	}
	if ip == "" || ip == "0.0.0.0" {
		ip = "127.0.0.1"
	}
	dir := o.sdkDir
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "demo-service-"+selfPortStr)
	}
	namespace := o.namespace
	if namespace == "public" {
		namespace = "" // the SDK's spelling of the default namespace
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
	sc := []constant.ServerConfig{*constant.NewServerConfig(host, nacosPort)}
	client, err := clients.NewNamingClient(vo.NacosClientParam{ClientConfig: cc, ServerConfigs: sc})
	if err != nil {
		return nil, fmt.Errorf("nacos client for %s: %v", o.nacos, err)
	}
	r := &registration{client: client, param: vo.RegisterInstanceParam{
		Ip:          ip,
		Port:        selfPort,
		Weight:      1,
		Enable:      o.registerEnabled,
		Healthy:     true,
		Ephemeral:   true,
		Metadata:    map[string]string{"version": o.version},
		ClusterName: o.cluster,
		ServiceName: o.service,
		GroupName:   o.group,
	}}
	// Registration is retried, as application frameworks do: Polaris refuses some
	// (ok=false) while it creates the service, or when the same address registers
	// within about a second of deregistering. About 10 s in all.
	var ok bool
	for attempt := 1; attempt <= 8; attempt++ {
		if ok, err = client.RegisterInstance(r.param); err == nil && ok {
			return r, nil
		}
		log.Printf("register attempt %d: ok=%v %v", attempt, ok, err)
		if !sleep(ctx, time.Duration(attempt)*300*time.Millisecond) {
			break
		}
	}
	client.CloseClient()
	return nil, fmt.Errorf("register %s %s:%d in %s: ok=%v %v", o.service, ip, selfPort, o.nacos, ok, err)
}

// deregister removes the instance and closes the client's connection.
func (r *registration) deregister() {
	_, err := r.client.DeregisterInstance(vo.DeregisterInstanceParam{
		Ip:          r.param.Ip,
		Port:        r.param.Port,
		Cluster:     r.param.ClusterName,
		ServiceName: r.param.ServiceName,
		GroupName:   r.param.GroupName,
		Ephemeral:   true,
	})
	if err != nil {
		log.Printf("deregister: %v", err)
	}
	r.client.CloseClient()
}
