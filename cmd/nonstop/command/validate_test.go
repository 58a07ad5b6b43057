package command

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestValidateGolden runs validate, human and -json, on every directory under
// testdata/validate and compares the output with human.golden and json.golden there.
func TestValidateGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/validate/*")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	env := map[string]string{"NACOS_PASSWORD": "correct-horse-battery"}
	for _, dir := range cases {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			human := run(t, env, "", "validate", dir)
			checkGolden(t, filepath.Join(dir, "human.golden"), human.String())

			js := run(t, env, "", "validate", "-json", dir)
			if strings.Contains(human.String()+js.String(), env["NACOS_PASSWORD"]) {
				t.Errorf("the password from NACOS_PASSWORD was printed:\n%s\n%s", human, js)
			}
			checkGolden(t, filepath.Join(dir, "json.golden"), js.String())
			if js.code != human.code {
				t.Errorf("exit code %d with -json, %d without", js.code, human.code)
			}
			var rep struct {
				Valid      bool `json:"valid"`
				ErrorCount int  `json:"error_count"`
			}
			if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
				t.Fatalf("-json output is not JSON: %v", err)
			}
			if rep.Valid != (js.code == 0) || rep.Valid != (rep.ErrorCount == 0) {
				t.Errorf("valid=%t error_count=%d but exit code %d", rep.Valid, rep.ErrorCount, js.code)
			}
		})
	}
}

// TestValidateReportsEveryError checks that each line marked "# ERROR" in an
// invalid case is the subject of a diagnostic.
func TestValidateReportsEveryError(t *testing.T) {
	for _, name := range []string{"invalid-references", "bad-values"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata/validate", name)
			src, err := os.ReadFile(filepath.Join(dir, "main.ns.hcl"))
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			for i, line := range strings.Split(string(src), "\n") {
				if strings.Contains(line, "# ERROR") {
					want = append(want, i+1)
				}
			}
			res := run(t, nil, "", "validate", "-json", dir)
			var rep struct {
				Diagnostics []struct {
					Range *struct {
						Start struct{ Line int } `json:"start"`
					} `json:"range"`
				} `json:"diagnostics"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			lines := map[int]bool{}
			for _, d := range rep.Diagnostics {
				if d.Range != nil {
					lines[d.Range.Start.Line] = true
				}
			}
			var missing []int
			for _, l := range want {
				if !lines[l] {
					missing = append(missing, l)
				}
			}
			if len(missing) > 0 {
				t.Errorf("no diagnostic on marked lines %v; output:\n%s", missing, res.stdout)
			}
		})
	}
}

func TestValidateUsage(t *testing.T) {
	tests := map[string]struct {
		args     []string
		wantCode int
		wantOut  string // substring of stdout
		wantErr  string // substring of stderr
	}{
		"help lists every flag": {[]string{"validate", "-help"}, 0, "-var-file value", ""},
		"help shows exit codes": {[]string{"help", "validate"}, 0, "Exit codes:", ""},
		"two directories":       {[]string{"validate", "a", "b"}, 1, "", "at most one directory"},
		"unknown flag":          {[]string{"validate", "-nope"}, 1, "", "flag provided but not defined: -nope"},
		"missing directory":     {[]string{"validate", "testdata/none"}, 1, "", "Invalid configuration directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := run(t, nil, "", tc.args...)
			if res.code != tc.wantCode || !strings.Contains(res.stdout, tc.wantOut) || !strings.Contains(res.stderr, tc.wantErr) {
				t.Errorf("got %s\nwant code %d, stdout containing %q, stderr containing %q", res, tc.wantCode, tc.wantOut, tc.wantErr)
			}
		})
	}
	help := run(t, nil, "", "validate", "-help").stdout
	for _, flag := range []string{"-json", "-var value", "-var-file value", "-summary", "-no-color"} {
		if !strings.Contains(help, flag) {
			t.Errorf("validate -help does not list %s:\n%s", flag, help)
		}
	}
}

// TestExamplesValidate checks that every example directory validates.
func TestExamplesValidate(t *testing.T) {
	dirs, err := filepath.Glob("../../../examples/*")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, dir := range dirs {
		if files, _ := filepath.Glob(filepath.Join(dir, "*.ns.hcl")); len(files) == 0 {
			continue
		}
		got = append(got, filepath.Base(dir))
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res := run(t, nil, "", "validate", "-summary", dir)
			if res.code != 0 || !strings.Contains(res.stdout, "Success!") {
				t.Errorf("validate %s: %s", dir, res)
			}
		})
	}
	for _, want := range []string{"blue-green", "canary", "patent-ab", "rolling"} {
		if !slices.Contains(got, want) {
			t.Errorf("example %s has no *.ns.hcl files", want)
		}
	}
}
