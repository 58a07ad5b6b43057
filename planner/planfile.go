package planner

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/nonstop-release/nonstop/lang"
	"github.com/nonstop-release/nonstop/providers"
)

// PlanFileVersion is the version of the plan file envelope this nonstop writes and
// the only one it reads. Version 2 seals the plan's inputs (Prior.Variables,
// Prior.Endpoints, Prior.Tree) and no longer embeds the configuration's text.
const PlanFileVersion = 2

// maxPlanFile bounds what OpenPlanFile reads: a plan of 10,000 instances is a few
// tens of megabytes.
const maxPlanFile = 512 << 20

// PlanFile is a saved plan: the plan and what it was made from. On disk it is a JSON
// envelope whose "sha256" is the hex SHA-256 of the plan's compact JSON:
//
//	{"nonstop_plan_file": 2, "nonstop_version": "0.1.0", "created": "...",
//	 "config_hash": "...", "config_files": {"main.ns.hcl": "SHA-256"}, "sha256": "...", "plan": {...}}
//
// The plan's prior holds what apply checks besides the live state: the input
// variables (sensitive ones as a salted hash only), the provider and state
// endpoints, the commit and the git tree of the configuration directory. No
// secret is written: neither variable files nor sensitive values.
type PlanFile struct {
	NonstopPlanFile int       `json:"nonstop_plan_file"`
	NonstopVersion  string    `json:"nonstop_version"`
	Created         time.Time `json:"created"`
	// ConfigHash is the lang.Config.Hash of the configuration the plan was made from.
	ConfigHash string `json:"config_hash"`
	// ConfigFiles are the hex SHA-256 of each configuration file, by name in the
	// configuration directory, so that apply FILE can say which file changed.
	ConfigFiles map[string]string `json:"config_files,omitempty"`
	SHA256      string            `json:"sha256"`
	Plan        *Plan             `json:"-"`
}

// planFileJSON is the envelope as written, with the plan kept as raw bytes so its
// checksum can be verified before it is decoded.
type planFileJSON struct {
	PlanFile
	RawPlan json.RawMessage `json:"plan"`
}

// minSecretLen is the shortest sensitive value WritePlanFile looks for in a plan:
// shorter ones would match ordinary text.
const minSecretLen = 6

// WritePlanFile saves p, made from cfg, to path (EncodePlanFile). The file is
// written to a temporary file in the same directory and renamed into place, so a
// reader sees the old file or the whole new one, never part of it.
func WritePlanFile(path string, p *Plan, cfg *lang.Config) error {
	out, err := EncodePlanFile(p, cfg)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, out, 0o600)
}

// EncodePlanFile returns the plan file of p, made from cfg. It refuses a plan
// that holds one of cfg's sensitive values.
func EncodePlanFile(p *Plan, cfg *lang.Config) ([]byte, error) {
	if p == nil {
		return nil, errors.New("write plan file: no plan")
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("write plan file: encoding the plan: %w", err)
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
		env.ConfigFiles = configFileHashes(cfg)
	}
	out, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write plan file: %w", err)
	}
	if cfg != nil {
		for _, secret := range cfg.SensitiveValues() {
			if len(secret) < minSecretLen {
				continue
			}
			quoted, _ := json.Marshal(secret)
			if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, quoted[1:len(quoted)-1]) {
				return nil, errors.New("write plan file: the plan holds a sensitive value (a sensitive variable or provider attribute is used where the plan records values, such as a version or an address); nonstop never writes secrets into a plan file")
			}
		}
	}
	return append(out, '\n'), nil
}

// configFileHashes returns the SHA-256 of each configuration file of cfg by its
// name in the directory; variable files (also in cfg.Sources) are left out.
func configFileHashes(cfg *lang.Config) map[string]string {
	out := map[string]string{}
	for key, src := range cfg.Sources {
		name, ok := configFileName(cfg.Dir, key)
		if !ok {
			continue
		}
		sum := sha256.Sum256(src)
		out[name] = hex.EncodeToString(sum[:])
	}
	return out
}

