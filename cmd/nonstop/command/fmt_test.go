package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const unformatted = "service \"web\" {\n  version=\"1.0.0\"\n    min_available = 1\n}\n"
const formatted = "service \"web\" {\n  version       = \"1.0.0\"\n  min_available = 1\n}\n"

// fmtTree writes files (relative name → content) under a new temp dir.
func fmtTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readTree(t *testing.T, dir string, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out[n] = string(b)
	}
	return out
}

func TestFmt(t *testing.T) {
	files := map[string]string{
		"a.ns.hcl":            unformatted,
		"ok.ns.hcl":           formatted,
		"notes.hcl":           unformatted, // not *.ns.hcl: left alone
		"sub/b.ns.hcl":        unformatted,
		".hidden/c.ns.hcl":    unformatted,
		"sub/deeper/d.ns.hcl": formatted,
	}
	names := []string{"a.ns.hcl", "ok.ns.hcl", "notes.hcl", "sub/b.ns.hcl", ".hidden/c.ns.hcl"}
	tests := map[string]struct {
		args      []string
		wantCode  int
		wantList  []string // file names printed, relative to the dir
		rewritten []string // files expected to be formatted afterwards
	}{
		"default writes":     {nil, 0, []string{"a.ns.hcl"}, []string{"a.ns.hcl"}},
		"check writes none":  {[]string{"-check"}, 3, []string{"a.ns.hcl"}, nil},
		"write=false":        {[]string{"-write=false"}, 0, []string{"a.ns.hcl"}, nil},
		"recursive":          {[]string{"-recursive"}, 0, []string{"a.ns.hcl", "sub/b.ns.hcl"}, []string{"a.ns.hcl", "sub/b.ns.hcl"}},
		"recursive check":    {[]string{"-recursive", "-check"}, 3, []string{"a.ns.hcl", "sub/b.ns.hcl"}, nil},
		"explicit file":      {[]string{"FILE:notes.hcl"}, 0, []string{"notes.hcl"}, []string{"notes.hcl"}},
		"no list":            {[]string{"-list=false"}, 0, nil, []string{"a.ns.hcl"}},
		"check formatted ok": {[]string{"-check", "FILE:ok.ns.hcl"}, 0, nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := fmtTree(t, files)
			args := []string{"fmt"}
			explicit := false
			for _, a := range tc.args {
				if f, ok := strings.CutPrefix(a, "FILE:"); ok {
					a, explicit = filepath.Join(dir, f), true
				}
				args = append(args, a)
			}
			if !explicit {
				args = append(args, dir)
			}
			res := run(t, nil, "", args...)
			if res.code != tc.wantCode {
				t.Errorf("exit code %d, want %d: %s", res.code, tc.wantCode, res)
			}
			var want string
			for _, f := range tc.wantList {
				want += filepath.Join(dir, f) + "\n"
			}
			if diff := cmp.Diff(want, res.stdout); diff != "" {
				t.Errorf("listed files (-want +got):\n%s", diff)
			}
			wantFiles := map[string]string{}
			for _, n := range names {
				wantFiles[n] = files[n]
			}
			for _, n := range tc.rewritten {
				wantFiles[n] = formatted
			}
			if diff := cmp.Diff(wantFiles, readTree(t, dir, names...)); diff != "" {
				t.Errorf("files afterwards (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFmtDiff(t *testing.T) {
	dir := fmtTree(t, map[string]string{"a.ns.hcl": unformatted})
	res := run(t, nil, "", "fmt", "-check", "-diff", "-list=false", dir)
	p := filepath.Join(dir, "a.ns.hcl")
	want := "--- a/" + p + "\n+++ b/" + p + "\n" +
		"@@ -1,4 +1,4 @@\n" +
		" service \"web\" {\n" +
		"-  version=\"1.0.0\"\n" +
		"-    min_available = 1\n" +
		"+  version       = \"1.0.0\"\n" +
		"+  min_available = 1\n" +
		" }\n"
	if diff := cmp.Diff(want, res.stdout); diff != "" || res.code != 3 {
		t.Errorf("exit %d, diff output (-want +got):\n%s", res.code, diff)
	}
}

func TestFmtSyntaxError(t *testing.T) {
	dir := fmtTree(t, map[string]string{"bad.ns.hcl": "service \"web\" {\n  version = \n", "a.ns.hcl": unformatted})
	res := run(t, nil, "", "fmt", dir)
	if res.code != 1 {
		t.Errorf("exit code %d, want 1", res.code)
	}
	if !strings.Contains(res.stderr, "Error: ") || !strings.Contains(res.stderr, "bad.ns.hcl line 2") {
		t.Errorf("no diagnostic with a location on stderr:\n%s", res.stderr)
	}
	// The well-formed file is still formatted.
	if got := readTree(t, dir, "a.ns.hcl")["a.ns.hcl"]; got != formatted {
		t.Errorf("a.ns.hcl not formatted:\n%s", got)
	}
}

func TestFmtStdin(t *testing.T) {
	tests := map[string]struct {
		args     []string
		stdin    string
		wantCode int
		wantOut  string
	}{
		"formats":      {[]string{"fmt", "-"}, unformatted, 0, formatted},
		"check dirty":  {[]string{"fmt", "-check", "-"}, unformatted, 3, ""},
		"check clean":  {[]string{"fmt", "-check", "-"}, formatted, 0, ""},
		"syntax error": {[]string{"fmt", "-"}, "a = [\n", 1, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := run(t, nil, tc.stdin, tc.args...)
			if res.code != tc.wantCode || res.stdout != tc.wantOut {
				t.Errorf("got %s\nwant code %d, stdout %q", res, tc.wantCode, tc.wantOut)
			}
		})
	}
}

// TestFmtRefusesDeepNesting formats 100,000 `[` without a stack overflow.
func TestFmtRefusesDeepNesting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "deep.ns.hcl")
	if err := os.WriteFile(path, []byte("x = "+strings.Repeat("[", 100000)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, nil, "", "fmt", "-check", path)
	if res.code == 0 || !strings.Contains(res.stdout+res.stderr, "nest") {
		t.Errorf("fmt of 100,000 [ exited %d: %s", res.code, res)
	}
}
