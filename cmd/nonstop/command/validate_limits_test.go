package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestValidateHostileInput runs validate on the inputs a tester used to crash
// nonstop (a Go stack overflow in the HCL parser), exhaust its memory (24 GB from
// -var-file /dev/urandom) or flood the terminal (1.6 GB of diagnostics from 40 KB
// of nested "${"): each must fail at once with a short, clear error.
func TestValidateHostileInput(t *testing.T) {
	var manyErrors strings.Builder
	manyErrors.WriteString("locals {\n")
	for range 3000 {
		manyErrors.WriteString("  x = 1\n") // each one after the first is "Attribute redefined"
	}
	manyErrors.WriteString("}\n")
	tests := map[string]struct {
		src  string
		args []string
		want string
	}{
		"100,000 [":          {src: "x = " + strings.Repeat("[", 100000), want: "Error: Configuration nested too deeply"},
		"40 KB of nested ${": {src: "x = " + strings.Repeat(`"${`, 40<<10/3), want: "Error: Configuration nested too deeply"},
		"-var-file /dev/urandom": {src: "", args: []string{"-var-file", "/dev/urandom"},
			want: "/dev/urandom: not a regular file (a character device)"},
		"thousands of errors": {src: manyErrors.String(), want: "not shown: fix the ones above first"},
		"a file over 1 MiB":   {src: strings.Repeat("# padding\n", 110000), want: "Error: Configuration file too large"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if strings.HasPrefix(tc.want, "/dev/") {
				if _, err := os.Stat("/dev/urandom"); err != nil {
					t.Skip("no /dev/urandom")
				}
			}
			dir := t.TempDir()
			src := validService + tc.src
			if err := os.WriteFile(filepath.Join(dir, "main.ns.hcl"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := run(t, nil, "", append(append([]string{"validate"}, tc.args...), dir)...)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("validate took %v", took)
			}
			out := res.stdout + res.stderr
			if res.code != 1 || !strings.Contains(out, tc.want) {
				t.Errorf("exit code %d, want 1 and %q in:\n%.3000s", res.code, tc.want, out)
			}
			if len(out) > 64<<10 {
				t.Errorf("%d bytes printed", len(out))
			}
			js := run(t, nil, "", append(append([]string{"validate", "-json"}, tc.args...), dir)...)
			if js.code != 1 || len(js.stdout) > 64<<10 {
				t.Errorf("-json: exit code %d, %d bytes", js.code, len(js.stdout))
			}
		})
	}
}

// validService is a valid service to which the hostile inputs are added.
const validService = `
service "web" {
  version = "1"
  group "a" { instances = ["127.0.0.1:18081"] }
  strategy "rolling" {}
  deploy { command = ["true"] }
}
`

// noSecretsConfig keeps its state in PostgreSQL and takes every secret from a
// variable without a default, as a CI job that validates pull requests sees it.
const noSecretsConfig = `
nonstop {
  state "postgres" { dsn = var.state_dsn }
}
variable "state_dsn" {
  type      = string
  sensitive = true
}
variable "nacos_password" {
  type      = string
  sensitive = true
}
variable "f5_password" { type = string }
variable "instances" { type = list(string) }
provider "nacos" "prod" {
  addresses = ["127.0.0.1:8848"]
  username  = "nacos"
  password  = var.nacos_password
}
provider "f5" "dc1" {
  url      = "https://bigip.example.internal"
  username = "admin"
  password = var.f5_password
}
service "web" {
  version = "1.0.0"
  registry { provider = nacos.prod }
  group "a" { instances = var.instances }
  group "b" { instances = ["127.0.0.1:18082"] }
  balancer "f5" {
    provider = f5.dc1
    pool     = "web"
  }
  strategy "rolling" { batch = "group" }
  deploy { command = ["true"] }
}
`

// TestValidateNeedsNoSecrets checks that validate accepts a configuration whose
// state DSN and passwords are unset variables and never opens the state backend,
// while plan still requires them.
func TestValidateNeedsNoSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.ns.hcl"), []byte(noSecretsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	res := run(t, nil, "", "validate", "-summary", dir)
	if res.code != 0 || !strings.Contains(res.stdout, "Success! The configuration is valid.") {
		t.Errorf("validate without the variables:\n%s", res)
	}
	// A set value is still checked.
	if bad := run(t, nil, "", "validate", "-var", "instances=[\"nohost\"]", dir); bad.code != 1 || !strings.Contains(bad.stderr, "nohost") {
		t.Errorf("validate with a bad -var:\n%s", bad)
	}
	// A DSN that points nowhere is never dialled: validate does not open the backend.
	env := map[string]string{"NONSTOP_VAR_state_dsn": "postgres://nonstop@192.0.2.1:5432/nonstop?connect_timeout=30"}
	start := time.Now()
	if res := run(t, env, "", "validate", dir); res.code != 0 || time.Since(start) > 5*time.Second {
		t.Errorf("validate with an unreachable DSN took %v:\n%s", time.Since(start), res)
	}
	if _, err := os.Stat(filepath.Join(dir, ".nonstop")); !os.IsNotExist(err) {
		t.Errorf("validate created state: %v", err)
	}

	plan := run(t, nil, "", "plan", dir)
	if plan.code == 0 || !strings.Contains(plan.stderr, "Required variable not set") {
		t.Errorf("plan without the variables:\n%s", plan)
	}
}
