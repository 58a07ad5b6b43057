package lang

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang/diags"
)

const varsConfig = `
variable "v" {
  default = "default"
}
variable "n" {
  type    = number
  default = 1
}
variable "l" {
  type    = list(string)
  default = []
}
variable "s" {
  type    = string
  default = ""
}
variable "any" {
  default = null
}
service "web" {
  version = var.v
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
  deploy { command = concat(["deploy"], var.l) }
}
`

// writeVarFile writes a -var-file and returns its path.
func writeVarFile(t *testing.T, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadVars(t *testing.T, opts LoadOptions) (*Config, diags.Diagnostics) {
	t.Helper()
	return LoadFiles("", map[string][]byte{"vars.ns.hcl": []byte(varsConfig)}, opts)
}

// TestVariablePrecedence checks default < NONSTOP_VAR_ < -var-file < -var, later
// files and options winning over earlier ones.
func TestVariablePrecedence(t *testing.T) {
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	fileA := writeVarFile(t, "a.hcl", `v = "file-a"`)
	fileB := writeVarFile(t, "b.hcl", `v = "file-b"`)
	tests := map[string]struct {
		opts LoadOptions
		want string
	}{
		"default":         {LoadOptions{Getenv: env(nil)}, "default"},
		"env":             {LoadOptions{Getenv: env(map[string]string{"NONSTOP_VAR_v": "env"})}, "env"},
		"file over env":   {LoadOptions{Getenv: env(map[string]string{"NONSTOP_VAR_v": "env"}), VarFiles: []string{fileA}}, "file-a"},
		"later file wins": {LoadOptions{Getenv: env(nil), VarFiles: []string{fileA, fileB}}, "file-b"},
		"var over file":   {LoadOptions{Getenv: env(map[string]string{"NONSTOP_VAR_v": "env"}), VarFiles: []string{fileB}, Vars: []string{"v=cli"}}, "cli"},
		"later var wins":  {LoadOptions{Getenv: env(nil), Vars: []string{"v=one", "v=two"}}, "two"},
		"value with =":    {LoadOptions{Getenv: env(nil), Vars: []string{"v=a=b"}}, "a=b"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, d := loadVars(t, tt.opts)
			if d.HasErrors() {
				t.Fatal(d.Error())
			}
			if got := cfg.Services["web"].Version; got != tt.want {
				t.Errorf("version = %q, want %q", got, tt.want)
			}
			if got := cfg.Variables["v"].Value; !got.RawEquals(cty.StringVal(tt.want)) {
				t.Errorf("var.v = %#v, want %q", got, tt.want)
			}
		})
	}
}

// TestVariableRawValues checks how -var and NONSTOP_VAR_ strings become values.
func TestVariableRawValues(t *testing.T) {
	tests := map[string]struct {
		vars []string
		env  map[string]string
		name string
		want cty.Value
	}{
		"number":            {vars: []string{"n=3"}, name: "n", want: cty.NumberIntVal(3)},
		"list":              {vars: []string{`l=["a", "b"]`}, name: "l", want: cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
		"string stays raw":  {vars: []string{"s=8080"}, name: "s", want: cty.StringVal("8080")},
		"quoted for string": {vars: []string{`s="x"`}, name: "s", want: cty.StringVal(`"x"`)},
		"untyped bool":      {vars: []string{"any=true"}, name: "any", want: cty.True},
		"untyped word":      {vars: []string{"any=hello"}, name: "any", want: cty.StringVal("hello")},
		"untyped map":       {vars: []string{`any={ a = 1 }`}, name: "any", want: cty.ObjectVal(map[string]cty.Value{"a": cty.NumberIntVal(1)})},
		"env list":          {env: map[string]string{"NONSTOP_VAR_l": `["x"]`}, name: "l", want: cty.ListVal([]cty.Value{cty.StringVal("x")})},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, d := loadVars(t, LoadOptions{Vars: tt.vars, Getenv: func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }})
			if d.HasErrors() {
				t.Fatal(d.Error())
			}
			if got := cfg.Variables[tt.name].Value; !got.RawEquals(tt.want) {
				t.Errorf("var.%s = %#v, want %#v", tt.name, got, tt.want)
			}
		})
	}
}

// TestVariableOptionErrors checks the diagnostics of bad -var, -var-file and
// NONSTOP_VAR_ values.
func TestVariableOptionErrors(t *testing.T) {
	undeclared := writeVarFile(t, "u.hcl", "v = \"ok\"\nvv = \"typo\"\n")
	tests := map[string]struct {
		opts LoadOptions
		want []string // summaries
		line int      // line of the var-file error, 0 for sourceless
	}{
		"undeclared -var":  {LoadOptions{Vars: []string{"nope=1"}}, []string{"Value for undeclared variable"}, 0},
		"no equals":        {LoadOptions{Vars: []string{"v"}}, []string{"Invalid -var option"}, 0},
		"wrong type":       {LoadOptions{Vars: []string{"n=abc"}}, []string{"Invalid value for variable"}, 0},
		"wrong type env":   {LoadOptions{Getenv: func(k string) (string, bool) { return "[1", k == "NONSTOP_VAR_l" }}, []string{"Invalid value for variable"}, 0},
		"undeclared file":  {LoadOptions{VarFiles: []string{undeclared}}, []string{"Value for undeclared variable"}, 2},
		"missing var file": {LoadOptions{VarFiles: []string{filepath.Join(t.TempDir(), "none.hcl")}}, []string{"Cannot read variables file"}, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			if tt.opts.Getenv == nil {
				tt.opts.Getenv = func(string) (string, bool) { return "", false }
			}
			cfg, d := loadVars(t, tt.opts)
			if !d.HasErrors() {
				t.Error("got no errors")
			}
			_ = cfg
			var got []string
			for _, x := range d {
				got = append(got, x.Summary)
				line := 0
				if x.Subject != nil {
					line = x.Subject.Start.Line
				}
				if line != tt.line {
					t.Errorf("%s at line %d, want %d", x.Summary, line, tt.line)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("summaries (-want +got):\n%s\n%s", diff, d.Error())
			}
		})
	}
}

// TestLocals checks locals referencing each other in any order, and the
// variables' decoded declarations.
func TestLocals(t *testing.T) {
	cfg := loadValid(t, "canary.ns.hcl")
	addrs := cty.TupleVal([]cty.Value{
		cty.StringVal("10.0.0.1:8080"), cty.StringVal("10.0.0.2:8080"), cty.StringVal("10.0.0.3:8080"), cty.StringVal("10.0.0.4:8080"),
	})
	want := map[string]cty.Value{
		"addresses": addrs,
		"first":     cty.TupleVal(addrs.AsValueSlice()[:2]),
		"rest":      cty.TupleVal(addrs.AsValueSlice()[2:]),
		"office":    cty.StringVal("10.8.3.0/24"),
		"labels":    cty.ObjectVal(map[string]cty.Value{"team": cty.StringVal("payments"), "tier": cty.StringVal("GOLD")}),
	}
	if diff := cmp.Diff(want, cfg.Locals, cmpConfig...); diff != "" {
		t.Errorf("locals (-want +got):\n%s", diff)
	}
	wantVar := &Variable{Name: "release", Type: cty.String, Default: cty.StringVal("2.3.0"),
		Description: "The release to roll out.", Value: cty.StringVal("2.3.0")}
	if diff := cmp.Diff(wantVar, cfg.Variables["release"], cmpConfig...); diff != "" {
		t.Errorf("variable (-want +got):\n%s", diff)
	}
	if !cfg.Variables["api_token"].Sensitive {
		t.Error("api_token is not sensitive")
	}
}
