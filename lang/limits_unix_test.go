//go:build unix

package lang

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nonstop-release/nonstop/lang/diags"
)

// TestDevicesAndFIFOs checks that /dev/urandom and FIFOs, as a -var-file, a
// configuration file or the argument of file(), are refused at once: the tester's
// -var-file /dev/urandom grew to 24 GB, and a FIFO without a writer blocks a read.
func TestDevicesAndFIFOs(t *testing.T) {
	if _, err := os.Stat("/dev/urandom"); err != nil {
		t.Skip("no /dev/urandom")
	}
	fifo := filepath.Join(t.TempDir(), "vars.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a FIFO: %v", err)
	}
	tests := map[string]struct {
		setup   func(dir string) LoadOptions
		summary string
		detail  string
	}{
		"-var-file /dev/urandom": {
			setup:   func(string) LoadOptions { return LoadOptions{VarFiles: []string{"/dev/urandom"}} },
			summary: "Cannot read variables file",
			detail:  "/dev/urandom: not a regular file (a character device)",
		},
		"-var-file FIFO": {
			setup:   func(string) LoadOptions { return LoadOptions{VarFiles: []string{fifo}} },
			summary: "Cannot read variables file",
			detail:  "not a regular file (a FIFO)",
		},
		"configuration file linked to /dev/urandom": {
			setup: func(dir string) LoadOptions {
				if err := os.Symlink("/dev/urandom", filepath.Join(dir, "random.ns.hcl")); err != nil {
					t.Fatal(err)
				}
				return LoadOptions{}
			},
			summary: "Cannot read configuration file",
			detail:  "random.ns.hcl: not a regular file (a character device)",
		},
		"configuration file that is a FIFO": {
			setup: func(dir string) LoadOptions {
				if err := syscall.Mkfifo(filepath.Join(dir, "pipe.ns.hcl"), 0o600); err != nil {
					t.Fatal(err)
				}
				return LoadOptions{}
			},
			summary: "Cannot read configuration file",
			detail:  "pipe.ns.hcl: not a regular file (a FIFO)",
		},
		"file() of /dev/urandom and of a FIFO": {
			setup: func(dir string) LoadOptions {
				src := minimalService + `locals {
  a = file("/dev/urandom")
  b = file("` + fifo + `")
}`
				if err := os.WriteFile(filepath.Join(dir, "main.ns.hcl"), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				return LoadOptions{}
			},
			summary: "Invalid function argument",
			detail:  "/dev/urandom is not a regular file",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"svc.ns.hcl": minimalService})
			if strings.HasPrefix(name, "file()") {
				os.Remove(filepath.Join(dir, "svc.ns.hcl"))
			}
			opts := tc.setup(dir)
			opts.Getenv = testEnv
			done := make(chan diags.Diagnostics, 1)
			go func() {
				_, ds := LoadDir(dir, opts)
				done <- ds
			}()
			var ds diags.Diagnostics
			select {
			case ds = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the load did not return within 10s")
			}
			errs := ds.Errs()
			if len(errs) == 0 || errs[0].Summary != tc.summary || !strings.Contains(errs[0].Detail, tc.detail) {
				t.Errorf("got %v, want %s: ...%s...", ds.Error(), tc.summary, tc.detail)
			}
		})
	}
}
