package nacos

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestInstancesPolaris lists instances registered by demo-service through the SDK,
// in the default group and in a named one.
func TestInstancesPolaris(t *testing.T) {
	n := newProvider(t, nil)
	svc := serviceName(t)
	a := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "1.4.2"})
	b := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "1.5.0"})
	g := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Group: "G1", Version: "2.0.0"})

	inst := func(addr, group, version string) providers.Instance {
		return providers.Instance{Service: svc, Group: group, Cluster: "DEFAULT", Address: addr,
			Enabled: true, Weight: 1, Healthy: true, Metadata: map[string]string{"version": version},
			Version: version, VersionKnown: true}
	}
	tests := map[string]struct {
		key  providers.ServiceKey
		want []providers.Instance
	}{
		"default group": {
			key:  providers.ServiceKey{Service: svc, Group: "DEFAULT_GROUP"},
			want: []providers.Instance{inst(a.Addr, "DEFAULT_GROUP", "1.4.2"), inst(b.Addr, "DEFAULT_GROUP", "1.5.0")},
		},
		"group left empty": {
			key:  providers.ServiceKey{Service: svc},
			want: []providers.Instance{inst(a.Addr, "DEFAULT_GROUP", "1.4.2"), inst(b.Addr, "DEFAULT_GROUP", "1.5.0")},
		},
		"named group": {
			key:  providers.ServiceKey{Service: svc, Group: "G1", Cluster: "DEFAULT"},
			want: []providers.Instance{inst(g.Addr, "G1", "2.0.0")},
		},
		"other cluster": {
			key:  providers.ServiceKey{Service: svc, Group: "DEFAULT_GROUP", Cluster: "EAST"},
			want: []providers.Instance{},
		},
	}
	// Polaris' discovery cache lags a registration by up to a second.
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sort.Slice(tc.want, func(i, j int) bool { return tc.want[i].Address < tc.want[j].Address })
			eventually(t, 3*time.Second, "Instances", func() (bool, string) {
				got, err := n.Instances(context.Background(), tc.key)
				if err != nil {
					t.Fatal(err)
				}
				diff := cmp.Diff(tc.want, got)
				return diff == "", "(-want +got):\n" + diff
			})
		})
	}
}

// TestDisableEnablePolaris disables an instance: Instances still lists it, enabled
// false and healthy; a consumer's SDK stops returning it within seconds; enabling it
// brings it back with its version metadata intact and its health untouched.
func TestDisableEnablePolaris(t *testing.T) {
	n := newProvider(t, nil)
	svc := serviceName(t)
	a := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "1.4.2"})
	b := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "1.4.2"})
	key := providers.ServiceKey{Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT"}
	consumer := newConsumer(t)
	consumerSees := func() map[string]bool {
		insts, _ := consumer.SelectInstances(vo.SelectInstancesParam{ServiceName: svc, HealthyOnly: true})
		seen := map[string]bool{}
		for _, in := range insts {
			seen[in.Ip+":"+strconv.FormatUint(in.Port, 10)] = true
		}
		return seen
	}
	eventually(t, 10*time.Second, "consumer sees both instances", func() (bool, string) {
		s := consumerSees()
		return s[a.Addr] && s[b.Addr], fmt.Sprint(s)
	})

	ctx := context.Background()
	if err := n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: b.Addr}, false); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 5*time.Second, "consumer drops the disabled instance", func() (bool, string) {
		s := consumerSees()
		return !s[b.Addr] && s[a.Addr], fmt.Sprint(s)
	})
	t.Logf("consumer dropped the disabled instance after %s", took)

	got := instancesByAddr(t, n, key)
	// Polaris' discovery API keeps showing the version of an isolated instance.
	wantB := providers.Instance{Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT", Address: b.Addr,
		Enabled: false, Weight: 1, Healthy: true, Metadata: map[string]string{"version": "1.4.2"},
		Version: "1.4.2", VersionKnown: true}
	if diff := cmp.Diff(wantB, got[b.Addr]); diff != "" {
		t.Errorf("disabled instance (-want +got):\n%s", diff)
	}
	if !got[a.Addr].Enabled || got[a.Addr].Version != "1.4.2" {
		t.Errorf("the other instance changed: %+v", got[a.Addr])
	}

	if err := n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: b.Addr}, true); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "consumer sees the re-enabled instance", func() (bool, string) {
		s := consumerSees()
		return s[b.Addr], fmt.Sprint(s)
	})
	wantB.Enabled = true
	eventually(t, 3*time.Second, "re-enabled instance listed with its version", func() (bool, string) {
		diff := cmp.Diff(wantB, instancesByAddr(t, n, key)[b.Addr])
		return diff == "", diff
	})

	// Enabling an instance that is already enabled (a restarted instance registers
	// enabled on Polaris) is a success: Polaris answers "no change", code 200002.
	if err := n.SetInstanceEnabled(ctx, providers.InstanceKey{ServiceKey: key, Address: a.Addr}, true); err != nil {
		t.Fatalf("enabling an enabled instance: %v", err)
	}
}

