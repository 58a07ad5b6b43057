package lang

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errorMarker matches the "# ERROR: <summary>" comment that marks an offending line.
var errorMarker = regexp.MustCompile(`#\s*ERROR:\s*(.+?)\s*$`)

// wantErrors returns "line: summary" for every marker in src.
func wantErrors(src []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(src))
	for line := 1; sc.Scan(); line++ {
		if m := errorMarker.FindStringSubmatch(sc.Text()); m != nil {
			out = append(out, fmt.Sprintf("%d: %s", line, m[1]))
		}
	}
	sort.Strings(out)
	return out
}

// testEnv is the environment every testdata configuration is loaded with.
func testEnv(name string) (string, bool) {
	env := map[string]string{"NONSTOP_TEST_USER": "alice"}
	v, ok := env[name]
	return v, ok
}

// TestInvalid loads each testdata/invalid file and checks that the errors found
// are exactly the marked ones: every rule is reported, all at once, at its line.
func TestInvalid(t *testing.T) {
	paths, err := filepath.Glob("testdata/invalid/*.ns.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 45 {
		t.Fatalf("found %d invalid configurations, want at least 45", len(paths))
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".ns.hcl")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := wantErrors(src)
			if len(want) == 0 {
				t.Fatal("the file has no # ERROR: markers")
			}
			cfg, d := LoadFiles("testdata/invalid", map[string][]byte{filepath.Base(path): src},
				LoadOptions{Getenv: testEnv})
			if cfg == nil || cfg.Sources == nil {
				t.Error("LoadFiles returned no partial config (Sources) with its errors")
			}
			var got []string
			for _, x := range d.Errs() {
				if x.Subject == nil {
					t.Errorf("error without a source range: %s", x.Error())
					continue
				}
				if x.Subject.Filename != path {
					t.Errorf("error in file %q, want %q: %s", x.Subject.Filename, path, x.Error())
				}
				got = append(got, fmt.Sprintf("%d: %s", x.Subject.Start.Line, x.Summary))
				if x.Detail == "" {
					t.Errorf("error without detail: %s", x.Error())
				}
			}
			sort.Strings(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("errors (-marked +reported):\n%s\nall diagnostics:\n%s", diff, d.Error())
			}
		})
	}
}