// configFileName returns the name in dir of the configuration file that
// cfg.Sources holds under key (filepath.Join(dir, name)); ok is false for a
// variable file.
func configFileName(dir, key string) (string, bool) {
	if !strings.HasSuffix(key, lang.FileSuffix) {
		return "", false
	}
	if dir == "" {
		return key, !strings.ContainsRune(key, filepath.Separator)
	}
	if filepath.Dir(key) != filepath.Clean(dir) {
		return "", false
	}
	return filepath.Base(key), true
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
// of ParsePlanFile.
func OpenPlanFile(path string) (*PlanFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPlanFile+1))
	if err != nil {
		return nil, fmt.Errorf("read plan file: %w", err)
	}
	if len(b) > maxPlanFile {
		return nil, fmt.Errorf("%s is not a nonstop plan file: it is larger than %d bytes", path, maxPlanFile)
	}
	return ParsePlanFile(b, path)
}

// ParsePlanFile decodes a plan file's bytes; name names the file in errors. It
// refuses, with an error that says which, an empty or truncated file, one that
// is not a nonstop plan file, one of another envelope version or plan format,
// and one whose plan does not match its recorded checksum (corrupt or edited).
// It never panics, whatever the bytes.
func ParsePlanFile(b []byte, name string) (*PlanFile, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%s is empty: it is not a nonstop plan file (was the plan saved, or the artifact downloaded, completely?)", name)
	}
	var env planFileJSON
	if err := json.Unmarshal(b, &env); err != nil {
		if truncated(b, err) {
			return nil, fmt.Errorf("%s is truncated: its %d bytes end in the middle of the plan (was the plan saved, or the artifact downloaded, completely?)", name, len(b))
		}
		if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			return nil, fmt.Errorf("%s is not a nonstop plan file, or is corrupt: %v", name, err)
		}
		return nil, fmt.Errorf("%s is not a nonstop plan file (it is not JSON; nonstop plan -out writes JSON): %v", name, err)
	}
	switch {
	case env.NonstopPlanFile == 0 || len(env.RawPlan) == 0 || bytes.Equal(env.RawPlan, []byte("null")):
		return nil, fmt.Errorf("%s is not a nonstop plan file: it has no nonstop_plan_file version or no plan", name)
	case env.NonstopPlanFile > PlanFileVersion:
		return nil, fmt.Errorf("%s is a version %d plan file written by nonstop %s; this nonstop %s reads only version %d: apply it with the nonstop that made it, or upgrade",
			name, env.NonstopPlanFile, env.NonstopVersion, lang.Version, PlanFileVersion)
	case env.NonstopPlanFile != PlanFileVersion:
		return nil, fmt.Errorf("%s is a version %d plan file written by nonstop %s; this nonstop %s reads only version %d, which seals the plan's inputs: run nonstop plan -out again",
			name, env.NonstopPlanFile, env.NonstopVersion, lang.Version, PlanFileVersion)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.RawPlan); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %v", name, err)
	}
	sum := sha256.Sum256(compact.Bytes())
	if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, env.SHA256) {
		return nil, fmt.Errorf("%s is corrupt or was edited: the plan's sha256 is %s but the file records %q", name, got, env.SHA256)
	}
	var p Plan
	if err := json.Unmarshal(compact.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("%s is corrupt: decoding the plan: %v", name, err)
	}
	if major, _, _ := strings.Cut(p.FormatVersion, "."); major != strings.Split(FormatVersion, ".")[0] {
		return nil, fmt.Errorf("%s holds a plan of format %q; this nonstop reads format %s", name, p.FormatVersion, FormatVersion)
	}
	pf := env.PlanFile
	pf.Plan = &p
	return &pf, nil
}

// truncated reports whether err, from decoding b, says that b ends too early.
func truncated(b []byte, err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return syn.Offset >= int64(len(bytes.TrimRight(b, " \t\r\n"))) && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{"))
	}
	return false
}

// Mismatch is one way in which the configuration, inputs or commit of an apply
// differ from those a plan file was made with.
type Mismatch struct {
	// Kind is "configuration", "commit", "variable" or "endpoint".
	Kind string `json:"kind"`
	// Name is the file, the variable, or "nacos.prod addresses".
	Name string `json:"name"`
	// Plan and Now are the values (JSON for variables and endpoints); empty for a
	// sensitive value, which is never shown, and where there is no value.
	Plan      string `json:"plan,omitempty"`
	Now       string `json:"now,omitempty"`
	Sensitive bool   `json:"sensitive,omitempty"`
	// Detail says more, in a sentence.
	Detail string `json:"detail,omitempty"`
}

