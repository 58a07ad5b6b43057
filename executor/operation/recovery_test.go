package operation

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

// TestNoteRecovery folds interrupted journals into the state: every service they
// touched owes its waits; an instance whose deploy began without its last gate
// ending afterwards is tainted, also across a second crash.
func TestNoteRecovery(t *testing.T) {
	s := newShop(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	e := func(n int, id, kind, addr, event string) state.JournalEntry {
		return state.JournalEntry{StepID: id, Kind: kind, Target: "shop/a/" + addr, Address: addr, Event: event, At: at(n)}
	}
	const a, b = "127.0.0.1:18081", "127.0.0.1:18082"
	st := state.NewState()
	st.Journal = &state.Journal{ApplyID: "one", Started: t0, Entries: []state.JournalEntry{
		// a: deployed and healthy (the shop has no verify block): its gates passed.
		e(1, "shop.1", "deploy", a, state.EventStart), e(2, "shop.1", "deploy", a, state.EventEnd),
		e(3, "shop.2", "wait.healthy", a, state.EventStart), e(4, "shop.2", "wait.healthy", a, state.EventEnd),
		// b: deployed, killed during wait.healthy.
		e(5, "shop.3", "deploy", b, state.EventStart), e(6, "shop.3", "deploy", b, state.EventEnd),
		e(7, "shop.4", "wait.healthy", b, state.EventStart),
	}}
	noteRecovery(st, s.cfg)
	want := map[string]*state.Recovery{"shop": {Since: t0, Tainted: []string{b}}}
	if diff := cmp.Diff(want, st.Recovery); diff != "" {
		t.Fatalf("recovery (-want +got):\n%s", diff)
	}

	// A second interrupted apply redeploys a and dies in its deploy: both tainted,
	// the first crash's time kept.
	st.Journal = &state.Journal{ApplyID: "two", Started: at(60), Entries: []state.JournalEntry{
		e(61, "shop.1", "deploy", a, state.EventStart),
	}}
	noteRecovery(st, s.cfg)
	want["shop"].Tainted = []string{a, b}
	if diff := cmp.Diff(want, st.Recovery); diff != "" {
		t.Fatalf("recovery after a second crash (-want +got):\n%s", diff)
	}
	got := recoveryOptions(st)
	if r := got["shop"]; !r.OwesWaits || !r.Tainted[a] || !r.Tainted[b] {
		t.Errorf("planner recovery %+v", got)
	}
}

// TestApplyAfterCrashRechecksAndRepeatsWaits plans after a crash: the tainted
// instance is taken out of traffic and checked again, and the recovery is cleared
// once the apply completes.
func TestApplyAfterCrashRechecksAndRepeatsWaits(t *testing.T) {
	s := newShop(t)
	src := strings.Replace(shopConfig, `addresses = ["127.0.0.1:1"]`, "addresses   = [\"127.0.0.1:1\"]\n  propagation = \"50ms\"", 1)
	src = strings.Replace(src, `http = "http://${instance.address}/health"`,
		"http     = \"http://${instance.address}/health\"\n    interval = \"50ms\"\n    timeout  = \"300ms\"", 1)
	cfg, ds := lang.LoadFiles(s.dir, map[string][]byte{"main.ns.hcl": []byte(src)}, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	s.cfg = cfg
	st := s.loadState()
	st.Journal = &state.Journal{ApplyID: "old", Started: time.Now().Add(-time.Minute), Entries: []state.JournalEntry{
		{StepID: "shop.5", Kind: "deploy", Target: "shop/a/127.0.0.1:18081", Address: "127.0.0.1:18081", Event: state.EventStart, At: time.Now().Add(-50 * time.Second)},
	}}
	s.saveState(st)

	p, ds := Plan(context.Background(), s.options())
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	var kinds []string
	for _, st := range p.Steps {
		if strings.HasSuffix(st.Target, "127.0.0.1:18081") {
			kinds = append(kinds, string(st.Kind))
		}
	}
	// 18081 runs 1.0.0 as configured, but its deploy's gates never passed.
	wantKinds := []string{"balancer.set_weight", "registry.set_enabled", "wait.propagation", "wait.healthy",
		"registry.set_enabled", "balancer.set_weight"}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Fatalf("steps of the tainted instance (-want +got):\n%s", diff)
	}

	// The apply's plan is the same; the instance fails its health check here
	// (nothing listens), so the service does not complete and stays in recovery.
	r := Apply(context.Background(), s.options())
	if r.Plan == nil || !r.Ran {
		t.Fatalf("result %+v", r)
	}
	if rec := s.loadState().Recovery["shop"]; rec == nil || len(rec.Tainted) != 1 {
		t.Errorf("recovery after a failed apply: %+v, want the tainted instance kept", rec)
	}
}

// TestSettleDeploysWaitsThenStops finds a deploy an interrupted apply left running
// by its journaled process group: it is waited for up to its deploy timeout, then
// stopped, and never left behind the next plan's back.
func TestSettleDeploysWaitsThenStops(t *testing.T) {
	cfg, ds := lang.LoadFiles(t.TempDir(), map[string][]byte{"main.ns.hcl": []byte(strings.Replace(shopConfig,
		`command = ["true"]`, "command = [\"true\"]\n    timeout = \"1s\"", 1))}, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	start := func(sec string) *exec.Cmd {
		cmd := exec.Command("sleep", sec)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = cmd.Wait() }()
		return cmd
	}
	short, long := start("0.3"), start("60")
	now := time.Now()
	j := &state.Journal{Entries: []state.JournalEntry{
		{StepID: "shop.1", Kind: "deploy", Target: "shop/a/x", Event: state.EventStart, At: now},
		{StepID: "shop.1", Kind: "deploy", Target: "shop/a/x", Event: state.EventProcess, PGID: short.Process.Pid, At: now},
		{StepID: "shop.2", Kind: "deploy", Target: "shop/b/y", Event: state.EventStart, At: now},
		{StepID: "shop.2", Kind: "deploy", Target: "shop/b/y", Event: state.EventProcess, PGID: long.Process.Pid, At: now},
	}}
	ds2 := settleDeploys(context.Background(), cfg, j, 20*time.Millisecond)
	if groupAlive(short.Process.Pid) || groupAlive(long.Process.Pid) {
		t.Fatal("a deploy of the interrupted apply still runs")
	}
	var got []string
	for _, d := range ds2 {
		got = append(got, d.Summary)
	}
	want := []string{"Waited for a deploy of the interrupted apply", "Stopped a deploy of the interrupted apply"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if took := time.Since(now); took < time.Second {
		t.Errorf("the long deploy was stopped after %s, before its 1s deploy timeout", took)
	}
	_ = planner.Deploy
}
