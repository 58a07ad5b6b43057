package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"

	"github.com/nonstop-release/nonstop/lang"
)

// planFileConfig is a configuration in /cfg of two files, loaded with a variable
// file (/secrets/prod.hcl) that set a sensitive variable.
func planFileConfig() *lang.Config {
	return &lang.Config{Dir: "/cfg", Hash: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Sources: map[string][]byte{
			"/cfg/main.ns.hcl":  []byte("service \"order-service\" {}\n"),
			"/cfg/vars.ns.hcl":  []byte("variable \"v\" {}\n"),
			"/secrets/prod.hcl": []byte("db_password = \"hunter2-very-secret\"\n"),
		},
		Variables: map[string]*lang.Variable{
			"order_version": {Name: "order_version", Type: cty.String, Value: cty.StringVal("1.7.0")},
			"replicas":      {Name: "replicas", Type: cty.Number, Value: cty.NumberIntVal(3)},
			"zones":         {Name: "zones", Type: cty.List(cty.String), Value: cty.ListVal([]cty.Value{cty.StringVal("a"), cty.StringVal("b")})},
			"db_password":   {Name: "db_password", Type: cty.String, Value: cty.StringVal("hunter2-very-secret"), Sensitive: true},
		},
		Providers: map[lang.ProviderRef]*lang.Provider{
			{Kind: "nacos", Name: "prod"}: {Ref: lang.ProviderRef{Kind: "nacos", Name: "prod"},
				Attrs: map[string]cty.Value{
					"addresses": cty.TupleVal([]cty.Value{cty.StringVal("10.0.0.1:8848")}),
					"password":  cty.StringVal("nacos-secret-pw"),
				},
				Sensitive: map[string]bool{"password": true}},
		},
	}
}

// sealedPlan returns a test plan sealed with cfg's inputs.
func sealedPlan(t *testing.T, cfg *lang.Config) *Plan {
	t.Helper()
	p := renderTestPlan()
	if err := p.SealInputs(cfg, ""); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPlanFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "release.plan")
	want, cfg := renderTestPlan(), planFileConfig()
	before := time.Now().Add(-time.Second)
	if err := WritePlanFile(path, want, cfg); err != nil {
		t.Fatalf("WritePlanFile: %v", err)
	}
	got, err := ReadPlanFile(path)
	if err != nil {
		t.Fatalf("ReadPlanFile: %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plan after a round trip (-want +got):\n%s", d)
	}

	pf, err := OpenPlanFile(path)
	if err != nil {
		t.Fatalf("OpenPlanFile: %v", err)
	}
	if pf.NonstopPlanFile != PlanFileVersion || pf.NonstopVersion != lang.Version || pf.ConfigHash != cfg.Hash {
		t.Errorf("envelope = version %d, nonstop %q, config %q", pf.NonstopPlanFile, pf.NonstopVersion, pf.ConfigHash)
	}
	if pf.Created.Before(before) || pf.Created.After(time.Now()) {
		t.Errorf("created %v is not the time of writing", pf.Created)
	}
	wantFiles := []string{"main.ns.hcl", "vars.ns.hcl"}
	if d := cmp.Diff(wantFiles, slices.Sorted(maps.Keys(pf.ConfigFiles))); d != "" {
		t.Errorf("config files (-want +got), variable files must be left out:\n%s", d)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode = %v (%v), want 0600", info.Mode().Perm(), err)
	}
}

func TestPlanFileOverwriteLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "release.plan")
	for range 3 {
		if err := WritePlanFile(path, renderTestPlan(), planFileConfig()); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "release.plan" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only release.plan", names)
	}
	if err := WritePlanFile(filepath.Join(dir, "missing", "x.plan"), renderTestPlan(), nil); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

