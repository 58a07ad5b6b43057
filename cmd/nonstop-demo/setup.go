package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/internal/fleet"
)

// errExit1 ends the demo with exit status 1 after it printed why.
var errExit1 = errors.New("exit 1")

// prerequisites makes sure nginx, HAProxy and Polaris are there before anything
// starts. Missing nginx or HAProxy are installed with apt-get when the demo runs
// as root on Debian or Ubuntu; otherwise it prints the command to run and
// returns errExit1. A missing Polaris is built with scripts/polaris.sh (about 5
// minutes on 2 cores, once).
func prerequisites(o options) error {
	fleet.NginxBinary, fleet.HAProxyBinary = o.nginx, o.haproxy
	var missing []string
	for _, b := range []struct{ pkg, bin string }{{"nginx", o.nginx}, {"haproxy", o.haproxy}} {
		if !executable(b.bin) {
			missing = append(missing, b.pkg)
		}
	}
	if len(missing) > 0 {
		if err := install(missing); err != nil {
			return err
		}
		for _, b := range []string{o.nginx, o.haproxy} {
			if !executable(b) {
				fmt.Fprintf(os.Stderr, "demo: %s is still missing after the install; pass its path with -nginx or -haproxy\n", b)
				return errExit1
			}
		}
	}
	return polaris()
}

// install installs Debian packages as root, or says how to.
func install(pkgs []string) error {
	list := strings.Join(pkgs, " ")
	_, aptErr := exec.LookPath("apt-get")
	if os.Geteuid() != 0 || aptErr != nil {
		fmt.Fprintf(os.Stderr, "make demo needs %s, which is not installed (looked for %s and %s).\n", list, fleet.NginxBinary, fleet.HAProxyBinary)
		if aptErr == nil {
			fmt.Fprintf(os.Stderr, "Install it, then run make demo again:\n\n    sudo apt-get update && sudo apt-get install -y %s\n\n", list)
		} else {
			fmt.Fprintf(os.Stderr, "Install %s with your package manager (the binaries are expected at the paths above; -nginx and -haproxy name others), then run make demo again.\n", list)
		}
		return errExit1
	}
	step("Installing %s (apt-get, running as root)", list)
	started := time.Now()
	for _, args := range [][]string{{"update"}, append([]string{"install", "-y", "--no-install-recommends"}, pkgs...)} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdin = nil
		out, err := cmd.CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s\ndemo: apt-get %s: %v\n", out, strings.Join(args, " "), err)
			return errExit1
		}
	}
	say("installed %s in %s", list, time.Since(started).Round(time.Second))
	return nil
}

// polaris builds Polaris when its binary is missing, showing the build's
// output, and fetches its release configuration when the module cache lacks it.
func polaris() error {
	bin := filepath.Join(fleet.CacheDir(), "bin", "polaris")
	if !executable(bin) {
		step("Building Polaris %s into %s (once; about 5 minutes on 2 cores)", fleet.PolarisVersion, bin)
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		started := time.Now()
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "polaris.sh"))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), "NONSTOP_CACHE="+fleet.CacheDir())
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("scripts/polaris.sh: %v", err)
		}
		say("built in %s", time.Since(started).Round(time.Second))
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return fmt.Errorf("go env GOMODCACHE: %v", err)
	}
	conf := filepath.Join(strings.TrimSpace(string(out)), "github.com", "polarismesh", "polaris@"+fleet.PolarisVersion, "release", "conf")
	if _, err := os.Stat(conf); err != nil {
		step("Fetching Polaris' release configuration (go mod download)")
		cmd := exec.Command("go", "mod", "download", "github.com/polarismesh/polaris@"+fleet.PolarisVersion)
		cmd.Dir = os.TempDir()
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go mod download polaris: %v\n%s", err, out)
		}
	}
	return nil
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// moduleRoot finds the nonstop module the demo runs in (fleet.ModuleRoot).
func moduleRoot() (string, error) {
	root, err := fleet.ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("run the demo inside the nonstop repository: %w", err)
	}
	return root, nil
}

// defaultBinary returns /usr/sbin/NAME, else NAME found in PATH.
func defaultBinary(def string) string {
	if executable(def) {
		return def
	}
	if p, err := exec.LookPath(filepath.Base(def)); err == nil {
		return p
	}
	return def
}
