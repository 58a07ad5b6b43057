package command

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/lang/diags"
	"github.com/nonstop-release/nonstop/planner"
)

// loadSealedConfig loads the configuration for "apply FILE": the variables the
// plan recorded are the base values (so no -var-file is needed), under what
// NONSTOP_VAR_, -var-file and -var set. It then checks every input against the
// plan: a variable given on the command line or in the environment that
// disagrees, a sensitive variable whose hash differs, other endpoints, another
// configuration or a commit where the directory differs. Mismatches are errors
// naming where each value came from; nothing has been changed when they are
// returned.
func (m *Meta) loadSealedConfig(dir string, vars VarFlags, pf *planner.PlanFile) (*lang.Config, diags.Diagnostics, error) {
	sealed, err := pf.Plan.Prior.SealedValues()
	if err != nil {
		return nil, nil, fmt.Errorf("the plan file's recorded variables cannot be read: %w", err)
	}
	// Only variables the configuration still declares are given: one it dropped
	// would be an error of the temporary file, not the mismatch it is.
	if declared, _ := m.LoadConfig(dir, VarFlags{Ref: vars.Ref, UnsetUnknown: true}); declared != nil {
		for name := range sealed {
			if _, ok := declared.Variables[name]; !ok {
				delete(sealed, name)
			}
		}
	}
	base, err := writeSealedVarFile(sealed)
	if err != nil {
		return nil, nil, err
	}
	user := vars
	if base != "" {
		defer os.Remove(base)
		vars.VarFiles = append([]string{base}, vars.VarFiles...)
	}
	cfg, ds := m.LoadConfig(dir, vars)
	if cfg != nil && base != "" {
		delete(cfg.Sources, base)
	}
	if ds.HasErrors() {
		return cfg, ds.Append(secretsHint(pf.Plan.Prior, user, m.Getenv)), nil
	}
	names := slices.Sorted(maps.Keys(cfg.Variables))
	src := variableSources(names, user, m.Getenv)
	ms := envMismatches(cfg, pf.Plan.Prior, sealed, src)
	if err := pf.CheckConfig(cfg); err != nil {
		var me *planner.MismatchError
		if !errors.As(err, &me) {
			return cfg, ds, err
		}
		for _, mm := range me.Mismatches {
			switch {
			case mm.Kind != "variable" || src[mm.Name] == "":
			case mm.Plan != "" && mm.Now != "":
				mm.Detail = fmt.Sprintf("the plan was made with %s, %s sets %s", mm.Plan, sourceText(src[mm.Name], mm.Name), mm.Now)
			case mm.Sensitive:
				mm.Detail = "sensitive: " + sourceText(src[mm.Name], mm.Name) + " sets a value other than the one the plan was made with (neither is shown)"
			}
			ms = append(ms, mm)
		}
	}
	if len(ms) > 0 {
		return cfg, ds, &planner.MismatchError{Mismatches: ms}
	}
	return cfg, ds, nil
}

// writeSealedVarFile writes the recorded values as a variable file of HCL
// constants in a private temporary file and returns its path ("" when there are
// none). A variable file keeps each value's type exactly, which a raw -var string
// would not for a variable of type any.
func writeSealedVarFile(values map[string]cty.Value) (string, error) {
	if len(values) == 0 {
		return "", nil
	}
	f := hclwrite.NewEmptyFile()
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !hclsyntax.ValidIdentifier(name) {
			return "", fmt.Errorf("the plan file records a variable with an invalid name %q", name)
		}
		f.Body().SetAttributeValue(name, values[name])
	}
	tmp, err := os.CreateTemp("", "nonstop-plan-vars-*.hcl")
	if err != nil {
		return "", fmt.Errorf("cannot write the plan's variables for loading: %w", err)
	}
	_, werr := tmp.Write(f.Bytes())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("cannot write the plan's variables for loading: %w", err)
	}
	return tmp.Name(), nil
}

// envMismatches returns a mismatch for each NONSTOP_VAR_ variable in the
// environment that disagrees with the value the plan recorded: the recorded
// values rank above the environment when loading, so such a value would
// otherwise be ignored without a word. A -var or -var-file that sets the same
// variable wins over the environment and is checked as the loaded value.
func envMismatches(cfg *lang.Config, prior planner.Prior, sealed map[string]cty.Value, src map[string]string) []planner.Mismatch {
	var out []planner.Mismatch
	for _, name := range slices.Sorted(maps.Keys(sealed)) {
		v := cfg.Variables[name]
		env := src[name]
		if v == nil || !strings.HasPrefix(env, envSource) {
			continue
		}
		raw := strings.TrimPrefix(env, envSource)
		now, err := lang.ParseVariableValue(v.Type, raw)
		if err == nil && now.Type().Equals(sealed[name].Type()) && now.RawEquals(sealed[name]) {
			continue
		}
		shown := quoteRaw(raw)
		if err == nil {
			if b, jerr := ctyjson.Marshal(now, now.Type()); jerr == nil {
				shown = string(b)
			}
		}
		out = append(out, planner.Mismatch{Kind: "variable", Name: name,
			Detail: fmt.Sprintf("the plan was made with %s, the environment variable %s%s sets %s", prior.Variables[name].Value, lang.EnvVarPrefix, name, shown)})
	}
	return out
}

