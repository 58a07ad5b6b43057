package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nonstop-release/nonstop/executor"
)

// stepBars lists the step IDs a report draws a bar for.
func stepBars(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	var ids []string
	for _, m := range regexp.MustCompile(`<g class="bar[^"]*" data-step="([^"]+)"`).FindAllStringSubmatch(string(data), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// TestApplyAndHistoryReport: apply -report writes the report of the apply; the
// state keeps the release's timeline, from which history -report writes the same
// steps, by default or for the service; an apply with nothing to do writes no
// report and says so.
func TestApplyAndHistoryReport(t *testing.T) {
	dir := fakeFleet(t)
	applied := filepath.Join(t.TempDir(), "apply.html")
	res := run(t, quiet, "", "apply", "-auto-approve", "-report", applied, dir)
	if res.code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.code, res)
	}
	if !strings.Contains(res.stdout, "Release report written to "+applied) {
		t.Errorf("apply does not say where the report is:\n%s", res)
	}
	bars := stepBars(t, applied)
	if len(bars) == 0 {
		t.Fatal("the apply's report draws no step")
	}

	st := loadLocalState(t, dir)
	if len(st.History) != 1 || len(st.History[0].Timeline) == 0 {
		t.Fatalf("history %+v, want one release with its timeline", st.History)
	}
	var tl executor.Timeline
	if err := json.Unmarshal(st.History[0].Timeline, &tl); err != nil {
		t.Fatalf("the stored timeline: %v", err)
	}
	if len(tl.Steps) != len(bars) || tl.By == "" || len(tl.Services) != 1 || tl.Services[0].Name != "shop" {
		t.Errorf("stored timeline: %d steps (report: %d), by %q, services %+v", len(tl.Steps), len(bars), tl.By, tl.Services)
	}

	for _, args := range [][]string{{}, {"shop"}, {st.History[0].ID}, {st.History[0].ID[:10]}} {
		file := filepath.Join(t.TempDir(), "history.html")
		res := run(t, quiet, "", append(append([]string{"history", "-report", file}, args...), dir)...)
		if res.code != 0 {
			t.Fatalf("history -report %v: exit code %d\n%s", args, res.code, res)
		}
		if got := stepBars(t, file); strings.Join(got, " ") != strings.Join(bars, " ") {
			t.Errorf("history -report %v draws steps %v, want the apply's %v", args, got, bars)
		}
	}
	if res := run(t, quiet, "", "history", "-report", filepath.Join(t.TempDir(), "x.html"), "nosuch", dir); res.code != 1 || !strings.Contains(res.stderr, `"nosuch"`) {
		t.Errorf("history -report of an unknown release: exit %d\n%s", res.code, res)
	}
	if res := run(t, quiet, "", "history", "-report", "x.html", "-json", dir); res.code != 1 {
		t.Errorf("history -report -json: exit %d, want 1", res.code)
	}

	again := filepath.Join(t.TempDir(), "again.html")
	res = run(t, quiet, "", "apply", "-auto-approve", "-report", again, dir)
	if res.code != 0 || !strings.Contains(res.stderr, "No release report written") {
		t.Errorf("an apply with nothing to do: exit %d\n%s", res.code, res)
	}
	if _, err := os.Stat(again); err == nil {
		t.Error("an apply with nothing to do wrote a report")
	}
}
