package nacos

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// TestLoginPolaris logs in when a username is set, caches the token and renews it
// once it nears expiry. Polaris answers a Nacos login with the password as token and
// a tokenTtl of 120 s without checking the password (client auth is off).
func TestLoginPolaris(t *testing.T) {
	n := newProvider(t, map[string]cty.Value{
		"username": cty.StringVal("nacos"), "password": cty.StringVal("s3cret-token"),
	})
	svc := serviceName(t)
	testfleet.StartDemo(t, testfleet.DemoOptions{Nacos: polaris.NacosAddr, Service: svc})
	ctx := context.Background()
	if _, err := n.Instances(ctx, providers.ServiceKey{Service: svc}); err != nil {
		t.Fatal(err)
	}
	n.tokenMu.Lock()
	token, expiry := n.token, n.tokenExpiry
	n.tokenMu.Unlock()
	if token != "s3cret-token" {
		t.Fatalf("cached token = %q, want the one Polaris issued", token)
	}
	// tokenTtl 120 s minus a 12 s margin.
	if left := time.Until(expiry); left < 100*time.Second || left > 108*time.Second {
		t.Fatalf("token renewal due in %s, want about 108 s", left)
	}
	// A second call reuses the token.
	if _, err := n.Instances(ctx, providers.ServiceKey{Service: svc}); err != nil {
		t.Fatal(err)
	}
	n.tokenMu.Lock()
	same := n.tokenExpiry.Equal(expiry)
	n.tokenMu.Unlock()
	if !same {
		t.Fatal("a call within the token's lifetime logged in again")
	}
	// Near expiry the next call logs in again.
	n.tokenMu.Lock()
	n.tokenExpiry = time.Now().Add(-time.Second)
	n.tokenMu.Unlock()
	if _, err := n.Instances(ctx, providers.ServiceKey{Service: svc}); err != nil {
		t.Fatal(err)
	}
	n.tokenMu.Lock()
	renewed := time.Until(n.tokenExpiry) > 100*time.Second
	n.tokenMu.Unlock()
	if !renewed {
		t.Fatal("an expired token was not renewed")
	}
}

// TestWrongPassword runs a Polaris with strict client auth, which refuses Nacos
// logins whose credentials it cannot verify (Polaris never checks a Nacos password:
// with strict auth every Nacos login is refused, which is the answer a wrong
// password gets from real Nacos, 403).
func TestWrongPassword(t *testing.T) {
	strict := testfleet.StartPolarisWith(t, testfleet.PolarisOptions{ClientAuth: true})
	n := newProvider(t, map[string]cty.Value{
		"addresses":       cty.ListVal([]cty.Value{cty.StringVal(strict.NacosAddr)}),
		"polaris_address": cty.StringVal(strict.NativeAddr),
		"username":        cty.StringVal("nacos"),
		"password":        cty.StringVal("wrong"),
	})
	_, err := n.Instances(context.Background(), providers.ServiceKey{Service: "order-service"})
	if err == nil {
		t.Fatal("listing with refused credentials succeeded")
	}
	for _, want := range []string{"nacos.test", `login as "nacos"`, strict.NacosAddr, "refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	t.Logf("error: %v", err)
}

// TestUnreachable gives a clear error naming the provider, service and address.
func TestUnreachable(t *testing.T) {
	port, err := testfleet.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + itoa(port)
	for _, flavor := range []string{"nacos", "polaris"} {
		t.Run(flavor, func(t *testing.T) {
			n := newProvider(t, map[string]cty.Value{
				"addresses":       cty.ListVal([]cty.Value{cty.StringVal(addr)}),
				"polaris_address": cty.StringVal(addr),
				"flavor":          cty.StringVal(flavor),
				"timeout":         cty.StringVal("2s"),
			})
			_, err := n.Instances(context.Background(), providers.ServiceKey{Service: "order-service"})
			if err == nil {
				t.Fatal("listing from a closed port succeeded")
			}
			for _, want := range []string{"nacos.test", "order-service", addr, "unreachable"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
