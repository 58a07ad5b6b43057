package nacos

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/nonstop-release/nonstop/providers"
)

// publishCAS publishes through the SDK's gRPC config client, which carries casMd5
// to the server (ConfigPublishRequest). The SDK reports a refused publish as an
// error holding the server's message; a conflict is recognised by its words, as the
// SDK drops the error code: Nacos says "Cas publish fail, server md5 may have
// changed", Polaris "data is conflict, please try again".
//
// The SDK takes no context: the whole publish, creating the client included, is
// bounded by casBound (the SDK tries to connect up to three times, each within the
// provider's timeout). A publish given up on may still reach the server later;
// its MD5 condition keeps it from overwriting a newer document.
func (n *Nacos) publishCAS(ctx context.Context, key providers.ConfigKey, content, casMD5 string) error {
	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		client, err := n.casClient()
		if err != nil {
			done <- result{err: err}
			return
		}
		ok, err := client.PublishConfig(vo.ConfigParam{
			DataId: key.DataID, Group: key.Group, Content: content, CasMd5: casMD5,
		})
		done <- result{ok, err}
	}()
	bound := n.casBound()
	t := time.NewTimer(bound)
	defer t.Stop()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return n.configErr("publish", key, n.cfg.Addresses[0], ctx.Err())
	case <-t.C:
		return n.configErr("publish", key, n.cfg.Addresses[0],
			fmt.Errorf("grpc publish: no answer within %s (three times the provider's timeout)", bound))
	}
	switch {
	case r.err != nil && isCASConflict(r.err.Error()):
		return n.configErr("publish", key, n.cfg.Addresses[0],
			fmt.Errorf("%w (expected md5 %s; server: %v)", providers.ErrConflict, casMD5, r.err))
	case r.err != nil:
		return n.configErr("publish", key, n.cfg.Addresses[0], fmt.Errorf("grpc publish: %v", r.err))
	case !r.ok:
		return n.configErr("publish", key, n.cfg.Addresses[0], fmt.Errorf("grpc publish was not accepted"))
	}
	return nil
}

// casBound bounds a compare-and-swap publish through the SDK.
func (n *Nacos) casBound() time.Duration { return 3 * n.cfg.Timeout }

// isCASConflict recognises the servers' compare-and-swap refusals.
func isCASConflict(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "conflict") || strings.Contains(m, "cas publish fail") ||
		strings.Contains(m, "md5 may have changed")
}

// casClient returns the gRPC config client, creating it on first use. Its logs and
// cache go to one directory per user (sdkDir): the SDK's logger is process-wide and
// keeps writing after a client closes, so a per-client directory cannot be removed.
func (n *Nacos) casClient() (config_client.IConfigClient, error) {
	n.configMu.Lock()
	defer n.configMu.Unlock()
	if n.configClient != nil {
		return n.configClient, nil
	}
	var servers []constant.ServerConfig
	for _, addr := range n.cfg.Addresses {
		host, portStr, _ := net.SplitHostPort(addr)
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("address %q: bad port", addr)
		}
		servers = append(servers, *constant.NewServerConfig(host, port))
	}
	dir := sdkDir()
	namespace := n.cfg.Namespace
	if namespace == DefaultNamespace {
		namespace = ""
	}
	cc := constant.NewClientConfig(
		constant.WithNamespaceId(namespace),
		constant.WithTimeoutMs(uint64(n.cfg.Timeout.Milliseconds())),
		constant.WithNotLoadCacheAtStart(true),
		constant.WithDisableUseSnapShot(true),
		constant.WithLogDir(filepath.Join(dir, "log")),
		constant.WithCacheDir(filepath.Join(dir, "cache")),
		constant.WithLogLevel("error"),
		constant.WithUsername(n.cfg.Username),
		constant.WithPassword(n.cfg.Password),
	)
	client, err := clients.NewConfigClient(vo.NacosClientParam{ClientConfig: cc, ServerConfigs: servers})
	if err != nil {
		return nil, fmt.Errorf("grpc config client: %v", err)
	}
	n.configClient = client
	return client, nil
}

// sdkDir is where nacos-sdk-go writes its logs and cache: $NONSTOP_CACHE/nacos-sdk,
// else the user cache directory's nonstop/nacos-sdk.
func sdkDir() string {
	if d := os.Getenv("NONSTOP_CACHE"); d != "" {
		return filepath.Join(d, "nacos-sdk")
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "nonstop", "nacos-sdk")
	}
	return filepath.Join(os.TempDir(), "nonstop-nacos-sdk")
}
