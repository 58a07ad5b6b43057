package command

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/executor/operation"
	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// liveFlags are the flags of every command that reads live state: how many list
// calls a refresh runs at once and which services it reads.
type liveFlags struct {
	// Parallelism bounds the list calls in flight (-parallelism, default 10).
	Parallelism int
	// Targets are the service names of -target service.NAME, without the
	// "service." prefix, in the order given; empty means every service.
	Targets []string
}

// Register adds -parallelism and the repeatable -target to fs. A target that is not
// of the form service.NAME is a flag error; a NAME the configuration does not
// declare is reported by Check once the configuration is loaded.
func (f *liveFlags) Register(fs *flag.FlagSet) {
	f.Parallelism = planner.DefaultParallelism
	fs.Func("parallelism", "read at most `N` pools and services at once; apply also writes to each provider and runs deploys at most N at once, steps that only wait are not bounded (default 10)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return fmt.Errorf("must be a whole number of at least 1, not %q", s)
		}
		f.Parallelism = n
		return nil
	})
	fs.Func("target", "limit the command to `service.NAME` (repeatable)", func(s string) error {
		name, ok := strings.CutPrefix(s, "service.")
		if !ok && !strings.Contains(s, ".") {
			name, ok = s, true
		}
		if !ok || name == "" {
			return fmt.Errorf("%q is not a service address: write service.NAME", s)
		}
		f.Targets = append(f.Targets, name)
		return nil
	})
}

// Check reports every target that names no service of cfg.
func (f *liveFlags) Check(cfg *lang.Config) diags.Diagnostics {
	return operation.CheckTargets(cfg, f.Targets)
}

// RefreshOptions returns the refresh options these flags select.
func (f *liveFlags) RefreshOptions() planner.RefreshOptions {
	return planner.RefreshOptions{Parallelism: f.Parallelism, Targets: f.Targets}
}

// services returns the names of the services a command works on: the targets, or
// every declared service, in declaration order.
func (f *liveFlags) services(cfg *lang.Config) []string {
	if len(f.Targets) == 0 {
		return cfg.ServiceNames
	}
	want := map[string]bool{}
	for _, t := range f.Targets {
		want[t] = true
	}
	var out []string
	for _, n := range cfg.ServiceNames {
		if want[n] {
			out = append(out, n)
		}
	}
	return out
}

// openAndRefresh opens the providers of cfg and reads the live state of its
// services (or of opts.Targets). Targets are checked before any provider is opened.
// The caller closes the providers, which are returned even when some failed to
// open; the Live is nil when nothing could be read.
func (m *Meta) openAndRefresh(ctx context.Context, cfg *lang.Config, opts planner.RefreshOptions) (planner.Providers, *planner.Live, diags.Diagnostics) {
	lf := liveFlags{Targets: opts.Targets}
	if ds := lf.Check(cfg); ds.HasErrors() {
		return planner.Providers{}, nil, ds
	}
	log := m.Logger("refresh")
	provs, ds := planner.OpenProviders(cfg, m.Logger("provider"))
	if ds.HasErrors() {
		return provs, nil, ds
	}
	log.Debug("refreshing", "services", len(lf.services(cfg)), "providers", len(provs), "parallelism", opts.Parallelism)
	live, rds := planner.Refresh(ctx, cfg, provs, opts)
	ds = ds.Append(rds)
	if live != nil {
		for name, ls := range live.Services {
			log.Trace("refreshed service", "service", name, "instances", len(ls.Instances),
				"balancers", len(ls.Balancers), "routes", len(ls.Routes))
		}
	}
	return provs, live, ds
}

// loadLiveConfig loads the configuration of a command that reads live state, from
// the directory argument of fs, and checks its -target flags. It shows the
// diagnostics and returns ok false when there are errors; warnings are returned for
// the caller to show with its own.
func (m *Meta) loadLiveConfig(fs *flag.FlagSet, vars VarFlags, lf *liveFlags) (cfg *lang.Config, dir string, ds diags.Diagnostics, ok bool) {
	dir, ok = m.configDir(fs)
	if !ok {
		return nil, "", nil, false
	}
	cfg, ds = m.LoadConfig(dir, vars)
	if !ds.HasErrors() {
		ds = ds.Append(lf.Check(cfg))
	}
	if ds.HasErrors() {
		m.ShowDiagnostics(ds, Sources(cfg, dir))
		return nil, dir, ds, false
	}
	return cfg, dir, ds, true
}

// closeProviders closes provs, logging what fails to close: the command's result
// does not depend on it.
func (m *Meta) closeProviders(provs planner.Providers) {
	if err := provs.Close(); err != nil {
		m.Logger("provider").Warn("closing providers", "error", err)
	}
}

// configDir returns the directory argument of a command that takes at most one, or
// "." when there is none. ok is false (and the usage printed) for more than one.
func (m *Meta) configDir(fs *flag.FlagSet) (dir string, ok bool) {
	switch fs.NArg() {
	case 0:
		return ".", true
	case 1:
		return fs.Arg(0), true
	}
	fmt.Fprintf(m.Stderr, "Error: %s takes at most one directory, got %d arguments.\n\n", fs.Name(), fs.NArg())
	fs.Usage()
	return "", false
}

// outputFormat checks a -format value against the formats a command offers.
func (m *Meta) outputFormat(format string, jsonFlag bool, allowed ...string) (string, bool) {
	if jsonFlag {
		if format != "" && format != "json" && format != allowed[0] {
			fmt.Fprintf(m.Stderr, "Error: -json and -format %s contradict each other.\n", format)
			return "", false
		}
		return "json", true
	}
	if format == "" {
		return allowed[0], true
	}
	for _, a := range allowed {
		if format == a {
			return format, true
		}
	}
	fmt.Fprintf(m.Stderr, "Error: -format %q is not one of %s.\n", format, strings.Join(allowed, ", "))
	return "", false
}
