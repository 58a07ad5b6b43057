package planner

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
)

// TestPlanFileSealsInputs: a plan file records every variable (a sensitive one as a
// salted hash), the endpoints, and holds no secret: not the sensitive variable, not
// the provider password, not the variable file.
func TestPlanFileSealsInputs(t *testing.T) {
	cfg := planFileConfig()
	path := filepath.Join(t.TempDir(), "p.plan")
	if err := WritePlanFile(path, sealedPlan(t, cfg), cfg); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2-very-secret", "nacos-secret-pw", "db_password = "} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the plan file holds %q:\n%s", secret, raw)
		}
	}
	pf, err := OpenPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars := pf.Plan.Prior.Variables
	if got := string(vars["order_version"].Value); got != `"1.7.0"` {
		t.Errorf("order_version recorded as %s", got)
	}
	if sv := vars["db_password"]; !sv.Sensitive || sv.Value != nil || !strings.HasPrefix(sv.Hash, "pbkdf2-sha256$100000$") {
		t.Errorf("db_password recorded as %+v, want a pbkdf2 hash only", sv)
	}
	wantEndpoints := map[string]map[string]string{
		"nacos.prod": {"addresses": `["10.0.0.1:8848"]`},
		"state":      {"kind": `"local"`},
	}
	if d := cmp.Diff(wantEndpoints, pf.Plan.Prior.Endpoints); d != "" {
		t.Errorf("endpoints (-want +got):\n%s", d)
	}
	values, err := pf.Plan.Prior.SealedValues()
	if err != nil {
		t.Fatal(err)
	}
	if len(values) != 3 || !values["zones"].Equals(cfg.Variables["zones"].Value).True() || !values["replicas"].Equals(cty.NumberIntVal(3)).True() {
		t.Errorf("sealed values = %#v", values)
	}
	if err := pf.CheckConfig(planFileConfig()); err != nil {
		t.Errorf("the same inputs refused: %v", err)
	}
	// Two plans of the same secret hash it differently (salted).
	other := sealedPlan(t, cfg)
	if other.Prior.Variables["db_password"].Hash == vars["db_password"].Hash {
		t.Error("two plans hash the sensitive value the same way: no salt")
	}
}