// String describes the mismatch: `variable order_version: the plan was made with
// "1.7.0", this apply has "1.6.0"`.
func (m Mismatch) String() string {
	what := m.Kind
	if m.Name != "" {
		what += " " + m.Name
	}
	switch {
	case m.Detail != "":
		return what + ": " + m.Detail
	case m.Sensitive:
		return what + " (sensitive): the value differs from the one the plan was made with (neither is shown)"
	case m.Plan == "":
		return fmt.Sprintf("%s: not there when the plan was made, this apply has %s", what, m.Now)
	case m.Now == "":
		return fmt.Sprintf("%s: the plan was made with %s, this apply has none", what, m.Plan)
	}
	return fmt.Sprintf("%s: the plan was made with %s, this apply has %s", what, m.Plan, m.Now)
}

// MismatchError refuses a plan file whose configuration, inputs or commit
// differ from those of the apply.
type MismatchError struct {
	Mismatches []Mismatch
}

// Error lists the mismatches, separated by "; ".
func (e *MismatchError) Error() string {
	texts := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		texts[i] = m.String()
	}
	return "the plan file was made from other inputs: " + strings.Join(texts, "; ")
}

// CheckConfig returns a *MismatchError when cfg is not the configuration the plan
// was made from, with the same input variables (sensitive ones compared by
// their hash), the same provider and state endpoints and, when both are in git,
// the same commit or a commit where the configuration directory is the same
// (its git tree). Every difference is listed.
func (pf *PlanFile) CheckConfig(cfg *lang.Config) error {
	var ms []Mismatch
	if cfg.Hash != pf.ConfigHash {
		ms = append(ms, pf.configMismatch(cfg))
	}
	if pf.Plan != nil {
		ms = append(ms, pf.Plan.Prior.CheckVariables(cfg)...)
		ms = append(ms, pf.Plan.Prior.checkEndpoints(cfg)...)
		ms = append(ms, pf.Plan.Prior.checkCommit(cfg)...)
	}
	if len(ms) == 0 {
		return nil
	}
	return &MismatchError{Mismatches: ms}
}

// configMismatch names the configuration files that differ from the plan's.
func (pf *PlanFile) configMismatch(cfg *lang.Config) Mismatch {
	now := configFileHashes(cfg)
	var changed []string
	for name, sum := range now {
		if pf.ConfigFiles[name] != sum {
			changed = append(changed, name)
		}
	}
	for name := range pf.ConfigFiles {
		if _, ok := now[name]; !ok {
			changed = append(changed, name)
		}
	}
	sort.Strings(changed)
	detail := fmt.Sprintf("it changed since the plan was made (config hash %s, plan made from %s)", shortHash(cfg.Hash), shortHash(pf.ConfigHash))
	if len(changed) > 0 {
		detail += "; changed files: " + strings.Join(changed, ", ")
	}
	return Mismatch{Kind: "configuration", Detail: detail}
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
	case "gateway":
		object = fmt.Sprintf("%s gateway routes document %s%s", svc, name, field)
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

// sealIterations is the PBKDF2 work factor of a sensitive variable's hash: about
// 30 ms per value here, so guessing a secret from a plan file is slow.
const sealIterations = 100_000

// SealInputs records in p.Prior what apply PLANFILE checks besides the live state:
// every input variable of cfg (a sensitive one as a salted PBKDF2 hash only), the
// non-sensitive settings of every provider and of the state backend, and the git
// tree of the configuration directory (tree, "" outside git).
func (p *Plan) SealInputs(cfg *lang.Config, tree string) error {
	p.Prior.Tree = tree
	if cfg == nil {
		return nil
	}
	secrets := cfg.SensitiveValues()
	var salt []byte
	p.Prior.Variables = map[string]SealedVariable{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Variables)) {
		v := cfg.Variables[name]
		canon, ok := canonicalValue(v.Value)
		if !ok {
			continue // not set: the load reported it
		}
		if !v.Sensitive && !holdsSecret(canon, secrets) {
			p.Prior.Variables[name] = SealedVariable{Type: canon.typ, Value: canon.value}
			continue
		}
		if salt == nil {
			salt = make([]byte, 16)
			if _, err := rand.Read(salt); err != nil {
				return fmt.Errorf("seal the plan's inputs: %w", err)
			}
		}
		h, err := sealHash(name, canon, salt, sealIterations)
		if err != nil {
			return err
		}
		p.Prior.Variables[name] = SealedVariable{Sensitive: true, Hash: h}
	}
	p.Prior.Endpoints = Endpoints(cfg)
	for _, attrs := range p.Prior.Endpoints {
		for k, val := range attrs {
			if holdsSecret(canonValue{value: []byte(val)}, secrets) {
				attrs[k] = sensitiveEndpoint
			}
		}
	}
	return nil
}

