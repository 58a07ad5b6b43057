package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/cmd/nonstop/views"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/planner"
)

var updateExample = flag.Bool("update-example", false, "rewrite examples/patent-ab/plan.txt")

// TestWebsocketExamplePlan plans examples/patent-ab (nginx HTTP, HAProxy websocket
// sessions marked long_lived, blue-green with keep_standby) against its
// testdata/live.json — A serving 5.1.0 with websocket sessions open on HAProxy, B
// the standby — and compares the rendering with its plan.txt
// (-update-example rewrites it). The switch's wait.drain must say that it closes
// what remains on the old group.
func TestWebsocketExamplePlan(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "patent-ab")
	cfg, ds := lang.LoadDir(dir, lang.LoadOptions{})
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	b, err := os.ReadFile(filepath.Join(dir, "testdata", "live.json"))
	if err != nil {
		t.Fatal(err)
	}
	var live planner.Live
	if err := json.Unmarshal(b, &live); err != nil {
		t.Fatal(err)
	}
	p, ds := planner.MakePlan(cfg, &live, planner.Options{})
	if ds.HasErrors() {
		t.Fatal(ds.Err())
	}
	var got bytes.Buffer
	if err := views.RenderPlan(&got, p); err != nil {
		t.Fatal(err)
	}
	const closes = "wait.drain patent-search/a up to 10m0s (2 members) then closes the sessions left on 2 long-lived members"
	if !strings.Contains(got.String(), closes) {
		t.Errorf("the plan does not say %q:\n%s", closes, got.String())
	}
	path := filepath.Join(dir, "plan.txt")
	if *updateExample {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), got.String()); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}
