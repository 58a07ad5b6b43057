package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/executor/state"
	"github.com/nonstop-release/nonstop/lang"
)

func TestTopLevel(t *testing.T) {
	tests := map[string]struct {
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		"no arguments":       {nil, 1, "", "Usage: nonstop"},
		"help":               {[]string{"-help"}, 0, "Commands:\n  validate", ""},
		"help command":       {[]string{"help"}, 0, "Usage: nonstop", ""},
		"unknown command":    {[]string{"deploy-now"}, 1, "", `unknown command "deploy-now"`},
		"did you mean":       {[]string{"valdate"}, 1, "", `Did you mean "validate"?`},
		"help of unknown":    {[]string{"help", "nope"}, 1, "", `unknown command "nope"`},
		"version flag":       {[]string{"-version"}, 0, "nonstop v" + lang.Version, ""},
		"fmt help":           {[]string{"fmt", "-h"}, 0, "-recursive", ""},
		"fmt help exit code": {[]string{"fmt", "-help"}, 0, "3  with -check", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := run(t, nil, "", tc.args...)
			if res.code != tc.wantCode || !strings.Contains(res.stdout, tc.wantOut) || !strings.Contains(res.stderr, tc.wantErr) {
				t.Errorf("got %s\nwant code %d, stdout containing %q, stderr containing %q", res, tc.wantCode, tc.wantOut, tc.wantErr)
			}
		})
	}
	// Every command in the table is listed with its synopsis.
	help := run(t, nil, "", "-help").stdout
	for _, c := range table {
		if !strings.Contains(help, c.Name) || !strings.Contains(help, c.Synopsis) {
			t.Errorf("-help does not list %s", c.Name)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	res := run(t, nil, "", "version", "-json")
	var v versionInfo
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil || res.code != 0 {
		t.Fatalf("exit %d, %v: %s", res.code, err, res.stdout)
	}
	if v.FormatVersion != "1.0" || v.Version != lang.Version || !strings.HasPrefix(v.GoVersion, "go") || v.Platform == "" {
		t.Errorf("unexpected version info %+v", v)
	}
}

func TestLogLevel(t *testing.T) {
	tests := map[string]struct {
		value     string
		set       bool
		wantDebug bool
		wantWarn  bool // the invalid-level warning
	}{
		"unset":         {"", false, false, false},
		"debug":         {"debug", true, true, false},
		"upper case":    {"TRACE", true, true, false},
		"error":         {"error", true, false, false},
		"invalid":       {"loud", true, false, true},
		"off not level": {"off", true, false, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := NewLogger(&buf, func(k string) (string, bool) {
				if k == LogEnv {
					return tc.value, tc.set
				}
				return "", false
			})
			log.Debug("debug line")
			log.Warn("warn line")
			out := buf.String()
			if got := strings.Contains(out, "debug line"); got != tc.wantDebug {
				t.Errorf("debug logged = %t, want %t:\n%s", got, tc.wantDebug, out)
			}
			if got := strings.Contains(out, "is not a log level"); got != tc.wantWarn {
				t.Errorf("invalid-level warning = %t, want %t:\n%s", got, tc.wantWarn, out)
			}
			if tc.value != "error" && !strings.Contains(out, "warn line") {
				t.Errorf("warn line missing:\n%s", out)
			}
		})
	}
}

// TestMetaRedactsLoggerAndStdout checks that a secret added at runtime is removed
// from the logger's output and from stdout.
func TestMetaRedactsLoggerAndStdout(t *testing.T) {
	var stdout, stderr bytes.Buffer
	m := newMeta(Streams{Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) (string, bool) {
		return "debug", k == LogEnv
	}})
	m.Redactor.Add("s3cr3t!")
	m.Logger("test").Debug("connecting", "password", "s3cr3t!", "quoted", "has space s3cr3t!")
	m.Stdout.Write([]byte("password is s3cr"))
	m.Stdout.Write([]byte("3t! indeed\n"))
	m.PrintJSON(map[string]string{"password": "s3cr3t!"})
	m.flush()
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		if strings.Contains(out, "s3cr3t") {
			t.Errorf("%s leaks the secret:\n%s", name, out)
		}
		if !strings.Contains(out, "(sensitive value)") {
			t.Errorf("%s has no redaction marker:\n%s", name, out)
		}
	}
}

