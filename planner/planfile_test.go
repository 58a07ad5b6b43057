package planner

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nonstop-release/nonstop/lang"
)

func planFileConfig() *lang.Config {
	return &lang.Config{Dir: "/cfg", Hash: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Sources: map[string][]byte{"main.ns.hcl": []byte("service \"order-service\" {}\n"), "vars.ns.hcl": []byte("variable \"v\" {}\n")}}
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
	if d := cmp.Diff(cfg.Sources, pf.ConfigSources); d != "" {
		t.Errorf("config sources (-want +got):\n%s", d)
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
		"future envelope": {rehash: true, edit: func(env map[string]any) { env["nonstop_plan_file"] = 2.0 },
			wantErr: "is a version 2 plan file written by nonstop " + lang.Version + "; this nonstop " + lang.Version + " reads only version 1"},
		"future plan format": {rehash: true, edit: func(env map[string]any) {
			env["plan"].(map[string]any)["format_version"] = "2.0"
		}, wantErr: `holds a plan of format "2.0"`},
		"other JSON":  {raw: `{"format_version": "1.0", "steps": []}`, wantErr: "is not a nonstop plan file: it has no nonstop_plan_file"},
		"not JSON":    {raw: "PK\x03\x04 zip bytes", wantErr: "is not a nonstop plan file"},
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
	changed.Sources["main.ns.hcl"] = []byte("service \"order-service\" { version = \"2\" }\n")
	delete(changed.Sources, "vars.ns.hcl")
	changed.Sources["new.ns.hcl"] = []byte("\n")
	err = pf.CheckConfig(changed)
	want := "the configuration changed since the plan was made (config hash 99aa, plan made from 0f1e2d3c4b5a); " +
		"changed files: main.ns.hcl, new.ns.hcl, vars.ns.hcl"
	if err == nil || err.Error() != want {
		t.Errorf("CheckConfig = %v\nwant %s", err, want)
	}
}