// rewriteEnvelope edits a written plan file's envelope; with rehash the checksum is
// recomputed so only the edit itself is wrong.
func rewriteEnvelope(t *testing.T, path string, rehash bool, edit func(env map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatal(err)
	}
	edit(env)
	if rehash {
		raw, err := json.Marshal(env["plan"])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		env["sha256"] = hex.EncodeToString(sum[:])
	}
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestReadPlanFileRefuses(t *testing.T) {
	tests := map[string]struct {
		raw     string // written as the whole file when set
		rehash  bool
		edit    func(env map[string]any)
		wantErr string
	}{
		"edited plan": {edit: func(env map[string]any) {
			env["plan"].(map[string]any)["summary"].(map[string]any)["upgrades"] = 9.0
		}, wantErr: "is corrupt or was edited"},
		"wrong checksum": {edit: func(env map[string]any) { env["sha256"] = strings.Repeat("0", 64) },
			wantErr: "is corrupt or was edited"},
		"future envelope": {rehash: true, edit: func(env map[string]any) { env["nonstop_plan_file"] = 3.0 },
			wantErr: "is a version 3 plan file written by nonstop " + lang.Version + "; this nonstop " + lang.Version + " reads only version 2: apply it with the nonstop that made it, or upgrade"},
		"future plan format": {rehash: true, edit: func(env map[string]any) {
			env["plan"].(map[string]any)["format_version"] = "2.0"
		}, wantErr: `holds a plan of format "2.0"`},
		"other JSON": {raw: `{"format_version": "1.0", "steps": []}`, wantErr: "is not a nonstop plan file: it has no nonstop_plan_file"},
		"not JSON":   {raw: "PK\x03\x04 zip bytes", wantErr: "is not a nonstop plan file (it is not JSON"},
		"empty file": {raw: " \n", wantErr: "is empty"},
		"old envelope": {rehash: true, edit: func(env map[string]any) { env["nonstop_plan_file"] = 1.0 },
			wantErr: "is a version 1 plan file written by nonstop " + lang.Version + "; this nonstop " + lang.Version + " reads only version 2, which seals the plan's inputs: run nonstop plan -out again"},
		"null plan":   {rehash: true, edit: func(env map[string]any) { env["plan"] = nil }, wantErr: "no plan"},
		"empty plan":  {rehash: true, edit: func(env map[string]any) { delete(env, "plan") }, wantErr: "no plan"},
		"plan is str": {rehash: true, edit: func(env map[string]any) { env["plan"] = "x" }, wantErr: "decoding the plan"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p.plan")
			if tc.raw != "" {
				if err := os.WriteFile(path, []byte(tc.raw), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				if err := WritePlanFile(path, renderTestPlan(), planFileConfig()); err != nil {
					t.Fatal(err)
				}
				rewriteEnvelope(t, path, tc.rehash, tc.edit)
			}
			p, err := ReadPlanFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ReadPlanFile = %v, %v; want an error containing %q", p, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestPlanFileCheckConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.plan")
	if err := WritePlanFile(path, renderTestPlan(), planFileConfig()); err != nil {
		t.Fatal(err)
	}
	pf, err := OpenPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.CheckConfig(planFileConfig()); err != nil {
		t.Errorf("unchanged configuration refused: %v", err)
	}
	changed := planFileConfig()
	changed.Hash = "99aa"
	changed.Sources["/cfg/main.ns.hcl"] = []byte("service \"order-service\" { version = \"2\" }\n")
	delete(changed.Sources, "/cfg/vars.ns.hcl")
	changed.Sources["/cfg/new.ns.hcl"] = []byte("\n")
	changed.Sources["/secrets/prod.hcl"] = []byte("changed = 1\n") // a variable file: not named
	err = pf.CheckConfig(changed)
	want := "the plan file was made from other inputs: configuration: it changed since the plan was made (config hash 99aa, plan made from 0f1e2d3c4b5a); " +
		"changed files: main.ns.hcl, new.ns.hcl, vars.ns.hcl"
	if err == nil || err.Error() != want {
		t.Errorf("CheckConfig = %v\nwant %s", err, want)
	}
}