// checkJSONErrorLines checks that stdout is JSON lines, each a diagnostic,
// and that an error among them mentions want.
func checkJSONErrorLines(t *testing.T, stdout, want string) {
	t.Helper()
	found := false
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var d jsonDiagnosticLine
		if err := json.Unmarshal([]byte(line), &d); err != nil || d.Type != "diagnostic" || d.Timestamp == "" || !strings.HasPrefix(d.Module, "nonstop.") {
			t.Errorf("stdout line is not a JSON diagnostic (%v): %s", err, line)
			continue
		}
		found = found || (d.Level == "error" && d.Diagnostic.Severity == "error" &&
			strings.Contains(d.Message+" "+d.Diagnostic.Summary+" "+d.Diagnostic.Detail, want))
	}
	if !found {
		t.Errorf("no JSON error line mentions %q:\n%s", want, stdout)
	}
}

// TestGlobalChdir: -chdir=DIR (or -chdir DIR) before the command runs it in
// DIR, paths given to it included, and the working directory is back after.
func TestGlobalChdir(t *testing.T) {
	dir := fakeFleet(t)
	seedState(t, dir, false)
	before, _ := os.Getwd()
	for _, args := range [][]string{{"-chdir=" + dir, "history"}, {"-chdir", dir, "history"}, {"--chdir=" + dir, "history", "shop"}} {
		res := run(t, quiet, "", args...)
		if res.code != 0 || !strings.Contains(res.stdout, "shop     1.0.0  1.1.0") {
			t.Errorf("%v: %s", args, res)
		}
		if now, _ := os.Getwd(); now != before {
			t.Fatalf("the working directory is %s after %v, was %s", now, args, before)
		}
	}
	// A path given to the command is read from DIR: fmt -check of "." finds the
	// configuration of DIR.
	if res := run(t, quiet, "", "-chdir="+dir, "fmt", "-check", "."); res.code != 0 {
		t.Errorf("fmt -check in DIR: %s", res)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-chdir=" + filepath.Join(dir, "nope"), "validate"}, "-chdir " + filepath.Join(dir, "nope") + ": cannot change to it: no such file or directory"},
		{[]string{"-chdir"}, "-chdir needs a directory"},
		{[]string{"-chdir=", "validate"}, "-chdir needs a directory"},
		{[]string{"-bogus", "validate"}, `unknown global option "-bogus"`},
	} {
		if res := run(t, quiet, "", tc.args...); res.code != 1 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: want exit 1 and %q, got %s", tc.args, tc.want, res)
		}
	}
	if res := run(t, quiet, "", "-chdir=/nonexistent", "history", "-json"); res.code != 1 {
		t.Errorf("-chdir to nowhere with -json: %s", res)
	} else {
		checkJSONErrorLines(t, res.stdout, "cannot change to it")
	}
}

