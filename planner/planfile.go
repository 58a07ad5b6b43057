package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/lang"
)

// PlanFileVersion is the version of the plan file envelope this nonstop writes and
// the only one it reads.
const PlanFileVersion = 1

// PlanFile is a saved plan: the plan and what it was made from. On disk it is a JSON
// envelope whose "sha256" is the hex SHA-256 of the plan's compact JSON:
//
//	{"nonstop_plan_file": 1, "nonstop_version": "0.1.0", "created": "...",
//	 "config_hash": "...", "config_sources": {...}, "sha256": "...", "plan": {...}}
type PlanFile struct {
	NonstopPlanFile int       `json:"nonstop_plan_file"`
	NonstopVersion  string    `json:"nonstop_version"`
	Created         time.Time `json:"created"`
	// ConfigHash is the lang.Config.Hash of the configuration the plan was made from.
	ConfigHash string `json:"config_hash"`
	// ConfigSources are the configuration files by name, so `show FILE` can explain a
	// plan without the directory and `apply FILE` can say which file changed.
	ConfigSources map[string][]byte `json:"config_sources,omitempty"`
	SHA256        string            `json:"sha256"`
	Plan          *Plan             `json:"-"`
}

// planFileJSON is the envelope as written, with the plan kept as raw bytes so its
// checksum can be verified before it is decoded.
type planFileJSON struct {
	PlanFile
	RawPlan json.RawMessage `json:"plan"`
}

// WritePlanFile saves p, made from cfg, to path. The file is written to a temporary
// file in the same directory and renamed into place, so a reader sees the old file or
// the whole new one, never part of it.
func WritePlanFile(path string, p *Plan, cfg *lang.Config) error {
	if p == nil {
		return errors.New("write plan file: no plan")
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("write plan file: encoding the plan: %w", err)
	}
	sum := sha256.Sum256(raw)
	env := planFileJSON{
		PlanFile: PlanFile{
			NonstopPlanFile: PlanFileVersion,
			NonstopVersion:  lang.Version,
			Created:         time.Now().UTC().Truncate(time.Second),
			SHA256:          hex.EncodeToString(sum[:]),
		},
		RawPlan: raw,
	}
	if cfg != nil {
		env.ConfigHash = cfg.Hash
		env.ConfigSources = cfg.Sources
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	return writeFileAtomic(path, append(out, '\n'), 0o600)
}

// ReadPlanFile loads the plan saved at path. It refuses a file that is not a nonstop
// plan file, one of an unknown version, and one whose checksum does not match.
func ReadPlanFile(path string) (*Plan, error) {
	pf, err := OpenPlanFile(path)
	if err != nil {
		return nil, err
	}
	return pf.Plan, nil
}

// OpenPlanFile loads the whole plan file at path, envelope and plan, with the checks
// of ReadPlanFile.
func OpenPlanFile(path string) (*PlanFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	var env planFileJSON
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%s is not a nonstop plan file: %v", path, err)
	}
	switch {
	case env.NonstopPlanFile == 0 || len(env.RawPlan) == 0:
		return nil, fmt.Errorf("%s is not a nonstop plan file: it has no nonstop_plan_file version or no plan", path)
	case env.NonstopPlanFile != PlanFileVersion:
		return nil, fmt.Errorf("%s is a version %d plan file written by nonstop %s; this nonstop %s reads only version %d",
			path, env.NonstopPlanFile, env.NonstopVersion, lang.Version, PlanFileVersion)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.RawPlan); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %v", path, err)
	}
	sum := sha256.Sum256(compact.Bytes())
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, env.SHA256) {
		return nil, fmt.Errorf("%s is corrupt or was edited: the plan's sha256 is %s but the file records %q", path, got, env.SHA256)
	}
	var p Plan
	if err := json.Unmarshal(compact.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("%s is corrupt: decoding the plan: %v", path, err)
	}
	if major, _, _ := strings.Cut(p.FormatVersion, "."); major != strings.Split(FormatVersion, ".")[0] {
		return nil, fmt.Errorf("%s holds a plan of format %q; this nonstop reads format %s", path, p.FormatVersion, FormatVersion)
	}
	pf := env.PlanFile
	pf.Plan = &p
	return &pf, nil
}

// CheckConfig returns an error when cfg is not the configuration the plan was made
// from, naming the files that differ.
func (pf *PlanFile) CheckConfig(cfg *lang.Config) error {
	if cfg.Hash == pf.ConfigHash {
		return nil
	}
	var changed []string
	for name, src := range cfg.Sources {
		if old, ok := pf.ConfigSources[name]; !ok || !bytes.Equal(old, src) {
			changed = append(changed, name)
		}
	}
	for name := range pf.ConfigSources {
		if _, ok := cfg.Sources[name]; !ok {
			changed = append(changed, name)
		}
	}
	msg := fmt.Sprintf("the configuration changed since the plan was made (config hash %s, plan made from %s)", shortHash(cfg.Hash), shortHash(pf.ConfigHash))
	if len(changed) > 0 {
		sort.Strings(changed)
		msg += "; changed files: " + strings.Join(changed, ", ")
	}
	return errors.New(msg)
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	if h == "" {
		return "(none)"
	}
	return h
}

// writeFileAtomic writes data to a temporary file beside path, syncs it and renames
// it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write plan file: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // make the rename durable where the filesystem allows it
		d.Close()
	}
	return nil
}