// sensitiveEndpoint stands for an endpoint setting that holds a sensitive value.
const sensitiveEndpoint = "(sensitive value)"

// canonValue is a value in canonical form: its cty type and its value as cty JSON.
type canonValue struct {
	typ, value []byte
}

// canonicalValue returns v's type and value as cty JSON; ok is false for a value
// that is not wholly known (an unset variable).
func canonicalValue(v cty.Value) (canonValue, bool) {
	if v == cty.NilVal || !v.IsWhollyKnown() {
		return canonValue{}, false
	}
	ty, err := ctyjson.MarshalType(v.Type())
	if err != nil {
		return canonValue{}, false
	}
	val, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return canonValue{}, false
	}
	return canonValue{typ: ty, value: val}, true
}

// holdsSecret reports whether the JSON of a value holds one of secrets.
func holdsSecret(c canonValue, secrets []string) bool {
	for _, s := range secrets {
		quoted, _ := json.Marshal(s)
		if bytes.Contains(c.value, quoted[1:len(quoted)-1]) {
			return true
		}
	}
	return false
}

// sealHash returns "pbkdf2-sha256$ITER$SALT$HASH" of the variable's name, type and
// value.
func sealHash(name string, c canonValue, salt []byte, iter int) (string, error) {
	secret := name + "\x00" + string(c.typ) + "\x00" + string(c.value)
	key, err := pbkdf2.Key(sha256.New, secret, salt, iter, 32)
	if err != nil {
		return "", fmt.Errorf("seal the plan's inputs: %w", err)
	}
	enc := base64.RawStdEncoding
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", iter, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// sealMatches reports whether hash, as sealHash writes it, is of the variable's
// value c. A hash it cannot read does not match.
func sealMatches(hash, name string, c canonValue) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || len(salt) == 0 {
		return false
	}
	got, err := sealHash(name, c, salt, iter)
	return err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(hash)) == 1
}

