package nacos

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// polaris is the one Polaris every test of the package shares (TestMain starts it).
var polaris *testfleet.Polaris

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "nonstop-nacos-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log, _ := os.Create(dir + "/console.log")
	polaris, err = testfleet.StartPolarisProcess(dir, log)
	if err != nil {
		fmt.Fprintf(os.Stderr, "polaris did not start (tests need it; no skips): %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	polaris.Stop()
	log.Close()
	if code == 0 {
		os.RemoveAll(dir)
	} else {
		fmt.Fprintf(os.Stderr, "polaris logs kept in %s\n", dir)
	}
	os.Exit(code)
}

// newProvider builds a provider through the registered factory, as nonstop does,
// pointed at the shared Polaris with flavor polaris and the given extra attributes.
func newProvider(t testing.TB, extra map[string]cty.Value) *Nacos {
	t.Helper()
	attrs := map[string]cty.Value{
		"addresses":       cty.TupleVal([]cty.Value{cty.StringVal(polaris.NacosAddr)}),
		"flavor":          cty.StringVal("polaris"),
		"polaris_address": cty.StringVal(polaris.NativeAddr),
		"propagation":     cty.StringVal("1s"),
		"timeout":         cty.StringVal("5s"),
	}
	for k, v := range extra {
		attrs[k] = v
	}
	f, ok := providers.Lookup("nacos")
	if !ok {
		t.Fatal("kind nacos is not registered")
	}
	p, err := f.New(providers.Settings{Name: "test", Attrs: attrs})
	if err != nil {
		t.Fatal(err)
	}
	n := p.(*Nacos)
	t.Cleanup(func() { n.Close() })
	return n
}

// serviceName makes a service name unique to the test.
func serviceName(t testing.TB) string {
	return strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
}

// eventually polls cond every 100 ms until it holds or timeout passes, and returns
// how long it took.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, state := cond()
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: not within %s; last state: %s", what, timeout, state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// instancesByAddr lists a service's instances keyed by address.
func instancesByAddr(t testing.TB, n *Nacos, svc providers.ServiceKey) map[string]providers.Instance {
	t.Helper()
	insts, err := n.Instances(context.Background(), svc)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]providers.Instance{}
	for _, in := range insts {
		out[in.Address] = in
	}
	return out
}