// TestJSONErrors: every command that has -json says why it failed as JSON
// lines on stdout (besides stderr), unless it wrote its failure as JSON itself;
// a command that succeeds prints its document alone.
func TestJSONErrors(t *testing.T) {
	dir := fakeFleet(t)
	seedState(t, dir, false)
	empty := t.TempDir()
	syntax := filepath.Join("testdata", "validate", "syntax-error")
	tests := map[string]struct {
		args []string
		want string
	}{
		"history no configuration":   {[]string{"history", "-json", empty}, "No configuration files"},
		"history bad -n":             {[]string{"history", "-json", "-n", "-1", dir}, "-n must be 0 (all) or more"},
		"history report and json":    {[]string{"history", "-json", "-report", "x.html", dir}, "-report and -json cannot be used together"},
		"history unknown flag":       {[]string{"history", "-json=true", "-bogus", dir}, "flag provided but not defined: -bogus"},
		"state show two directories": {[]string{"state", "show", "-json", dir, dir}, "state show takes at most one directory"},
		"inspect no configuration":   {[]string{"inspect", "-json", empty}, "No configuration files"},
		"drift format json":          {[]string{"drift", "-format", "json", "-target", "nope", dir}, "Invalid target"},
		"apply json no approval":     {[]string{"apply", "-json", dir}, "-json needs -auto-approve or a plan FILE"},
		"show json no file":          {[]string{"show", "-json"}, "show takes exactly one plan file"},
		"validate two directories":   {[]string{"validate", "-json", dir, dir}, "validate takes at most one directory"},
		"version extra flag":         {[]string{"version", "-json", "-x"}, "flag provided but not defined: -x"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res := run(t, quiet, "", tc.args...)
			if res.code != 1 || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("want exit 1 and %q on stderr, got %s", tc.want, res)
			}
			checkJSONErrorLines(t, res.stdout, tc.want)
		})
	}

	// A diagnostic with a place in the configuration keeps it.
	res := run(t, quiet, "", "history", "-json", syntax)
	var d jsonDiagnosticLine
	if err := json.Unmarshal([]byte(strings.SplitN(res.stdout, "\n", 2)[0]), &d); err != nil || d.Diagnostic.Range == nil ||
		!strings.HasSuffix(d.Diagnostic.Range.Filename, ".ns.hcl") || d.Diagnostic.Range.Start.Line == 0 {
		t.Errorf("history -json of a configuration with a syntax error: %v, %+v\n%s", err, d, res)
	}

	// Failures the command writes as JSON itself are not written twice: plan's
	// document with its diagnostics, validate's report.
	for _, args := range [][]string{{"plan", "-json", "-refresh=false", dir}, {"validate", "-json", syntax}} {
		res := run(t, quiet, "", args...)
		var doc map[string]any
		if err := json.Unmarshal([]byte(res.stdout), &doc); res.code != 1 || err != nil || doc["format_version"] != "1.0" {
			t.Errorf("%v: want exit 1 and one JSON document with format_version, got %v\n%s", args, err, res)
		}
	}
	// Success: the document alone.
	res = run(t, quiet, "", "history", "-json", dir)
	var doc map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &doc); res.code != 0 || err != nil {
		t.Errorf("history -json: %v\n%s", err, res)
	}
}

// TestParseErrorText reads the errors people see back into diagnostics.
func TestParseErrorText(t *testing.T) {
	lock := (&state.LockError{Info: &state.LockInfo{ID: "L1", Who: "bob@ci", Operation: "apply"}, Err: errors.New("the state is locked by another process")}).Error()
	got := parseErrorText("2025-03-01T10:00:00.000Z [WARN]  nonstop: something\n" +
		"\x1b[1m\x1b[31mError: Unsupported argument\x1b[0m\n\n  on main.ns.hcl line 3:\n   3:   colour = \"red\"\n\nAn argument named \"colour\" is not\nexpected here.\n\n" +
		"Warning: Deprecated\n\nUse x.\n" + lock + "\n")
	want := []jsonDiagnostic{
		{Severity: "error", Summary: "Unsupported argument", Detail: "An argument named \"colour\" is not expected here.",
			Range: &jsonRange{Filename: "main.ns.hcl", Start: jsonLine{Line: 3}}},
		{Severity: "warning", Summary: "Deprecated", Detail: "Use x."},
		{Severity: "error", Summary: "Error acquiring the state lock"},
	}
	if len(got) != 3 {
		t.Fatalf("got %d diagnostics: %+v", len(got), got)
	}
	lockDetail := got[2].Detail
	got[2].Detail = ""
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	for _, s := range []string{"Error message: the state is locked by another process", "  ID:        L1", "force-unlock"} {
		if !strings.Contains(lockDetail, s) {
			t.Errorf("the lock error's detail lacks %q:\n%s", s, lockDetail)
		}
	}
	if got := parseErrorText("flag provided but not defined: -x\nUsage: nonstop x\n"); len(got) != 1 || got[0].Summary != "flag provided but not defined: -x" {
		t.Errorf("a flag error: %+v", got)
	}
}
