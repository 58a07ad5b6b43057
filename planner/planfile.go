package planner

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
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

// ObjectValues are the fields of one live object that a plan depends on, as text:
// {"weight": "1", "state": "ready"}. A balancer member's sessions and its health
// as the balancer checks it are left out: they change all the time, and are
// observed rather than configured, so they do not make a plan stale.
type ObjectValues map[string]string

// LiveValues returns the values of every live object under the keys Fingerprints
// uses: "svc/instance/ADDR", "svc/member/BALANCER/ADDR", "svc/route/BALANCER/NAME".
func LiveValues(live *Live) map[string]ObjectValues {
	out := map[string]ObjectValues{}
	if live == nil {
		return out
	}
	for name, ls := range live.Services {
		if ls == nil {
			continue
		}
		for addr, in := range ls.Instances {
			out[name+"/instance/"+addr] = instanceValues(in)
		}
		for bal, members := range ls.Balancers {
			for _, m := range members {
				out[name+"/member/"+bal+"/"+m.Address] = ObjectValues{
					"weight": strconv.Itoa(m.Weight),
					"state":  string(m.State),
				}
			}
		}
		for bal, routes := range ls.Routes {
			for _, r := range routes {
				out[name+"/route/"+bal+"/"+r.Name] = ObjectValues{
					"pool":    r.Pool,
					"match":   matchText(r.Match),
					"version": r.Version,
					"members": strings.Join(r.Members, ", "),
				}
			}
		}
	}
	return out
}

// instanceValues are a registry instance's values; metadata keys come as
// "metadata.KEY", except "version", which is the version field ("unknown" where
// the registry hides it).
func instanceValues(in providers.Instance) ObjectValues {
	v := ObjectValues{
		"group":   in.Group,
		"cluster": in.Cluster,
		"enabled": strconv.FormatBool(in.Enabled),
		"healthy": strconv.FormatBool(in.Healthy),
		"weight":  strconv.FormatFloat(in.Weight, 'g', -1, 64),
		"version": "unknown",
	}
	if in.VersionKnown {
		v["version"] = in.Version
	}
	for k, val := range in.Metadata {
		if k != "version" {
			v["metadata."+k] = val
		}
	}
	return v
}

// matchText renders a route match: "client_ip=10.8.0.0/16 header=X-Beta:1".
func matchText(m providers.RouteMatch) string {
	var parts []string
	if len(m.ClientIP) > 0 {
		parts = append(parts, "client_ip="+strings.Join(m.ClientIP, ","))
	}
	if len(m.Header) > 0 {
		var hs []string
		for _, k := range slices.Sorted(maps.Keys(m.Header)) {
			hs = append(hs, k+":"+m.Header[k])
		}
		parts = append(parts, "header="+strings.Join(hs, ","))
	}
	return strings.Join(parts, " ")
}

// RecordPrior stores in p.Prior.Values the values, in live, of every object the
// plan read (the keys of Prior.Objects), so that a plan file can be checked by
// value. live is the state the plan was made from.
func (p *Plan) RecordPrior(live *Live) {
	values := LiveValues(live)
	p.Prior.Values = make(map[string]ObjectValues, len(p.Prior.Objects))
	for key := range p.Prior.Objects {
		if v, ok := values[key]; ok {
			p.Prior.Values[key] = v
		}
	}
}

// StaleObject is one difference between the live state a plan was made from and
// the live state now: a field that changed, or an object that appeared or went
// away.
type StaleObject struct {
	// Key is the object's fingerprint key, "svc/member/BALANCER/ADDR".
	Key string `json:"key"`
	// Change is "changed", "appeared" or "gone".
	Change string `json:"change"`
	// Field is the field that changed ("weight"); "" for an object that appeared or
	// went away, and for a change known only by its hash (a plan without values).
	Field  string `json:"field,omitempty"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// Stale compares the live state the plan was made from with live, read now, and
// returns every difference, by value where the plan recorded values (and by hash
// where it did not), ordered by key and field. Objects of services that live does
// not hold are not compared: an apply of some targets of a wider plan reads only
// those.
func (pr Prior) Stale(live *Live) []StaleObject {
	now := Fingerprints(live)
	values := LiveValues(live)
	keys := map[string]bool{}
	for k := range pr.Objects {
		keys[k] = true
	}
	for k := range now {
		keys[k] = true
	}
	var out []StaleObject
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		svc, _, _ := strings.Cut(key, "/")
		if live == nil || live.Services[svc] == nil {
			continue
		}
		was, inPrior := pr.Objects[key]
		is, inNow := now[key]
		switch {
		case !inNow:
			out = append(out, StaleObject{Key: key, Change: "gone"})
			continue
		case !inPrior:
			out = append(out, StaleObject{Key: key, Change: "appeared"})
			continue
		}
		before, ok := pr.Values[key]
		if !ok {
			if was != is {
				out = append(out, StaleObject{Key: key, Change: "changed"})
			}
			continue
		}
		after := values[key]
		for _, field := range fieldOrder(before, after) {
			if before[field] != after[field] {
				out = append(out, StaleObject{Key: key, Change: "changed", Field: field, Before: before[field], After: after[field]})
			}
		}
	}
	return out
}

// knownFields is the order fields are reported in; others follow, sorted.
var knownFields = []string{"group", "cluster", "enabled", "healthy", "weight", "state", "version", "pool", "match", "members"}

// fieldOrder returns the fields of a and b: the known ones in their order, then
// the rest sorted.
func fieldOrder(a, b ObjectValues) []string {
	all := map[string]bool{}
	for k := range a {
		all[k] = true
	}
	for k := range b {
		all[k] = true
	}
	var out []string
	for _, f := range knownFields {
		if all[f] {
			out = append(out, f)
			delete(all, f)
		}
	}
	return append(out, slices.Sorted(maps.Keys(all))...)
}

// String describes the difference for people: "order-service 127.0.0.1:18081
// weight on balancer haproxy changed from 1 to 0 since the plan was made".
func (s StaleObject) String() string {
	parts := strings.SplitN(s.Key, "/", 4)
	svc, kind, bal, name := parts[0], "", "", ""
	if len(parts) > 1 {
		kind = parts[1]
	}
	switch {
	case kind == "instance" && len(parts) >= 3:
		name = strings.Join(parts[2:], "/")
	case len(parts) == 4:
		bal, name = parts[2], parts[3]
	default:
		name = strings.Join(parts[min(2, len(parts)):], "/")
	}
	field := ""
	if s.Field != "" {
		field = " " + s.Field
	}
	var object string
	switch kind {
	case "instance":
		object = fmt.Sprintf("%s %s%s in the registry", svc, name, field)
	case "member":
		object = fmt.Sprintf("%s %s%s on balancer %s", svc, name, field, bal)
	case "route":
		object = fmt.Sprintf("%s route %s%s on balancer %s", svc, name, field, bal)
	default:
		object = fmt.Sprintf("%s %s%s", svc, name, field)
	}
	switch {
	case s.Change == "gone":
		return object + " is gone since the plan was made"
	case s.Change == "appeared":
		return object + " appeared since the plan was made"
	case s.Field == "":
		return object + " changed since the plan was made"
	}
	return fmt.Sprintf("%s changed from %s to %s since the plan was made", object, valueText(s.Before), valueText(s.After))
}

// valueText shows an empty value as "(none)".
func valueText(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
