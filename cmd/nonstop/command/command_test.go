package command

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

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
	if v.Version != lang.Version || !strings.HasPrefix(v.GoVersion, "go") || v.Platform == "" {
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
