package testfleet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// TestPolarisRegisterDisabled records how Polaris v1.18.1 treats an instance that
// an application registers disabled through nacos-sdk-go over gRPC
// (RegisterInstanceParam.Enable=false, what demo-service does with
// NONSTOP_REGISTER_ENABLED=false):
//
//   - Polaris stores it isolated (native API `GET /naming/v1/instances`:
//     isolate=true) and healthy;
//   - a consumer never receives it: not from SelectInstances, SelectAllInstances
//     nor a subscription, while an enabled instance of the same service is there;
//   - enabling it the way nonstop does (Polaris' `PUT /naming/v1/instances` with
//     isolate=false) makes consumers see it — pushed to a subscriber and returned by
//     SelectInstances within a couple of seconds — still healthy.
func TestPolarisRegisterDisabled(t *testing.T) {
	pol := StartPolaris(t)
	const service = "disabled-test"
	enabled := StartDemo(t, DemoOptions{Nacos: pol.NacosAddr, Service: service, Version: "1.0.0"})
	disabled := StartDemo(t, DemoOptions{Nacos: pol.NacosAddr, Service: service, Version: "1.1.0", RegisterDisabled: true})
	if out := disabled.Output(); !bytes.Contains([]byte(out), []byte("(enabled=false)")) {
		t.Fatalf("demo-service did not say it registered disabled:\n%s", out)
	}

	// The native listing shows both, the second isolated but healthy.
	waitFor(t, 10*time.Second, "both instances in Polaris' native listing", func() (bool, string) {
		insts, err := polarisNative(pol, service)
		if err != nil {
			return false, err.Error()
		}
		e, d := insts[enabled.Addr], insts[disabled.Addr]
		return e != nil && d != nil && !e.Isolate && d.Isolate && d.Healthy, fmt.Sprintf("%+v", insts)
	})

	// Polaris' discovery API, which nonstop reads, lists the isolated instance
	// with its metadata, version included.
	waitFor(t, 5*time.Second, "POST /v1/Discover to list the isolated instance with version 1.1.0", func() (bool, string) {
		v, isolate, err := polarisDiscoverVersion(pol, service, disabled.Addr)
		return err == nil && v == "1.1.0" && isolate, fmt.Sprintf("version %q isolate %t %v", v, isolate, err)
	})

	consumer := newTestConsumer(t, pol)
	var mu sync.Mutex
	var pushed [][]string // every subscription push, as address lists
	err := consumer.Subscribe(&vo.SubscribeParam{ServiceName: service, GroupName: "DEFAULT_GROUP",
		SubscribeCallback: func(insts []model.Instance, err error) {
			mu.Lock()
			defer mu.Unlock()
			pushed = append(pushed, addrsOf(insts))
		}})
	if err != nil {
		t.Fatal(err)
	}
	lastPush := func() []string {
		mu.Lock()
		defer mu.Unlock()
		if len(pushed) == 0 {
			return nil
		}
		return pushed[len(pushed)-1]
	}
	selectHealthy := func() []string {
		insts, _ := consumer.SelectInstances(vo.SelectInstancesParam{ServiceName: service, HealthyOnly: true})
		return addrsOf(insts)
	}
	selectAll := func() []string {
		insts, _ := consumer.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: service})
		return addrsOf(insts)
	}
	waitFor(t, 10*time.Second, "the consumer to see the enabled instance", func() (bool, string) {
		got := selectHealthy()
		return slices.Equal(got, []string{enabled.Addr}) && slices.Equal(lastPush(), []string{enabled.Addr}),
			fmt.Sprintf("select %v, push %v", got, lastPush())
	})
	// Give any late push of the disabled instance a chance to arrive.
	time.Sleep(2 * time.Second)
	for what, got := range map[string][]string{"SelectInstances": selectHealthy(), "SelectAllInstances": selectAll(), "subscription": lastPush()} {
		if !slices.Equal(got, []string{enabled.Addr}) {
			t.Errorf("%s returned %v; the disabled %s must stay hidden", what, got, disabled.Addr)
		}
	}

	// Enable it as nonstop does.
	start := time.Now()
	if err := polarisSetIsolate(pol, service, disabled.Addr, false); err != nil {
		t.Fatal(err)
	}
	both := []string{enabled.Addr, disabled.Addr}
	slices.Sort(both)
	waitFor(t, 10*time.Second, "the consumer to see the enabled instance after isolate=false", func() (bool, string) {
		return slices.Equal(selectHealthy(), both) && slices.Equal(lastPush(), both),
			fmt.Sprintf("select %v, push %v", selectHealthy(), lastPush())
	})
	t.Logf("consumers saw %s %s after it was enabled", disabled.Addr, time.Since(start).Round(10*time.Millisecond))
	insts, err := polarisNative(pol, service)
	if err != nil {
		t.Fatal(err)
	}
	if d := insts[disabled.Addr]; d == nil || d.Isolate || !d.Healthy {
		t.Errorf("after enabling, Polaris lists %+v, want enabled and healthy", d)
	}
}