// TestWeightPolaris sets a weight and reads it back, with enabled, health and
// metadata unchanged.
func TestWeightPolaris(t *testing.T) {
	n := newProvider(t, nil)
	svc := serviceName(t)
	a := testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc, Version: "3.1.0"})
	key := providers.InstanceKey{ServiceKey: providers.ServiceKey{Service: svc}, Address: a.Addr}
	ctx := context.Background()

	for _, w := range []float64{5, 0, 1} {
		if err := n.SetInstanceWeight(ctx, key, w); err != nil {
			t.Fatal(err)
		}
		want := providers.Instance{Service: svc, Group: "DEFAULT_GROUP", Cluster: "DEFAULT", Address: a.Addr,
			Enabled: true, Weight: w, Healthy: true, Metadata: map[string]string{"version": "3.1.0"},
			Version: "3.1.0", VersionKnown: true}
		eventually(t, 3*time.Second, fmt.Sprintf("weight %g read back", w), func() (bool, string) {
			diff := cmp.Diff(want, instancesByAddr(t, n, key.ServiceKey)[a.Addr])
			return diff == "", diff
		})
	}
	for _, bad := range []float64{2.5, -1, 10001} {
		if err := n.SetInstanceWeight(ctx, key, bad); err == nil {
			t.Errorf("weight %g was accepted", bad)
		}
	}
}

// TestWriteUnknownInstance names the provider, service and address on failure.
func TestWriteUnknownInstance(t *testing.T) {
	n := newProvider(t, nil)
	svc := serviceName(t)
	testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc})
	err := n.SetInstanceEnabled(context.Background(),
		providers.InstanceKey{ServiceKey: providers.ServiceKey{Service: svc}, Address: "127.0.0.1:1"}, false)
	if err == nil {
		t.Fatal("disabling an unregistered instance succeeded")
	}
	for _, want := range []string{"nacos.test", svc, "127.0.0.1:1", polaris.NativeAddr} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// newConsumer is a Nacos client as an application consuming the service has one.
func newConsumer(t testing.TB) naming_client.INamingClient {
	t.Helper()
	host, portStr, _ := strings.Cut(polaris.NacosAddr, ":")
	port, _ := strconv.ParseUint(portStr, 10, 16)
	dir := t.TempDir()
	cc := constant.NewClientConfig(
		constant.WithTimeoutMs(5000),
		constant.WithNotLoadCacheAtStart(true),
		constant.WithLogDir(filepath.Join(dir, "log")),
		constant.WithCacheDir(filepath.Join(dir, "cache")),
		constant.WithLogLevel("error"),
	)
	c, err := clients.NewNamingClient(vo.NacosClientParam{ClientConfig: cc,
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig(host, port)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}