// envSource marks a variable set by the environment in variableSources' answer;
// the raw value follows it.
const envSource = "\x00env:"

// variableSources returns, for each of names that -var, -var-file or NONSTOP_VAR_
// sets, what sets it (the highest of these): "-var NAME", "-var-file PATH", or
// envSource followed by the raw value of the environment variable. Only the
// attribute names of the variable files are read.
func variableSources(names []string, vars VarFlags, getenv func(string) (string, bool)) map[string]string {
	out := map[string]string{}
	for _, name := range names {
		if raw, ok := getenv(lang.EnvVarPrefix + name); ok {
			out[name] = envSource + raw
		}
	}
	for _, path := range vars.VarFiles {
		src, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		if d.HasErrors() {
			continue
		}
		attrs, _ := f.Body.JustAttributes()
		for name := range attrs {
			out[name] = "-var-file " + path
		}
	}
	for _, opt := range vars.Vars {
		name, _, _ := strings.Cut(opt, "=")
		name = strings.TrimSpace(name)
		out[name] = "-var " + name
	}
	return out
}

// sourceText names a source of variableSources for people.
func sourceText(src, name string) string {
	if strings.HasPrefix(src, envSource) {
		return "the environment variable " + lang.EnvVarPrefix + name
	}
	return src
}

// quoteRaw quotes a raw value for a message.
func quoteRaw(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// showPlanFileRefusal prints why a plan file is not applied, and what to do; with
// -json also as a JSON log line on stdout.
func (m *Meta) showPlanFileRefusal(planFile string, err error, jsonOut bool) {
	var me *planner.MismatchError
	var b strings.Builder
	if errors.As(err, &me) {
		fmt.Fprintf(&b, "Error: the plan file %s does not match this apply; nothing was changed.\n\n", planFile)
		for _, mm := range me.Mismatches {
			fmt.Fprintf(&b, "  - %s\n", mm)
		}
		b.WriteString("\nA plan file applies exactly the configuration and inputs it was made with,\n" +
			"recorded in it (sensitive values as a hash). \"nonstop apply FILE\" needs no\n" +
			"-var or -var-file, only the sensitive ones in the environment (NONSTOP_VAR_name)\n" +
			"and provider credentials. Drop what disagrees, or run \"nonstop plan -out FILE\"\n" +
			"again with the new values and review that plan.\n")
	} else {
		fmt.Fprintf(&b, "Error: cannot apply the plan file: %v.\n\nNothing was changed. Run \"nonstop plan -out FILE\" again.\n", strings.TrimSuffix(err.Error(), "."))
	}
	fmt.Fprint(m.Stderr, b.String())
	if jsonOut {
		line := map[string]any{
			"@level": "error", "@message": strings.TrimSpace(strings.SplitN(b.String(), "\n", 2)[0]),
			"@module": "nonstop.apply", "@timestamp": time.Now().Format(time.RFC3339Nano), "type": "plan_file_refused",
			"format_version": "1.0", "plan_file": planFile, "error": err.Error(),
		}
		if me != nil {
			line["mismatches"] = me.Mismatches
		}
		out, _ := json.Marshal(line)
		fmt.Fprintln(m.Stdout, string(out))
	}
}

// secretsHint explains, when a load for apply FILE failed, which sensitive
// variables the plan was made with and this apply does not set: a plan file
// holds no secret, so they come from the environment.
func secretsHint(prior planner.Prior, vars VarFlags, getenv func(string) (string, bool)) diags.Diagnostics {
	var names []string
	for _, name := range slices.Sorted(maps.Keys(prior.Variables)) {
		if prior.Variables[name].Sensitive {
			names = append(names, name)
		}
	}
	src := variableSources(names, vars, getenv)
	var missing []string
	for _, name := range names {
		if src[name] == "" {
			missing = append(missing, lang.EnvVarPrefix+name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return diags.Diagnostics{diags.Sourceless(diags.Error, "Sensitive variables are not in the plan file",
		fmt.Sprintf("The plan was made with sensitive variables, which a plan file records only as a hash: set %s in the environment (a CI secret) to apply it.", strings.Join(missing, ", ")))}
}