// TestPolarisReRegisterIsolatesAgain records a hazard of registering disabled on
// Polaris v1.18.1: nacos-sdk-go keeps every registration it made and repeats it
// after each gRPC reconnect (its "redo"), and Polaris applies a repeated
// registration whole, isolate flag included. So an instance registered with
// Enable=false and enabled later through the API is isolated again by its own
// client's next reconnect, and consumers lose it until someone enables it again.
// (Real Nacos 2.x keeps an enabled flag set through the API as a metadata overlay
// that a re-registration does not replace.) A plain repeated RegisterInstance is
// what the redo sends, so it stands in for a reconnect here.
func TestPolarisReRegisterIsolatesAgain(t *testing.T) {
	pol := StartPolaris(t)
	c := newTestConsumer(t, pol)
	const service, addr = "redo-test", "127.0.0.1:4321"
	p := vo.RegisterInstanceParam{Ip: "127.0.0.1", Port: 4321, Weight: 1, Enable: false, Healthy: true,
		Ephemeral: true, Metadata: map[string]string{"version": "1"}, ServiceName: service,
		GroupName: "DEFAULT_GROUP", ClusterName: "DEFAULT"}
	register := func() {
		t.Helper()
		// The first registration of a new service often answers ok=false.
		waitFor(t, 10*time.Second, "registration", func() (bool, string) {
			ok, err := c.RegisterInstance(p)
			return ok && err == nil, fmt.Sprintf("ok=%v %v", ok, err)
		})
	}
	isolated := func(want bool) {
		t.Helper()
		waitFor(t, 10*time.Second, fmt.Sprintf("isolate=%t", want), func() (bool, string) {
			insts, err := polarisNative(pol, service)
			in := insts[addr]
			return err == nil && in != nil && in.Isolate == want && in.Healthy, fmt.Sprintf("%+v %v", in, err)
		})
	}
	register()
	isolated(true)
	if err := polarisSetIsolate(pol, service, addr, false); err != nil {
		t.Fatal(err)
	}
	isolated(false)
	register() // what the SDK's redo sends after a reconnect
	isolated(true)
}

// polarisInstance is an instance in Polaris' native listing.
type polarisInstance struct {
	Host    string `json:"host"`
	Port    int    `json:"port"`
	Isolate bool   `json:"isolate"`
	Healthy bool   `json:"healthy"`
}

// polarisNative lists service's instances by address with Polaris' native API.
func polarisNative(pol *Polaris, service string) (map[string]*polarisInstance, error) {
	resp, err := http.Get("http://" + pol.NativeAddr + "/naming/v1/instances?namespace=default&service=" + service)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Code      int                `json:"code"`
		Instances []*polarisInstance `json:"instances"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := map[string]*polarisInstance{}
	for _, in := range body.Instances {
		out[net.JoinHostPort(in.Host, strconv.Itoa(in.Port))] = in
	}
	return out, nil
}

// polarisDiscoverVersion returns the metadata version and isolate flag of the
// instance at addr from Polaris' discovery API (POST /v1/Discover).
func polarisDiscoverVersion(pol *Polaris, service, addr string) (string, bool, error) {
	b, _ := json.Marshal(map[string]any{"type": "INSTANCE", "service": map[string]string{"name": service, "namespace": "default"}})
	resp, err := http.Post("http://"+pol.NativeAddr+"/v1/Discover", "application/json", bytes.NewReader(b))
	if err != nil {
		return "", false, err
	}
	defer resp.Body.Close()
	var body struct {
		Instances []struct {
			Host     string            `json:"host"`
			Port     int               `json:"port"`
			Isolate  bool              `json:"isolate"`
			Metadata map[string]string `json:"metadata"`
		} `json:"instances"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", false, err
	}
	for _, in := range body.Instances {
		if net.JoinHostPort(in.Host, strconv.Itoa(in.Port)) == addr {
			return in.Metadata["version"], in.Isolate, nil
		}
	}
	return "", false, fmt.Errorf("%s not listed", addr)
}

// polarisSetIsolate is nonstop's write (providers/nacos, flavor polaris).
func polarisSetIsolate(pol *Polaris, service, addr string, isolate bool) error {
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	b, _ := json.Marshal([]map[string]any{{"service": service, "namespace": "default", "host": host, "port": p, "isolate": isolate}})
	req, _ := http.NewRequest(http.MethodPut, "http://"+pol.NativeAddr+"/naming/v1/instances", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Code int    `json:"code"`
		Info string `json:"info"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || (body.Code != 200000 && body.Code != 200002) {
		return fmt.Errorf("PUT /naming/v1/instances: %s code %d %s", resp.Status, body.Code, body.Info)
	}
	return nil
}

func newTestConsumer(t *testing.T, pol *Polaris) naming_client.INamingClient {
	t.Helper()
	host, portStr, _ := net.SplitHostPort(pol.NacosAddr)
	port, _ := strconv.ParseUint(portStr, 10, 16)
	dir := t.TempDir()
	cc := constant.NewClientConfig(constant.WithTimeoutMs(5000), constant.WithNotLoadCacheAtStart(true),
		constant.WithLogDir(filepath.Join(dir, "log")), constant.WithCacheDir(filepath.Join(dir, "cache")),
		constant.WithLogLevel("warn"))
	c, err := clients.NewNamingClient(vo.NacosClientParam{ClientConfig: cc,
		ServerConfigs: []constant.ServerConfig{*constant.NewServerConfig(host, port)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

func addrsOf(insts []model.Instance) []string {
	out := make([]string, 0, len(insts))
	for _, in := range insts {
		out = append(out, net.JoinHostPort(in.Ip, strconv.FormatUint(in.Port, 10)))
	}
	slices.Sort(out)
	return out
}

// waitFor polls cond every 100 ms until it holds, failing the test after timeout
// with cond's last description.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %s", what, desc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
