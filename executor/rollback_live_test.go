package executor

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
	"github.com/nonstop-release/nonstop/providers"
)

// reregisteringRegistry is a fake registry in which a restarted instance registers
// itself again, enabled, as it does on Polaris: when an instance was deployed (the
// deploy command rewrote its version file) since it was last disabled, the next
// read shows it enabled.
type reregisteringRegistry struct {
	*fakeRegistry
	rl *release

	mu       sync.Mutex
	disabled map[string]time.Time // address -> its version file's mtime when it was disabled
}

// deployedAt returns when the instance's version file was last written.
func (r *reregisteringRegistry) deployedAt(addr string) time.Time {
	fi, err := os.Stat(r.rl.versionFile(addr))
	if err != nil {
		r.rl.t.Errorf("reading the version file of %s: %v", addr, err)
		return time.Time{}
	}
	return fi.ModTime()
}

func (r *reregisteringRegistry) Instances(ctx context.Context, svc providers.ServiceKey) ([]providers.Instance, error) {
	r.mu.Lock()
	for addr, at := range r.disabled {
		if !r.deployedAt(addr).Equal(at) {
			r.fakeRegistry.mu.Lock()
			r.fakeRegistry.instances[addr].Enabled = true
			r.fakeRegistry.mu.Unlock()
			r.log.add("nacos.%s registered %s at %s", r.name, addr, r.rl.version(addr))
			delete(r.disabled, addr)
		}
	}
	r.mu.Unlock()
	return r.fakeRegistry.Instances(ctx, svc)
}

func (r *reregisteringRegistry) SetInstanceEnabled(ctx context.Context, inst providers.InstanceKey, enabled bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if enabled {
		delete(r.disabled, inst.Address)
	} else {
		r.disabled[inst.Address] = r.deployedAt(inst.Address)
	}
	return r.fakeRegistry.SetInstanceEnabled(ctx, inst, enabled)
}

func TestRollbackDrainsReregisteredInstance(t *testing.T) {
	rl := newRelease(t, releaseOptions{})
	a, b := rl.addrs[0], rl.addrs[1]
	rl.failHealth(b, "2.0.0")
	reg := &reregisteringRegistry{fakeRegistry: rl.reg, rl: rl, disabled: map[string]time.Time{}}
	first := unit("1", a, "a", ms(50))
	steps := append(first, unit("2", b, "b", ms(50), first[len(first)-1].ID)...)
	events := &eventLog{}
	r := rl.runner()
	r.Providers[lang.ProviderRef{Kind: "nacos", Name: "prod"}] = reg
	r.Events = events
	res, err := r.Apply(context.Background(), &planner.Plan{Steps: steps})
	if err == nil {
		t.Fatal("apply with a failing health check succeeded")
	}
	if s := res.Services["order-service"]; s.Outcome != OutcomeRolledBack {
		t.Fatalf("outcome %s (%s), want rolled_back", s.Outcome, s.RollbackError)
	}

	// b came back enabled at 2.0.0 although the apply had disabled it: the
	// registry guard disables it again at once, and the rollback waits for the
	// propagation before it redeploys b, because consumers may have listed it.
	var got []string
	waited := map[string]time.Duration{}
	for _, e := range events.events {
		if e.Step == nil || !strings.Contains(e.Step.ID, ".rollback.") {
			continue
		}
		if e.Type == EventStepStart {
			got = append(got, stepSummary(e.Step))
		}
		if e.Type == EventStepComplete && e.Step.Kind == planner.WaitPropagation {
			waited[e.Step.Target] = e.Elapsed
		}
	}
	target := "order-service/b/" + b
	want := []string{
		"wait.propagation 50ms",
		"deploy " + b + " 2.0.0 -> 1.0.0",
		"wait.healthy " + b + " 1.0.0",
		"verify " + b + " 1.0.0",
		"registry.set_enabled " + b + " enabled=true",
		"balancer.set_weight " + b + " weight=1",
	}
	if len(got) < len(want) {
		t.Fatalf("rollback ran %d steps, want at least %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	if diff := cmp.Diff(want, got[:len(want)]); diff != "" {
		t.Errorf("b's rollback steps (-want +got):\n%s", diff)
	}
	if d := waited[target]; d < 50*time.Millisecond {
		t.Errorf("b's propagation wait took %s, want at least 50ms", d)
	}
	if !hasWarning(events, b+" registered itself enabled before its health and verify gates passed") {
		t.Error("no warning that the guard caught b enabled")
	}

	// In the providers' writes: b re-registered at 2.0.0 and was disabled before it
	// was redeployed; a and b are enabled again only once back at 1.0.0. (The guard
	// may also catch a redeployed 1.0.0 before its gates: not asserted.)
	writes := rl.log.list()
	inOrder(t, writes,
		"nacos.prod registered "+b+" at 2.0.0",
		"nacos.prod enabled "+b+" false",
		"nacos.prod registered "+b+" at 1.0.0",
		"nacos.prod enabled "+b+" true", "nginx.edge weight "+b+" 1")
	inOrder(t, writes,
		"nginx.edge weight "+a+" 0", "nacos.prod enabled "+a+" false",
		"nacos.prod registered "+a+" at 1.0.0",
		"nacos.prod enabled "+a+" true", "nginx.edge weight "+a+" 1")
	if last := lastIndex(writes, "nacos.prod enabled "+b+" false"); last > index(writes, "nacos.prod enabled "+b+" true") {
		t.Errorf("b disabled after it was enabled again:\n%s", strings.Join(writes, "\n"))
	}
	for _, addr := range rl.addrs {
		if v := rl.version(addr); v != "1.0.0" {
			t.Errorf("%s runs %q after rollback, want 1.0.0", addr, v)
		}
	}
}

// stepSummary names a step by its kind and the arguments the test checks.
func stepSummary(st *planner.Step) string {
	a := st.Args
	switch st.Kind {
	case planner.RegistrySetEnabled:
		return fmt.Sprintf("%s %s enabled=%t", st.Kind, a.Address, a.Enabled != nil && *a.Enabled)
	case planner.BalancerSetWeight:
		return fmt.Sprintf("%s %s weight=%d", st.Kind, a.Address, *a.Weight)
	case planner.WaitPropagation:
		return fmt.Sprintf("%s %s", st.Kind, time.Duration(a.Duration))
	case planner.WaitDrain:
		return fmt.Sprintf("%s %s", st.Kind, strings.Join(a.Members, ","))
	case planner.Deploy:
		return fmt.Sprintf("%s %s %s -> %s", st.Kind, a.Address, a.FromVersion, a.Version)
	}
	return fmt.Sprintf("%s %s %s", st.Kind, a.Address, a.Version)
}

// inOrder asserts that want appear in writes in this order, not necessarily next
// to each other.
func inOrder(t *testing.T, writes []string, want ...string) {
	t.Helper()
	i := 0
	for _, w := range writes {
		if i < len(want) && w == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("writes lack %q in order after %q:\n%s", want[i], want[:i], strings.Join(writes, "\n"))
	}
}

// hasWarning reports whether a warning event contains text.
func hasWarning(events *eventLog, text string) bool {
	for _, e := range events.events {
		if e.Level == LevelWarn && strings.Contains(e.Message, text) {
			return true
		}
	}
	return false
}

func lastIndex(s []string, v string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}

func index(s []string, v string) int {
	for i := range s {
		if s[i] == v {
			return i
		}
	}
	return -1
}
