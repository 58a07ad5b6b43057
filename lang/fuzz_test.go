package lang

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that no input makes the loader panic, and that a load either
// returns a config or reports an error, never neither.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.ns.hcl", "testdata/invalid/*.ns.hcl", "testdata/multi/*.ns.hcl"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	// file() is confined to an empty directory so fuzzing reads nothing real.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, d := LoadFiles(dir, map[string][]byte{"fuzz.ns.hcl": src}, LoadOptions{
			Getenv:   func(string) (string, bool) { return "", false },
			ReadFile: func(string) ([]byte, error) { return nil, os.ErrNotExist },
		})
		if cfg == nil {
			t.Fatal("no config, not even a partial one")
		}
		// A partial config (errors) must still answer SensitiveValues for redaction.
		cfg.SensitiveValues()
		if !d.HasErrors() {
			for _, s := range cfg.Services {
				iv := InstanceVars{Address: Address{Host: "127.0.0.1", Port: 1}, Group: "g", Version: "v", Service: s.Name}
				s.EvalDeploy(iv)
				s.EvalHealthURL(iv)
				s.EvalVerify(iv)
				cfg.Propagation(s)
			}
		}
	})
}
