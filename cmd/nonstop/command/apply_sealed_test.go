package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sealedConfig is fakeConfig with the balancer weight from a variable and a
// sensitive variable without default, both set by a variable file at plan time.
var sealedConfig = strings.NewReplacer(
	`variable "delay" {`, `variable "weight" {
  type = number
}

variable "token" {
  type      = string
  sensitive = true
}

variable "delay" {`,
	"    weight   = 1\n", "    weight   = var.weight\n",
).Replace(fakeConfig)

// TestApplySealedPlanFile: a plan made with a variable file (weight = 1 and a
// secret) is applied without it; a -var, -var-file or NONSTOP_VAR_ that disagrees
// is refused naming the variable and where it came from, a wrong secret without
// showing it, a truncated file as truncated; none of them changes anything. The
// file holds neither the secret nor the variable file.
func TestApplySealedPlanFile(t *testing.T) {
	dir := fakeFleet(t)
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(sealedConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(t.TempDir(), "prod.hcl")
	if err := os.WriteFile(varFile, []byte("weight = 1\ntoken = \"s3cret-token-value\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	if r := run(t, quiet, "", "plan", "-var-file", varFile, "-out", planFile, dir); r.code != 0 {
		t.Fatalf("plan -out: %s", r)
	}
	raw, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"s3cret-token-value", "prod.hcl"} {
		if strings.Contains(string(raw), leak) {
			t.Errorf("the plan file holds %q", leak)
		}
	}
	unchanged := func(what string) {
		t.Helper()
		if d := cmp.Diff(map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 1}, memberWeights(t, dir)); d != "" {
			t.Errorf("%s changed live state (-want +got):\n%s", what, d)
		}
		if st := loadLocalState(t, dir); len(st.History) != 0 {
			t.Errorf("%s recorded history: %+v", what, st.History)
		}
	}
	secret := map[string]string{"NONSTOP_LOG": "error", "NONSTOP_VAR_token": "s3cret-token-value"}
	otherFile := filepath.Join(t.TempDir(), "other.hcl")
	if err := os.WriteFile(otherFile, []byte("weight = 4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(t.TempDir(), "cut.bin")
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	refusals := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"-var", secret, []string{"-var", "weight=2", planFile}, "variable weight: the plan was made with 1, -var weight sets 2"},
		{"-var-file", secret, []string{"-var-file", otherFile, planFile}, "variable weight: the plan was made with 1, -var-file " + otherFile + " sets 4"},
		{"environment", map[string]string{"NONSTOP_VAR_token": "s3cret-token-value", "NONSTOP_VAR_weight": "3"}, []string{planFile},
			"variable weight: the plan was made with 1, the environment variable NONSTOP_VAR_weight sets 3"},
		{"no secret", quiet, []string{planFile}, "set NONSTOP_VAR_token in the environment"},
		{"wrong secret", map[string]string{"NONSTOP_VAR_token": "guessed-wrong"}, []string{planFile},
			"variable token: sensitive: the environment variable NONSTOP_VAR_token sets a value other than the one the plan was made with (neither is shown)"},
		{"truncated", secret, []string{truncated}, "is truncated"},
	}
	for _, tc := range refusals {
		r := run(t, tc.env, "", append(append([]string{"apply"}, tc.args...), dir)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: want exit 1 and %q\n%s", tc.name, tc.want, r)
		}
		if strings.Contains(r.stdout+r.stderr, "guessed-wrong") || strings.Contains(r.stdout+r.stderr, "s3cret") {
			t.Errorf("%s: a secret is shown:\n%s", tc.name, r)
		}
		unchanged(tc.name)
	}

	r := run(t, secret, "", "apply", planFile, dir)
	if r.code != 0 || !strings.Contains(r.stdout, "Apply complete! 0 instances to upgrade, 1 weight change") {
		t.Fatalf("apply FILE with only the secret in the environment: want exit 0\n%s", r)
	}
	if d := cmp.Diff(map[string]int{"127.0.0.1:18081": 1, "127.0.0.1:18082": 1}, memberWeights(t, dir)); d != "" {
		t.Errorf("live weights after apply FILE (-want +got):\n%s", d)
	}
}

// TestApplySealedPlanFileOtherConfiguration: a plan applied to a configuration that
// dropped one of its variables is refused as made from another configuration,
// naming the variable, and changes nothing.
func TestApplySealedPlanFileOtherConfiguration(t *testing.T) {
	dir := fakeFleet(t)
	withVar := strings.Replace(fakeConfig, `variable "delay" {`, "variable \"note\" {\n  type    = string\n  default = \"x\"\n}\n\nvariable \"delay\" {", 1)
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(withVar), 0o644); err != nil {
		t.Fatal(err)
	}
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	if r := run(t, quiet, "", "plan", "-out", planFile, dir); r.code != 0 {
		t.Fatalf("plan -out: %s", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "shop.ns.hcl"), []byte(fakeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, quiet, "", "apply", planFile, dir)
	for _, want := range []string{"configuration: it changed since the plan was made", "changed files: shop.ns.hcl",
		"variable note: the plan was made with it, this configuration does not declare it"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("apply FILE after the configuration changed: want exit 1 and %q\n%s", want, r)
		}
	}
	if strings.Contains(r.stderr, "nonstop-plan-vars") {
		t.Errorf("the error names the temporary variable file:\n%s", r.stderr)
	}
	if d := cmp.Diff(map[string]int{"127.0.0.1:18081": 5, "127.0.0.1:18082": 1}, memberWeights(t, dir)); d != "" {
		t.Errorf("a refused plan changed live state (-want +got):\n%s", d)
	}
}