// SealedValues returns the values of the non-sensitive variables the plan was
// made with, decoded; apply PLANFILE takes them as the variables' values, below
// what NONSTOP_VAR_, -var-file and -var set (and CheckVariables refuses any of
// those that disagrees).
func (pr Prior) SealedValues() (map[string]cty.Value, error) {
	out := map[string]cty.Value{}
	for name, sv := range pr.Variables {
		if sv.Sensitive {
			continue
		}
		v, err := sv.decode()
		if err != nil {
			return nil, fmt.Errorf("variable %s of the plan: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}

// decode returns the recorded value of a non-sensitive variable.
func (sv SealedVariable) decode() (cty.Value, error) {
	ty, err := ctyjson.UnmarshalType(sv.Type)
	if err != nil {
		return cty.NilVal, err
	}
	return ctyjson.Unmarshal(sv.Value, ty)
}

// CheckVariables compares the input variables of cfg with those the plan was made
// with and returns each difference: a value that differs (a sensitive one is
// compared by its hash and never shown), a variable that is not set, not
// declared, or new. A plan without recorded variables (Variables nil) is not
// checked.
func (pr Prior) CheckVariables(cfg *lang.Config) []Mismatch {
	if pr.Variables == nil {
		return nil
	}
	var out []Mismatch
	names := map[string]bool{}
	for n := range pr.Variables {
		names[n] = true
	}
	for n := range cfg.Variables {
		names[n] = true
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		sv, recorded := pr.Variables[name]
		v, declared := cfg.Variables[name]
		switch {
		case !declared:
			out = append(out, Mismatch{Kind: "variable", Name: name, Detail: "the plan was made with it, this configuration does not declare it"})
			continue
		case !recorded:
			out = append(out, Mismatch{Kind: "variable", Name: name, Detail: "this configuration declares it, the plan was made without it"})
			continue
		}
		canon, set := canonicalValue(v.Value)
		switch {
		case !set:
			out = append(out, Mismatch{Kind: "variable", Name: name, Sensitive: sv.Sensitive,
				Detail: "not set; the plan was made with a value" + setHint(name, sv.Sensitive)})
		case sv.Sensitive:
			if !sealMatches(sv.Hash, name, canon) {
				out = append(out, Mismatch{Kind: "variable", Name: name, Sensitive: true,
					Detail: "sensitive: the value differs from the one the plan was made with (neither is shown)" + setHint(name, true)})
			}
		case !bytes.Equal(sv.Type, canon.typ) || !bytes.Equal(sv.Value, canon.value):
			out = append(out, Mismatch{Kind: "variable", Name: name, Plan: string(sv.Value), Now: string(canon.value)})
		}
	}
	return out
}

// setHint tells how to give a sensitive variable its value, which a plan file
// does not hold.
func setHint(name string, sensitive bool) string {
	if !sensitive {
		return ""
	}
	return fmt.Sprintf(" (a plan file holds no secret: give it with %s%s in the environment)", lang.EnvVarPrefix, name)
}

// Endpoints returns the non-sensitive settings of cfg's providers, by "KIND.NAME",
// and of its state backend, under "state" (kind and attributes), each as JSON.
func Endpoints(cfg *lang.Config) map[string]map[string]string {
	out := map[string]map[string]string{}
	for ref, p := range cfg.Providers {
		attrs := map[string]string{}
		for k, v := range p.Attrs {
			if p.Sensitive[k] {
				continue
			}
			if c, ok := canonicalValue(v); ok {
				attrs[k] = string(c.value)
			}
		}
		out[ref.String()] = attrs
	}
	st := map[string]string{"kind": `"local"`}
	if cfg.Nonstop != nil && cfg.Nonstop.State != nil {
		b := cfg.Nonstop.State
		st["kind"] = strconv.Quote(b.Kind)
		for k, v := range b.Attrs {
			if b.Sensitive[k] {
				continue
			}
			if c, ok := canonicalValue(v); ok {
				st[k] = string(c.value)
			}
		}
	}
	out["state"] = st
	return out
}

// checkEndpoints compares the endpoints of cfg with the plan's.
func (pr Prior) checkEndpoints(cfg *lang.Config) []Mismatch {
	if pr.Endpoints == nil {
		return nil
	}
	now := Endpoints(cfg)
	var out []Mismatch
	refs := map[string]bool{}
	for r := range pr.Endpoints {
		refs[r] = true
	}
	for r := range now {
		refs[r] = true
	}
	for _, ref := range slices.Sorted(maps.Keys(refs)) {
		was, inPlan := pr.Endpoints[ref]
		is, inNow := now[ref]
		switch {
		case !inNow:
			out = append(out, Mismatch{Kind: "endpoint", Name: ref, Detail: "the plan was made with it, this configuration has no such provider"})
			continue
		case !inPlan:
			out = append(out, Mismatch{Kind: "endpoint", Name: ref, Detail: "this configuration has it, the plan was made without it"})
			continue
		}
		attrs := map[string]bool{}
		for k := range was {
			attrs[k] = true
		}
		for k := range is {
			attrs[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			a, b := was[k], is[k]
			if a == sensitiveEndpoint {
				continue // not comparable: never recorded
			}
			if a != b {
				out = append(out, Mismatch{Kind: "endpoint", Name: ref + " " + k, Plan: a, Now: b})
			}
		}
	}
	return out
}

// checkCommit compares the commit of cfg's directory with the plan's: the same
// commit, or one where the directory's git tree is the same, passes. A plan made
// outside git, or an apply outside git, is not checked by commit (the
// configuration hash still is).
func (pr Prior) checkCommit(cfg *lang.Config) []Mismatch {
	if pr.Commit == "" {
		return nil
	}
	commit, tree, err := lang.GitDirTree(cfg.Dir, cfg.Commit)
	if err != nil || commit == pr.Commit || (pr.Tree != "" && tree == pr.Tree) {
		return nil
	}
	detail := fmt.Sprintf("the plan was made at commit %s; this apply is at commit %s, where the configuration directory differs", shortHash(pr.Commit), shortHash(commit))
	if changed, err := lang.GitDirChanges(cfg.Dir, pr.Commit, commit); err == nil && len(changed) > 0 {
		detail += " (changed: " + strings.Join(changed, ", ") + ")"
	} else if err != nil {
		detail += " (the plan's commit is not in this clone, so the files cannot be named)"
	}
	return []Mismatch{{Kind: "commit", Detail: detail}}
}
