package lang

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLoadDir loads a configuration split over several files, ignoring files
// without the .ns.hcl suffix.
func TestLoadDir(t *testing.T) {
	cfg, d := LoadDir("testdata/multi", LoadOptions{Vars: []string{"release=7.0.0"}, Getenv: testEnv})
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	want := []string{"testdata/multi/providers.ns.hcl", "testdata/multi/services.ns.hcl", "testdata/multi/variables.ns.hcl"}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(cfg.Sources))); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	s := cfg.Services["api"]
	if s.Version != "7.0.0" || cmp.Diff([]Address{addr("127.0.0.1", 18181)}, s.Groups[0].Instances) != "" {
		t.Errorf("service api = %+v, groups %+v", s, s.Groups[0])
	}
	if got := s.DeclRange.Filename; got != "testdata/multi/services.ns.hcl" {
		t.Errorf("service declared in %q", got)
	}

	// The hash covers names and contents only, not the directory.
	files := map[string][]byte{}
	for _, n := range []string{"providers.ns.hcl", "services.ns.hcl", "variables.ns.hcl"} {
		b, err := os.ReadFile(filepath.Join("testdata/multi", n))
		if err != nil {
			t.Fatal(err)
		}
		files[n] = b
	}
	other, d := LoadFiles("/somewhere/else", files, LoadOptions{Vars: []string{"release=7.0.0"}})
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	if other.Hash != cfg.Hash {
		t.Errorf("hash differs by directory: %s vs %s", other.Hash, cfg.Hash)
	}
	files["services.ns.hcl"] = append(files["services.ns.hcl"], '\n')
	changed, _ := LoadFiles("testdata/multi", files, LoadOptions{Vars: []string{"release=7.0.0"}})
	if changed == nil || changed.Hash == cfg.Hash {
		t.Error("hash did not change with the contents")
	}
}

// TestLoadDirErrors checks a missing variable across files and empty directories.
func TestLoadDirErrors(t *testing.T) {
	_, d := LoadDir("testdata/multi", LoadOptions{Getenv: testEnv})
	if len(d) != 1 || d[0].Summary != "Required variable not set" || d[0].Subject.Filename != "testdata/multi/variables.ns.hcl" {
		t.Errorf("diagnostics = %v", d)
	}
	_, d = LoadDir(t.TempDir(), LoadOptions{})
	if len(d) != 1 || d[0].Summary != "No configuration files" {
		t.Errorf("empty dir: diagnostics = %v", d)
	}
	_, d = LoadDir(filepath.Join(t.TempDir(), "missing"), LoadOptions{})
	if len(d) != 1 || d[0].Summary != "Cannot read configuration directory" {
		t.Errorf("missing dir: diagnostics = %v", d)
	}
}

// TestDuplicatesAcrossFiles checks that a duplicate in a second file is reported there.
func TestDuplicatesAcrossFiles(t *testing.T) {
	p := []byte("provider \"nginx\" \"edge\" {\n  upstreams_file = \"/tmp/x\"\n}\n")
	_, d := LoadFiles("", map[string][]byte{"a.ns.hcl": p, "b.ns.hcl": p}, LoadOptions{})
	if len(d) != 1 || d[0].Summary != "Duplicate provider" || d[0].Subject.Filename != "b.ns.hcl" {
		t.Errorf("diagnostics = %v", d)
	}
}

// TestReadFileOption checks that file() reads through LoadOptions.ReadFile.
func TestReadFileOption(t *testing.T) {
	src := []byte(`
service "web" {
  version = trimspace(file("VERSION"))
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}`)
	read := func(name string) ([]byte, error) {
		if name != "VERSION" {
			t.Errorf("read %q", name)
		}
		return []byte("9.9.9\n"), nil
	}
	cfg, d := LoadFiles("", map[string][]byte{"x.ns.hcl": src}, LoadOptions{ReadFile: read})
	if d.HasErrors() {
		t.Fatal(d.Error())
	}
	if v := cfg.Services["web"].Version; v != "9.9.9" {
		t.Errorf("version = %q", v)
	}
}
