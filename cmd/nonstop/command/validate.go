package command

import (
	"fmt"
	"maps"
	"slices"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
)

const validateHelp = `
Usage: nonstop validate [options] [DIR]

  Checks the configuration in DIR (default: the current directory): syntax,
  types, references between blocks and the rules of each strategy. It reports
  every error at once and touches no live system: providers are not contacted
  and the state backend is not opened.

  It needs no secrets either: a variable that has no default and is not set
  (-var, -var-file, NONSTOP_VAR_<name>) is unknown, and what depends on it is
  not checked further; plan and apply require every variable. Values that are
  set are checked.

  Sensitive values (passwords, keys) never appear in the output, -json included.

Exit codes:
  0  the configuration is valid (warnings may have been printed)
  1  the configuration has errors, or the command was used wrongly
`

var validateCommand = &Command{
	Name:     "validate",
	Synopsis: "Check that the configuration is valid",
	Help:     validateHelp,
	Run:      runValidate,
}

func runValidate(m *Meta, args []string) int {
	fs := m.FlagSet("validate", validateHelp)
	jsonOut := fs.Bool("json", false, "print the result as JSON on stdout: {format_version, valid, error_count, warning_count, diagnostics}")
	summary := fs.Bool("summary", false, "after a successful validation, print each service's version, strategy, groups and balancers")
	vars := VarFlags{UnsetUnknown: true}
	vars.Register(fs)
	if code, done := m.Parse(fs, args); done {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintf(m.Stderr, "Error: validate takes at most one directory, got %d arguments.\n\n", fs.NArg())
		fs.Usage()
		return 1
	}
	dir := "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}

	cfg, ds := m.LoadConfig(dir, vars)
	log := m.Logger("validate")
	if cfg != nil {
		logConfig(log.Trace, cfg)
	}

	if *jsonOut {
		if err := m.PrintJSON(validateJSON{FormatVersion: jsonFormatVersion, JSONReport: diags.JSON(ds)}); err != nil {
			fmt.Fprintf(m.Stderr, "Error: cannot write the result: %v\n", err)
			return 1
		}
	} else {
		m.ShowDiagnostics(ds, Sources(cfg, dir))
		switch {
		case ds.HasErrors():
		case len(ds) > 0:
			fmt.Fprintln(m.Stdout, m.colorize("\x1b[1;32m", "Success!")+" The configuration is valid, but there were some validation warnings as shown above.")
		default:
			fmt.Fprintln(m.Stdout, m.colorize("\x1b[1;32m", "Success!")+" The configuration is valid.")
		}
		if *summary && cfg != nil && !ds.HasErrors() {
			fmt.Fprintln(m.Stdout)
			writeSummary(m.Stdout, cfg)
		}
	}
	if ds.HasErrors() {
		return 1
	}
	return 0
}

// validateJSON is the document validate -json prints.
type validateJSON struct {
	FormatVersion string `json:"format_version"`
	diags.JSONReport
}

// logConfig traces what was loaded: providers with their attributes and services
// with their groups and strategy. Sensitive attributes are logged too: the
// logger's output goes through the redactor, which removes them.
func logConfig(trace func(string, ...any), cfg *lang.Config) {
	for _, ref := range sortedProviderRefs(cfg) {
		p := cfg.Providers[ref]
		args := []any{"provider", ref.String(), "class", string(p.Class)}
		for _, name := range slices.Sorted(maps.Keys(p.Attrs)) {
			args = append(args, name, ctyString(p.Attrs[name]))
		}
		trace("provider configured", args...)
	}
	for _, name := range cfg.ServiceNames {
		s := cfg.Services[name]
		if s == nil {
			continue
		}
		strategy := ""
		if s.Strategy != nil {
			strategy = string(s.Strategy.Kind)
		}
		trace("service configured", "service", name, "version", s.Version, "groups", len(s.Groups),
			"balancers", len(s.Balancers), "strategy", strategy)
	}
}

// ctyString renders a value for logs: strings as they are, other values as JSON-ish text.
func ctyString(v cty.Value) string {
	switch {
	case v == cty.NilVal || v.IsNull():
		return "null"
	case !v.IsKnown():
		return "(unknown)"
	case v.Type() == cty.String:
		return v.AsString()
	default:
		b, err := ctyjson.Marshal(v, v.Type())
		if err != nil {
			return v.GoString()
		}
		return string(b)
	}
}
