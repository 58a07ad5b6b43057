package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinaryExitCodes runs the built binary and checks its exit codes.
func TestBinaryExitCodes(t *testing.T) {
	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	unformattedDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(unformattedDir, "a.ns.hcl"), []byte(unformatted), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		dir  string
		args []string
		want int
		log  string // NONSTOP_LOG, default "warn"
	}{
		"validate valid":            {".", []string{"validate", abs("testdata/validate/valid")}, 0, ""},
		"validate invalid":          {".", []string{"validate", abs("testdata/validate/invalid-references")}, 1, ""},
		"validate syntax error":     {".", []string{"validate", "-json", abs("testdata/validate/syntax-error")}, 1, ""},
		"validate current dir":      {abs("testdata/validate/valid"), []string{"validate"}, 0, ""},
		"fmt check unformatted":     {".", []string{"fmt", "-check", unformattedDir}, 3, ""},
		"fmt check formatted":       {abs("testdata/validate/valid"), []string{"fmt", "-check"}, 0, ""},
		"unknown command":           {".", []string{"frobnicate"}, 1, ""},
		"no command":                {".", nil, 1, ""},
		"help":                      {".", []string{"-help"}, 0, ""},
		"command help":              {".", []string{"validate", "-help"}, 0, ""},
		"version":                   {".", []string{"version"}, 0, ""},
		"bad flag":                  {".", []string{"fmt", "-frobnicate"}, 1, ""},
		"unknown log level is warn": {".", []string{"version"}, 0, "loud"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			log := tc.log
			if log == "" {
				log = "warn"
			}
			res := runBinary(t, tc.dir, map[string]string{"NONSTOP_LOG": log}, tc.args...)
			if res.code != tc.want {
				t.Errorf("exit code %d, want %d\n%s", res.code, tc.want, res)
			}
			if warned := strings.Contains(res.stderr, "is not a log level"); warned != (log != "warn") {
				t.Errorf("invalid log level warning = %t for NONSTOP_LOG=%s:\n%s", warned, log, res.stderr)
			}
		})
	}
}

// TestBinarySecretNeverPrinted sets a password through the environment and checks
// that it appears nowhere in validate's output, -json or human, with every log
// line enabled, while the logs do show that the password was there to redact.
func TestBinarySecretNeverPrinted(t *testing.T) {
	const secret = "Tr0ub4dor&3-sec"
	dir, err := filepath.Abs("testdata/validate/secret")
	if err != nil {
		t.Fatal(err)
	}
	// In secret-echo the password also lands in an attribute whose error message
	// quotes the bad value.
	echo, err := filepath.Abs("testdata/validate/secret-echo")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NACOS_PASSWORD": secret, "NONSTOP_LOG": "trace"}
	for _, args := range [][]string{
		{"validate", "-json", dir},
		{"validate", dir},
		{"validate", "-summary", dir},
		{"validate", "-json", echo},
		{"validate", echo},
	} {
		res := runBinary(t, ".", env, args...)
		all := res.stdout + res.stderr
		if strings.Contains(all, secret) || strings.Contains(all, "Tr0ub4dor") {
			t.Errorf("%v leaks the secret:\n%s", args, res)
		}
		if !strings.Contains(res.stderr, "[TRACE]") {
			t.Errorf("%v: no trace logs on stderr:\n%s", args, res.stderr)
		}
		if args[len(args)-1] == dir && !strings.Contains(res.stderr, "password=\"(sensitive value)\"") && !strings.Contains(res.stderr, "password=(sensitive value)") {
			t.Errorf("%v: the provider's password was not logged redacted:\n%s", args, res.stderr)
		}
	}
}