// TestPlanFileRefusesOtherInputs: the tester's case (a plan made for 1.7.0 applied
// with -var order_version=1.6.0) and its kin are refused, naming the variable and
// never showing a sensitive value.
func TestPlanFileRefusesOtherInputs(t *testing.T) {
	cfg := planFileConfig()
	path := filepath.Join(t.TempDir(), "p.plan")
	if err := WritePlanFile(path, sealedPlan(t, cfg), cfg); err != nil {
		t.Fatal(err)
	}
	pf, err := OpenPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		edit func(c *lang.Config)
		want []Mismatch
	}{
		"other version": {edit: func(c *lang.Config) { c.Variables["order_version"].Value = cty.StringVal("1.6.0") },
			want: []Mismatch{{Kind: "variable", Name: "order_version", Plan: `"1.7.0"`, Now: `"1.6.0"`}}},
		"other secret": {edit: func(c *lang.Config) { c.Variables["db_password"].Value = cty.StringVal("guess") },
			want: []Mismatch{{Kind: "variable", Name: "db_password", Sensitive: true,
				Detail: "sensitive: the value differs from the one the plan was made with (neither is shown) (a plan file holds no secret: give it with NONSTOP_VAR_db_password in the environment)"}}},
		"secret not set": {edit: func(c *lang.Config) { c.Variables["db_password"].Value = cty.DynamicVal },
			want: []Mismatch{{Kind: "variable", Name: "db_password", Sensitive: true,
				Detail: "not set; the plan was made with a value (a plan file holds no secret: give it with NONSTOP_VAR_db_password in the environment)"}}},
		"other type": {edit: func(c *lang.Config) { c.Variables["replicas"].Value = cty.StringVal("3") },
			want: []Mismatch{{Kind: "variable", Name: "replicas", Plan: `3`, Now: `"3"`}}},
		"default endpoints": {edit: func(c *lang.Config) {
			c.Providers[lang.ProviderRef{Kind: "nacos", Name: "prod"}].Attrs["addresses"] = cty.TupleVal([]cty.Value{cty.StringVal("127.0.0.1:8848")})
		}, want: []Mismatch{{Kind: "endpoint", Name: "nacos.prod addresses", Plan: `["10.0.0.1:8848"]`, Now: `["127.0.0.1:8848"]`}}},
		"other workspace": {edit: func(c *lang.Config) {
			c.Nonstop = &lang.Nonstop{State: &lang.StateBackend{Kind: "postgres", Attrs: map[string]cty.Value{
				"dsn": cty.StringVal("postgres://x"), "workspace": cty.StringVal("shop")}, Sensitive: map[string]bool{"dsn": true}}}
		}, want: []Mismatch{
			{Kind: "endpoint", Name: "state kind", Plan: `"local"`, Now: `"postgres"`},
			{Kind: "endpoint", Name: "state workspace", Now: `"shop"`},
		}},
		"other password is a credential": {edit: func(c *lang.Config) {
			c.Providers[lang.ProviderRef{Kind: "nacos", Name: "prod"}].Attrs["password"] = cty.StringVal("rotated")
		}},
		"new variable": {edit: func(c *lang.Config) {
			c.Variables["extra"] = &lang.Variable{Name: "extra", Type: cty.String, Value: cty.StringVal("x")}
		}, want: []Mismatch{{Kind: "variable", Name: "extra", Detail: "this configuration declares it, the plan was made without it"}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := planFileConfig()
			tc.edit(c)
			err := pf.CheckConfig(c)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckConfig = %v, want nil", err)
				}
				return
			}
			var me *MismatchError
			if !errorAs(err, &me) {
				t.Fatalf("CheckConfig = %v, want a *MismatchError", err)
			}
			if d := cmp.Diff(tc.want, me.Mismatches); d != "" {
				t.Errorf("mismatches (-want +got):\n%s", d)
			}
			for _, secret := range []string{"hunter2-very-secret", "guess", "rotated", "postgres://x"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows a secret %q: %v", secret, err)
				}
			}
		})
	}
	me := &MismatchError{Mismatches: tests["other version"].want}
	if want := `the plan file was made from other inputs: variable order_version: the plan was made with "1.7.0", this apply has "1.6.0"`; me.Error() != want {
		t.Errorf("error text = %q\nwant %q", me.Error(), want)
	}
}

// TestWritePlanFileRefusesSecrets: a plan whose recorded values hold a sensitive value
// (a version taken from a secret, say) is not written.
func TestWritePlanFileRefusesSecrets(t *testing.T) {
	cfg := planFileConfig()
	p := sealedPlan(t, cfg)
	p.Changes = append(p.Changes, Change{Action: Update, Service: "s", Object: "instance", Address: "a/x", Field: "version", After: "hunter2-very-secret"})
	path := filepath.Join(t.TempDir(), "p.plan")
	err := WritePlanFile(path, p, cfg)
	if err == nil || !strings.Contains(err.Error(), "holds a sensitive value") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("WritePlanFile = %v, want a refusal that does not show the value", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused plan file was written (%v)", err)
	}
}

