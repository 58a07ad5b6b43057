package nginx

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/internal/testfleet"
	"github.com/nonstop-release/nonstop/providers"
)

// fleet is one nginx in front of backends, with a provider configured for it.
type fleet struct {
	nginx    *testfleet.Nginx
	backends []*testfleet.Backend
	provider *Nginx
}

// startFleet starts n backends and an nginx whose pool "web" holds them all.
func startFleet(t *testing.T, n int) *fleet {
	t.Helper()
	bs := testfleet.StartBackends(t, n)
	var addrs []string
	for _, b := range bs {
		addrs = append(addrs, b.Addr)
	}
	ng := testfleet.StartNginx(t, testfleet.NginxOptions{Pools: map[string][]string{"web": addrs}})
	return &fleet{nginx: ng, backends: bs, provider: newProvider(t, ng, ng.Command("-t"))}
}

func newProvider(t *testing.T, ng *testfleet.Nginx, test []string) *Nginx {
	t.Helper()
	p, err := New(providers.Settings{Name: "edge", Dir: t.TempDir(), Attrs: map[string]cty.Value{
		"upstreams_file": cty.StringVal(ng.UpstreamsFile),
		"test":           commandVal(test),
		"reload":         commandVal(ng.Command("-s", "reload")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Nginx)
}

func commandVal(argv []string) cty.Value {
	var vs []cty.Value
	for _, a := range argv {
		vs = append(vs, cty.StringVal(a))
	}
	return cty.TupleVal(vs)
}

// write runs a provider write and waits until nginx serves the new configuration.
func (f *fleet) write(t *testing.T, fn func(ctx context.Context) error) {
	t.Helper()
	before := f.nginx.Reloads()
	if err := fn(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.nginx.WaitReloaded(t, before+1)
}

// TestNginxDownMemberGetsNoTraffic sets a member down (and one drained) and checks
// that no request through nginx reaches them.
func TestNginxDownMemberGetsNoTraffic(t *testing.T) {
	f := startFleet(t, 3)
	f.write(t, func(ctx context.Context) error {
		return f.provider.Batch(ctx, func() error {
			if err := f.provider.SetMemberState(ctx, "web", f.backends[0].Addr, providers.StateDown); err != nil {
				return err
			}
			return f.provider.SetMemberState(ctx, "web", f.backends[1].Addr, providers.StateDrain)
		})
	})
	got := testfleet.CountByBackend(t, f.nginx.URL("web"), 30, nil)
	if diff := cmp.Diff(map[string]int{f.backends[2].Addr: 30}, got); diff != "" {
		t.Errorf("requests by backend (-want +got):\n%s", diff)
	}
	members, err := f.provider.Pool(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Member{
		{Pool: "web", Address: f.backends[0].Addr, Weight: 1, State: providers.StateDown},
		{Pool: "web", Address: f.backends[1].Addr, Weight: 1, State: providers.StateDrain},
		{Pool: "web", Address: f.backends[2].Addr, Weight: 1, State: providers.StateReady},
	}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("Pool (-want +got):\n%s", diff)
	}
}

// TestNginxWeightsHonoured sets weights 3:1:0 and checks the split of 40 requests
// (nginx's smooth weighted round robin is exact over a full cycle with one worker).
func TestNginxWeightsHonoured(t *testing.T) {
	f := startFleet(t, 3)
	f.write(t, func(ctx context.Context) error {
		return f.provider.Batch(ctx, func() error {
			for i, w := range []int{3, 1, 0} {
				if err := f.provider.SetMemberWeight(ctx, "web", f.backends[i].Addr, w); err != nil {
					return err
				}
			}
			return nil
		})
	})
	got := testfleet.CountByBackend(t, f.nginx.URL("web"), 40, nil)
	want := map[string]int{f.backends[0].Addr: 30, f.backends[1].Addr: 10}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests by backend (-want +got):\n%s", diff)
	}
}

// TestNginxRejectedConfigRestored makes nginx -t fail on a member address nginx
// refuses, and checks that the previous file is back, the error carries nginx's
// message and nginx was not reloaded.
func TestNginxRejectedConfigRestored(t *testing.T) {
	f := startFleet(t, 1)
	before, err := os.ReadFile(f.nginx.UpstreamsFile)
	if err != nil {
		t.Fatal(err)
	}
	reloads := f.nginx.Reloads()
	err = f.provider.SetMemberWeight(context.Background(), "web", "127.0.0.1:99999", 1)
	if err == nil {
		t.Fatal("write succeeded, want nginx -t to reject port 99999")
	}
	for _, want := range []string{"nginx.edge", "invalid port", "previous file restored"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	after, _ := os.ReadFile(f.nginx.UpstreamsFile)
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("upstreams file not restored (-before +after):\n%s", diff)
	}
	if got := f.nginx.Reloads(); got != reloads {
		t.Errorf("nginx reloaded %d times after a rejected config", got-reloads)
	}
	if got := testfleet.CountByBackend(t, f.nginx.URL("web"), 3, nil); got[f.backends[0].Addr] != 3 {
		t.Errorf("after rejection requests by backend = %v, want all on %s", got, f.backends[0].Addr)
	}
}

// TestNginxFailingTestCommand checks that a failing test command stops the reload.
func TestNginxFailingTestCommand(t *testing.T) {
	f := startFleet(t, 2)
	p := newProvider(t, f.nginx, []string{"sh", "-c", "echo 'nginx: [emerg] refused by policy' >&2; exit 1"})
	reloads := f.nginx.Reloads()
	err := p.SetMemberState(context.Background(), "web", f.backends[0].Addr, providers.StateMaint)
	if err == nil || !strings.Contains(err.Error(), "refused by policy") {
		t.Fatalf("error = %v, want the test command's output", err)
	}
	members, err := p.Pool(context.Background(), "web")
	if err != nil {
		t.Fatal(err)
	}
	if members[0].State != providers.StateReady {
		t.Errorf("member state after rejected write = %s, want ready", members[0].State)
	}
	if got := f.nginx.Reloads(); got != reloads {
		t.Errorf("nginx reloaded after a failed test")
	}
}

// TestNginxHandEditSeenByPool edits the file the way an operator would and checks
// that Pool reports the edit.
func TestNginxHandEditSeenByPool(t *testing.T) {
	f := startFleet(t, 2)
	ctx := context.Background()
	if err := f.provider.SetMemberWeight(ctx, "web", f.backends[0].Addr, 2); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(f.nginx.UpstreamsFile)
	edited := strings.Replace(string(data), f.backends[0].Addr+" weight=2;", f.backends[0].Addr+" weight=5;", 1)
	edited = strings.Replace(edited, f.backends[1].Addr+" weight=1;", f.backends[1].Addr+" weight=1 down;", 1)
	if edited == string(data) {
		t.Fatalf("edit did not apply to:\n%s", data)
	}
	if err := os.WriteFile(f.nginx.UpstreamsFile, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := f.provider.Pool(ctx, "web")
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Member{
		{Pool: "web", Address: f.backends[0].Addr, Weight: 5, State: providers.StateReady},
		{Pool: "web", Address: f.backends[1].Addr, Weight: 1, State: providers.StateDown},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Pool after hand edit (-want +got):\n%s", diff)
	}
}

// TestNginxUnknownPool checks the error for a pool that is not in the file.
func TestNginxUnknownPool(t *testing.T) {
	f := startFleet(t, 1)
	_, err := f.provider.Pool(context.Background(), "nope")
	if err == nil || !strings.Contains(err.Error(), `nginx.edge: pool "nope"`) {
		t.Fatalf("error = %v, want one naming nginx.edge and pool nope", err)
	}
}

// TestNginxBatchFailureWritesNothing checks that a batch whose function fails
// leaves the file and nginx alone.
func TestNginxBatchFailureWritesNothing(t *testing.T) {
	f := startFleet(t, 2)
	ctx := context.Background()
	before, _ := os.ReadFile(f.nginx.UpstreamsFile)
	reloads := f.nginx.Reloads()
	err := f.provider.Batch(ctx, func() error {
		if err := f.provider.SetMemberWeight(ctx, "web", f.backends[0].Addr, 9); err != nil {
			return err
		}
		return f.provider.SetMemberWeight(ctx, "web", f.backends[1].Addr, -1)
	})
	if err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("batch error = %v, want the negative weight", err)
	}
	after, _ := os.ReadFile(f.nginx.UpstreamsFile)
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("file changed by a failed batch (-before +after):\n%s", diff)
	}
	if f.nginx.Reloads() != reloads {
		t.Error("nginx reloaded by a failed batch")
	}
}
