package lang

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestDiagnosticsGolden pins the full text (summary and detail) of every
// diagnostic the invalid configurations produce, so wording changes are reviewed.
// Rewrite it with go test ./lang -run TestDiagnosticsGolden -update.
func TestDiagnosticsGolden(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid/*.ns.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, d := LoadFiles("testdata/invalid", map[string][]byte{filepath.Base(path): src}, LoadOptions{Getenv: testEnv})
		b.WriteString("== " + filepath.Base(path) + "\n")
		for _, x := range d {
			b.WriteString(x.Error() + "\n")
		}
	}
	golden := "testdata/invalid.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("diagnostics differ from %s (-want +got):\n%s", golden, diff)
	}
}