// TestPlanFileCommit: a plan file applies at its commit or at another commit where
// the configuration directory is the same (a merge), and is refused at a commit
// where any file of the directory differs, naming it.
func TestPlanFileCommit(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "deploy")
	repo, err := git.PlainInit(root, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	commit := func(files map[string]string) string {
		t.Helper()
		for name, body := range files {
			p := filepath.Join(root, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := wt.Add(name); err != nil {
				t.Fatal(err)
			}
		}
		h, err := wt.Commit("c", &git.CommitOptions{AllowEmptyCommits: true, Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	planned := commit(map[string]string{"deploy/main.ns.hcl": "x", "deploy/deploy.sh": "v1", "README": "r1"})
	c, tree, err := lang.GitDirTree(dir, "")
	if err != nil || c != planned {
		t.Fatalf("GitDirTree = %s, %s, %v", c, tree, err)
	}
	p := renderTestPlan()
	p.Prior.Commit = planned
	if err := p.SealInputs(nil, tree); err != nil {
		t.Fatal(err)
	}
	cfg := &lang.Config{Dir: dir}
	if ms := p.Prior.checkCommit(cfg); ms != nil {
		t.Errorf("at the plan's commit: %v", ms)
	}
	commit(map[string]string{"README": "r2"}) // outside the directory: same tree
	if ms := p.Prior.checkCommit(cfg); ms != nil {
		t.Errorf("at a commit with the same directory: %v", ms)
	}
	later := commit(map[string]string{"deploy/deploy.sh": "v2"})
	ms := p.Prior.checkCommit(cfg)
	want := "commit: the plan was made at commit " + planned[:12] + "; this apply is at commit " + later[:12] +
		", where the configuration directory differs (changed: deploy.sh)"
	if len(ms) != 1 || ms[0].String() != want {
		t.Errorf("at a commit where deploy.sh changed: %v\nwant %s", ms, want)
	}
	cfg.Commit = planned // -ref at the plan's commit
	if ms := p.Prior.checkCommit(cfg); ms != nil {
		t.Errorf("with -ref at the plan's commit: %v", ms)
	}
	outside := &lang.Config{Dir: t.TempDir()}
	if ms := p.Prior.checkCommit(outside); ms != nil {
		t.Errorf("an apply outside git is checked by its configuration hash only, got %v", ms)
	}
}

// TestParsePlanFileTruncated: every prefix of a plan file is refused with an error,
// and a cut inside the JSON says "truncated".
func TestParsePlanFileTruncated(t *testing.T) {
	b := validPlanFileBytes(t)
	for n := 0; n < len(b)-2; n += max(1, len(b)/97) {
		pf, err := ParsePlanFile(b[:n], "cut.plan")
		if err == nil {
			t.Fatalf("a plan file cut at %d of %d bytes was read: %+v", n, len(b), pf)
		}
		if n > 0 && !strings.Contains(err.Error(), "is truncated") {
			t.Errorf("cut at %d: %v, want it called truncated", n, err)
		}
	}
	if _, err := ParsePlanFile(b, "whole.plan"); err != nil {
		t.Fatalf("the whole file: %v", err)
	}
}

// validPlanFileBytes returns a sealed plan file's bytes.
func validPlanFileBytes(t testing.TB) []byte {
	cfg := planFileConfig()
	p := renderTestPlan()
	p.Prior.Variables = map[string]SealedVariable{"v": {Type: json.RawMessage(`"string"`), Value: json.RawMessage(`"1"`)}}
	p.Prior.Endpoints = Endpoints(cfg)
	path := filepath.Join(t.TempDir(), "p.plan")
	if err := WritePlanFile(path, p, cfg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzParsePlanFile: whatever the bytes, the reader returns a plan or an error, never
// panics, and a plan it accepts survives being written and read again. As part of
// go test it runs its seed corpus only; fuzz it with
// go test ./planner -run '^$' -fuzz FuzzParsePlanFile -fuzztime 30s -fuzzminimizetime 2s
// (minimizing a 7 kB input with the default minimize time looks like a stall).
func FuzzParsePlanFile(f *testing.F) {
	valid := validPlanFileBytes(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add([]byte{})
	f.Add([]byte("{}"))
	f.Add([]byte(`{"nonstop_plan_file": 2, "plan": {}, "sha256": "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}`))
	f.Add([]byte(`{"nonstop_plan_file": 2, "plan": null}`))
	f.Add([]byte(`{"nonstop_plan_file": 9, "plan": {"format_version": "9.0"}}`))
	f.Add(bytes.Replace(valid, []byte(`"upgrades"`), []byte(`"upgradez"`), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		pf, err := ParsePlanFile(b, "fuzz.plan")
		if err != nil {
			if pf != nil {
				t.Fatalf("a plan file and an error: %v", err)
			}
			return
		}
		if pf.Plan == nil {
			t.Fatal("no error and no plan")
		}
		pf.Plan.HasChanges()
		for _, m := range pf.Plan.Prior.CheckVariables(&lang.Config{}) {
			_ = m.String()
		}
		if _, err := pf.Plan.Prior.SealedValues(); err != nil {
			return // recorded values that do not decode are refused by apply
		}
		again, err := EncodePlanFile(pf.Plan, nil)
		if err != nil {
			t.Fatalf("an accepted plan cannot be written again: %v", err)
		}
		if _, err := ParsePlanFile(again, "again.plan"); err != nil {
			t.Fatalf("an accepted plan, written again, is refused: %v", err)
		}
	})
}

// errorAs is errors.As for the tests.
func errorAs(err error, target any) bool { return errors.As(err, target) }
