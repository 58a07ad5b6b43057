package lang

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// minimalService is a valid service for configurations that test the limits.
const minimalService = `
service "web" {
  version = "1"
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
`

// writeFiles writes name → contents into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// rendered is what a user sees of ds: the human rendering, sources included.
func rendered(cfg *Config, ds diags.Diagnostics) string {
	var buf bytes.Buffer
	var sources map[string][]byte
	if cfg != nil {
		sources = cfg.Sources
	}
	diags.RenderHuman(&buf, ds, sources, false)
	return buf.String()
}

// TestHostileInput loads the inputs a tester used to crash nonstop, exhaust its
// memory or flood the terminal, generated here rather than committed: each must
// end in a few errors that name the file and the limit, printed in a few KiB.
func TestHostileInput(t *testing.T) {
	nestedInterpolations := "x = " + strings.Repeat(`"${`, 40<<10/3) // 40 KB of nested ${
	tests := map[string]struct {
		files   map[string]string
		opts    LoadOptions
		summary string // the first error's
		detail  []string
	}{
		"100,000 [ in a configuration": {
			files:   map[string]string{"main.ns.hcl": "locals {\n  x = " + strings.Repeat("[", 100000) + "\n}\n"},
			summary: "Configuration nested too deeply",
			detail:  []string{"100 levels"},
		},
		"40 KB of nested ${": {
			files:   map[string]string{"main.ns.hcl": nestedInterpolations},
			summary: "Configuration nested too deeply",
		},
		"configuration file over the limit": {
			files:   map[string]string{"main.ns.hcl": minimalService + strings.Repeat("# padding\n", MaxSourceSize/10)},
			summary: "Configuration file too large",
			detail:  []string{"main.ns.hcl is 1.0 MiB", "limit of 1 MiB"},
		},
		"five files of 1 MiB less a little": {
			files: map[string]string{"main.ns.hcl": minimalService,
				"a.ns.hcl": strings.Repeat("# padding\n", MaxSourceSize/10-1), "b.ns.hcl": strings.Repeat("# padding\n", MaxSourceSize/10-1),
				"c.ns.hcl": strings.Repeat("# padding\n", MaxSourceSize/10-1), "d.ns.hcl": strings.Repeat("# padding\n", MaxSourceSize/10-1),
				"e.ns.hcl": strings.Repeat("# padding\n", MaxSourceSize/10-1)},
			summary: "Configuration too large",
			detail:  []string{"more than 4 MiB together"},
		},
		"variables file over the limit": {
			files:   map[string]string{"main.ns.hcl": minimalService, "big.tfvars": strings.Repeat("# padding\n", MaxSourceSize/9)},
			opts:    LoadOptions{VarFiles: []string{"big.tfvars"}},
			summary: "Variables file too large",
			detail:  []string{"big.tfvars is 1.1 MiB", "limit of 1 MiB"},
		},
		"variables file nested too deeply": {
			files:   map[string]string{"main.ns.hcl": minimalService, "deep.tfvars": "x = " + strings.Repeat("{", 100000)},
			opts:    LoadOptions{VarFiles: []string{"deep.tfvars"}},
			summary: "Configuration nested too deeply",
		},
		"-var value nested too deeply": {
			files:   map[string]string{"main.ns.hcl": minimalService + `variable "list" { type = list(string) }`},
			opts:    LoadOptions{Vars: []string{"list=" + strings.Repeat("[", 100000)}},
			summary: "Invalid value for variable",
			detail:  []string{"-var list", "100 levels"},
		},
		"variables file that is a device": {
			files:   map[string]string{"main.ns.hcl": minimalService},
			opts:    LoadOptions{VarFiles: []string{os.DevNull}},
			summary: "Cannot read variables file",
			detail:  []string{os.DevNull, "not a regular file", "only regular files"},
		},
		"variables file that is a directory": {
			files:   map[string]string{"main.ns.hcl": minimalService},
			opts:    LoadOptions{VarFiles: []string{"."}},
			summary: "Cannot read variables file",
			detail:  []string{"a directory"},
		},
		"file() of a file over its limit": {
			files: map[string]string{
				"main.ns.hcl": minimalService + `locals { motd = file("big.txt") }`,
				"big.txt":     strings.Repeat("x", MaxFileSize+1),
			},
			summary: "Invalid function argument",
			detail:  []string{"big.txt is 4.0 MiB", "limit of 4 MiB for file()"},
		},
		"file() of a device": {
			files:   map[string]string{"main.ns.hcl": minimalService + `locals { motd = file("` + os.DevNull + `") }`},
			summary: "Invalid function argument",
			detail:  []string{"not a regular file"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			for i, f := range tc.opts.VarFiles {
				if !filepath.IsAbs(f) {
					tc.opts.VarFiles[i] = filepath.Join(dir, f)
				}
			}
			tc.opts.Getenv = testEnv
			cfg, ds := LoadDir(dir, tc.opts)
			errs := ds.Errs()
			if len(errs) == 0 || len(errs) > 3 {
				t.Fatalf("%d errors, want 1 to 3:\n%s", len(errs), ds.Error())
			}
			if errs[0].Summary != tc.summary {
				t.Errorf("summary %q, want %q: %s", errs[0].Summary, tc.summary, errs[0].Error())
			}
			for _, want := range tc.detail {
				if !strings.Contains(errs[0].Detail, want) {
					t.Errorf("detail %q does not say %q", errs[0].Detail, want)
				}
			}
			if out := rendered(cfg, ds); len(out) > 4<<10 {
				t.Errorf("%d bytes of diagnostics printed, want at most 4 KiB:\n%.2000s", len(out), out)
			}
		})
	}
}

// TestManyErrorsRenderBounded checks that a file of thousands of errors prints
// only the first diagnostics and a count of the rest.
func TestManyErrorsRenderBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimalService)
	for i := range 5000 {
		fmt.Fprintf(&b, "bogus_%d = %q\n", i, strings.Repeat("x", 100))
	}
	src := b.String()
	cfg, ds := LoadFiles("", map[string][]byte{"main.ns.hcl": []byte(src)}, LoadOptions{Getenv: testEnv})
	if len(ds) < 5000 {
		t.Fatalf("%d diagnostics, want one per bogus line:\n%.2000s", len(ds), ds.Error())
	}
	out := rendered(cfg, ds)
	if len(out) > 64<<10 || !strings.Contains(out, "more errors not shown") {
		t.Errorf("%d bytes printed, ending %q", len(out), out[max(0, len(out)-200):])
	}
}
