package lang

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// ParseVariableValue interprets raw as -var and NONSTOP_VAR_ do for a variable of
// type ty: the string itself for a string, otherwise an HCL constant when it is
// one that is not a string, else the string. It lets a caller compare a raw value
// with a value it holds.
func ParseVariableValue(ty cty.Type, raw string) (cty.Value, error) {
	v, err := convert.Convert(rawVariableValue(ty, raw), ty)
	if err != nil {
		return cty.NilVal, fmt.Errorf("not a value of type %s: %v", ty.FriendlyName(), err)
	}
	return v, nil
}

// ConfigChange is one change in meaning from a base configuration to a head one,
// what a reviewer of a pull request reads before the plan: a service's version,
// its groups, weights, routes and strategy, a provider's settings.
type ConfigChange struct {
	// Action is "create", "update" or "delete".
	Action string `json:"action"`
	// Service is the service changed; "" for a provider.
	Service string `json:"service,omitempty"`
	// What names the setting: "version", "group a", "balancer http weight",
	// "route beta-testers", "strategy", "provider nacos.prod addresses".
	What   string `json:"what"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	// Where are the lines that made the change, "deploy/main.ns.hcl:14": the
	// setting itself, or the variable default or local it takes its value from,
	// when that is the line that changed. A setting the head removed is shown at
	// its line in the base, with " (base)".
	Where []string `json:"where,omitempty"`
}

// String renders the change on one line: `~ service order-service version "1.4.2" → "1.5.0" (main.ns.hcl:14)`.
func (c ConfigChange) String() string {
	sym := map[string]string{"create": "+", "update": "~", "delete": "-"}[c.Action]
	subject := c.What
	if c.Service != "" {
		subject = "service " + c.Service + " " + c.What
		if c.What == "service" {
			subject = "service " + c.Service
		}
	}
	var val string
	switch c.Action {
	case "create":
		if c.After != "" {
			val = " " + c.After
		}
	case "delete":
		if c.Before != "" {
			val = " " + c.Before
		}
	default:
		val = " " + orNoneText(c.Before) + " → " + orNoneText(c.After)
	}
	where := ""
	if len(c.Where) > 0 {
		where = " (" + strings.Join(c.Where, ", ") + ")"
	}
	return sym + " " + subject + val + where
}

func orNoneText(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// DiffConfigs returns the changes in meaning from base to head, services in
// head's order (removed ones after), then providers. Either may be nil (a
// configuration that did not exist). Sensitive provider settings are compared
// but never shown.
func DiffConfigs(base, head *Config) []ConfigChange {
	d := configDiff{base: base, head: head, bsrc: parseSources(base), hsrc: parseSources(head)}
	d.changed = changedLines(base, head)
	if base == nil {
		base = &Config{Services: map[string]*Service{}, Providers: map[ProviderRef]*Provider{}}
		d.base = base
	}
	if head == nil {
		head = &Config{Services: map[string]*Service{}, Providers: map[ProviderRef]*Provider{}}
		d.head = head
	}
	for _, name := range head.ServiceNames {
		d.service(name, base.Services[name], head.Services[name])
	}
	for _, name := range base.ServiceNames {
		if head.Services[name] == nil {
			d.service(name, base.Services[name], nil)
		}
	}
	d.providers()
	return d.out
}

// configDiff holds one comparison.
type configDiff struct {
	base, head *Config
	bsrc, hsrc map[string]*hclsyntax.Body // parsed sources by display name
	changed    map[string]map[int]bool    // head file → changed lines
	out        []ConfigChange
}

// settingPath locates a setting in the files: the blocks from the top ("service",
// "NAME"), ("group", "a"), then the attribute ("instances"); attr "" is the
// block itself.
type settingPath struct {
	blocks [][2]string
	attr   string
}

func svcPath(svc string, attr string, blocks ...[2]string) settingPath {
	return settingPath{blocks: append([][2]string{{"service", svc}}, blocks...), attr: attr}
}

func (d *configDiff) add(c ConfigChange, p settingPath) {
	switch c.Action {
	case "delete":
		c.Where = d.where(d.bsrc, nil, p, " (base)")
	default:
		c.Where = d.where(d.hsrc, d.changed, p, "")
	}
	d.out = append(d.out, c)
}

// update adds an update when before and after differ.
func (d *configDiff) update(svc, what, before, after string, p settingPath) {
	if before != after {
		d.add(ConfigChange{Action: "update", Service: svc, What: what, Before: before, After: after}, p)
	}
}

func (d *configDiff) service(name string, b, h *Service) {
	switch {
	case b == nil:
		d.add(ConfigChange{Action: "create", Service: name, What: "service", After: "version " + quoted(h.Version)}, svcPath(name, ""))
		return
	case h == nil:
		d.add(ConfigChange{Action: "delete", Service: name, What: "service", Before: "version " + quoted(b.Version)}, svcPath(name, ""))
		return
	}
	d.update(name, "version", quoted(b.Version), quoted(h.Version), svcPath(name, "version"))
	d.update(name, "registry", registryText(b.Registry), registryText(h.Registry), svcPath(name, "", [2]string{"registry", ""}))
	d.groups(name, b, h)
	d.balancers(name, b, h)
	d.update(name, "min_available", fmt.Sprint(b.MinAvailable), fmt.Sprint(h.MinAvailable), svcPath(name, "min_available"))
	d.update(name, "strategy", strategyText(b.Strategy), strategyText(h.Strategy), svcPath(name, "", [2]string{"strategy", ""}))
	d.routes(name, b, h)
	d.update(name, "drain", drainText(b.Drain), drainText(h.Drain), svcPath(name, "", [2]string{"drain", ""}))
	d.update(name, "deploy", d.deployText(d.base, b.Deploy), d.deployText(d.head, h.Deploy), svcPath(name, "", [2]string{"deploy", ""}))
	d.update(name, "health", d.healthText(d.base, b.Health), d.healthText(d.head, h.Health), svcPath(name, "", [2]string{"health", ""}))
	d.update(name, "verify", d.verifyText(d.base, b.Verify), d.verifyText(d.head, h.Verify), svcPath(name, "", [2]string{"verify", ""}))
	d.analyses(name, b, h)
	d.update(name, "depends_on", strings.Join(b.DependsOn, ", "), strings.Join(h.DependsOn, ", "), svcPath(name, "depends_on"))
	d.update(name, "on_failure", b.OnFailure, h.OnFailure, svcPath(name, "on_failure"))
}

func (d *configDiff) groups(svc string, b, h *Service) {
	bg := map[string]*Group{}
	for _, g := range b.Groups {
		bg[g.Name] = g
	}
	hg := map[string]bool{}
	for _, g := range h.Groups {
		hg[g.Name] = true
		p := svcPath(svc, "instances", [2]string{"group", g.Name})
		old := bg[g.Name]
		if old == nil {
			d.add(ConfigChange{Action: "create", Service: svc, What: "group " + g.Name, After: addressesText(g.Instances)}, settingPath{blocks: p.blocks})
			continue
		}
		d.update(svc, "group "+g.Name, addressesText(old.Instances), addressesText(g.Instances), p)
	}
	for _, g := range b.Groups {
		if !hg[g.Name] {
			d.add(ConfigChange{Action: "delete", Service: svc, What: "group " + g.Name, Before: addressesText(g.Instances)},
				settingPath{blocks: svcPath(svc, "", [2]string{"group", g.Name}).blocks})
		}
	}
}

func (d *configDiff) balancers(svc string, b, h *Service) {
	bb := map[string]*Balancer{}
	for _, x := range b.Balancers {
		bb[x.Name] = x
	}
	hb := map[string]bool{}
	for _, x := range h.Balancers {
		hb[x.Name] = true
		blk := [2]string{"balancer", x.Name}
		old := bb[x.Name]
		if old == nil {
			d.add(ConfigChange{Action: "create", Service: svc, What: "balancer " + x.Name, After: balancerText(x)}, svcPath(svc, "", blk))
			continue
		}
		d.update(svc, "balancer "+x.Name+" provider", old.Provider.String(), x.Provider.String(), svcPath(svc, "provider", blk))
		d.update(svc, "balancer "+x.Name+" pool", quoted(old.Pool), quoted(x.Pool), svcPath(svc, "pool", blk))
		d.update(svc, "balancer "+x.Name+" weight", weightText(old.Weight), weightText(x.Weight), svcPath(svc, "weight", blk))
	}
	for _, x := range b.Balancers {
		if !hb[x.Name] {
			d.add(ConfigChange{Action: "delete", Service: svc, What: "balancer " + x.Name, Before: balancerText(x)}, svcPath(svc, "", [2]string{"balancer", x.Name}))
		}
	}
}

func (d *configDiff) routes(svc string, b, h *Service) {
	br := map[string]*Route{}
	for _, r := range b.Routes {
		br[r.Name] = r
	}
	hr := map[string]bool{}
	for _, r := range h.Routes {
		hr[r.Name] = true
		blk := [2]string{"route", r.Name}
		old := br[r.Name]
		if old == nil {
			d.add(ConfigChange{Action: "create", Service: svc, What: "route " + r.Name, After: routeText(r)}, svcPath(svc, "", blk))
			continue
		}
		d.update(svc, "route "+r.Name+" version", quoted(old.Version), quoted(r.Version), svcPath(svc, "version", blk))
		d.update(svc, "route "+r.Name+" match", matchText(old.Match), matchText(r.Match), settingPath{blocks: svcPath(svc, "", blk, [2]string{"match", ""}).blocks})
	}
	for _, r := range b.Routes {
		if !hr[r.Name] {
			d.add(ConfigChange{Action: "delete", Service: svc, What: "route " + r.Name, Before: routeText(r)}, svcPath(svc, "", [2]string{"route", r.Name}))
		}
	}
}

func (d *configDiff) analyses(svc string, b, h *Service) {
	for _, name := range slices.Sorted(maps.Keys(h.Analyses)) {
		a, old := h.Analyses[name], b.Analyses[name]
		blk := [2]string{"analysis", name}
		if old == nil {
			d.add(ConfigChange{Action: "create", Service: svc, What: "analysis " + name, After: analysisText(a)}, svcPath(svc, "", blk))
			continue
		}
		d.update(svc, "analysis "+name, analysisText(old), analysisText(a), svcPath(svc, "", blk))
	}
	for _, name := range slices.Sorted(maps.Keys(b.Analyses)) {
		if h.Analyses[name] == nil {
			d.add(ConfigChange{Action: "delete", Service: svc, What: "analysis " + name, Before: analysisText(b.Analyses[name])}, svcPath(svc, "", [2]string{"analysis", name}))
		}
	}
}

func (d *configDiff) providers() {
	refs := map[ProviderRef]bool{}
	for r := range d.base.Providers {
		refs[r] = true
	}
	for r := range d.head.Providers {
		refs[r] = true
	}
	for _, ref := range slices.SortedFunc(maps.Keys(refs), func(a, b ProviderRef) int { return strings.Compare(a.String(), b.String()) }) {
		b, h := d.base.Providers[ref], d.head.Providers[ref]
		blk := [2]string{"provider", ref.Kind}
		p := settingPath{blocks: [][2]string{blk, {"", ref.Name}}}
		switch {
		case b == nil:
			d.add(ConfigChange{Action: "create", What: "provider " + ref.String()}, p)
			continue
		case h == nil:
			d.add(ConfigChange{Action: "delete", What: "provider " + ref.String()}, p)
			continue
		}
		attrs := map[string]bool{}
		for k := range b.Attrs {
			attrs[k] = true
		}
		for k := range h.Attrs {
			attrs[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			bv, hv := valueText(b.Attrs[k]), valueText(h.Attrs[k])
			if bv == hv {
				continue
			}
			if b.Sensitive[k] || h.Sensitive[k] {
				bv, hv = "(sensitive value)", "(sensitive value, changed)"
			}
			d.add(ConfigChange{Action: "update", What: "provider " + ref.String() + " " + k, Before: bv, After: hv},
				settingPath{blocks: p.blocks, attr: k})
		}
	}
}

// where returns the file:line of the setting at p in the parsed files, or of
// the variable defaults and locals it refers to: those of them on changed lines
// when changed is given and some are, else the setting itself.
func (d *configDiff) where(files map[string]*hclsyntax.Body, changed map[string]map[int]bool, p settingPath, suffix string) []string {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		rng, expr, ok := locate(files[name], p)
		if !ok {
			continue
		}
		candidates := []hcl.Range{rng}
		if expr != nil {
			candidates = append(candidates, refRanges(files, expr, 0)...)
		}
		var out []string
		if changed != nil {
			for _, r := range candidates {
				if line, ok := firstChanged(changed[r.Filename], r); ok {
					out = append(out, fmt.Sprintf("%s:%d%s", r.Filename, line, suffix))
				}
			}
		}
		if len(out) == 0 {
			out = []string{fmt.Sprintf("%s:%d%s", rng.Filename, rng.Start.Line, suffix)}
		}
		return dedupe(out)
	}
	return nil
}

// locate finds the block or attribute at p in body: its range (the whole block,
// or the attribute) and, for an attribute, its expression. A label "" in p
// matches any block of the type; a type "" matches the first label of the
// block found before (provider "nacos" "prod" is {"provider","nacos"},{"","prod"}).
func locate(body *hclsyntax.Body, p settingPath) (hcl.Range, hclsyntax.Expression, bool) {
	var blk *hclsyntax.Block
	for i, step := range p.blocks {
		if step[0] == "" {
			continue // a second label of the block found before
		}
		var found *hclsyntax.Block
		for _, b := range body.Blocks {
			if b.Type != step[0] {
				continue
			}
			if step[1] != "" && (len(b.Labels) == 0 || b.Labels[0] != step[1]) {
				continue
			}
			if i+1 < len(p.blocks) && p.blocks[i+1][0] == "" && (len(b.Labels) < 2 || b.Labels[1] != p.blocks[i+1][1]) {
				continue
			}
			found = b
			break
		}
		if found == nil {
			return hcl.Range{}, nil, false
		}
		blk, body = found, found.Body
	}
	if p.attr == "" {
		if blk == nil {
			return hcl.Range{}, nil, false
		}
		return blk.Range(), nil, true
	}
	a := body.Attributes[p.attr]
	if a == nil {
		if blk == nil {
			return hcl.Range{}, nil, false
		}
		return blk.DefRange(), nil, true // the default applies: point at the block
	}
	return a.SrcRange, a.Expr, true
}

// refRanges returns the ranges of the variable defaults and locals expr refers
// to, and of those they refer to, up to a few levels.
func refRanges(files map[string]*hclsyntax.Body, expr hclsyntax.Expression, depth int) []hcl.Range {
	if depth > 3 {
		return nil
	}
	var out []hcl.Range
	for _, tr := range expr.Variables() {
		if len(tr) < 2 {
			continue
		}
		attr, ok := tr[1].(hcl.TraverseAttr)
		if !ok {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(files)) {
			body := files[name]
			switch tr.RootName() {
			case "var":
				if rng, e, ok := locate(body, settingPath{blocks: [][2]string{{"variable", attr.Name}}, attr: "default"}); ok && e != nil {
					out = append(out, rng)
				}
			case "local":
				for _, b := range body.Blocks {
					if a := b.Body.Attributes[attr.Name]; b.Type == "locals" && a != nil {
						out = append(out, a.SrcRange)
						out = append(out, refRanges(files, a.Expr, depth+1)...)
					}
				}
			}
		}
	}
	return out
}

// firstChanged returns the first line of r among changed.
func firstChanged(changed map[int]bool, r hcl.Range) (int, bool) {
	for line := r.Start.Line; line <= r.End.Line; line++ {
		if changed[line] {
			return line, true
		}
	}
	return 0, false
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// parseSources parses the configuration files of cfg (not its variable files)
// by display name.
func parseSources(cfg *Config) map[string]*hclsyntax.Body {
	out := map[string]*hclsyntax.Body{}
	if cfg == nil {
		return out
	}
	for name, src := range cfg.Sources {
		if !strings.HasSuffix(name, FileSuffix) {
			continue
		}
		f, d := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
		if d.HasErrors() || f == nil {
			continue
		}
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			out[name] = body
		}
	}
	return out
}

// changedLines returns, per configuration file of head, the lines that are not
// in base's file of the same name (all of them for a new file).
func changedLines(base, head *Config) map[string]map[int]bool {
	out := map[string]map[int]bool{}
	if head == nil {
		return out
	}
	for name, src := range head.Sources {
		if !strings.HasSuffix(name, FileSuffix) {
			continue
		}
		var old []byte
		if base != nil {
			old = base.Sources[name]
		}
		out[name] = insertedLines(strings.Split(string(old), "\n"), strings.Split(string(src), "\n"))
	}
	return out
}

// maxDiffCells bounds the table of the line diff; past it every line between
// the common head and tail counts as changed.
const maxDiffCells = 4_000_000

// insertedLines returns the 1-based numbers of the lines of b that a longest
// common subsequence with a leaves out: those inserted or changed in b.
func insertedLines(a, b []string) map[int]bool {
	out := map[int]bool{}
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if len(ma)*len(mb) > maxDiffCells || len(ma) == 0 {
		for i := range mb {
			out[pre+i+1] = true
		}
		return out
	}
	// lcs[i][j] is the LCS length of ma[i:] and mb[j:].
	w := len(mb) + 1
	lcs := make([]int32, (len(ma)+1)*w)
	for i := len(ma) - 1; i >= 0; i-- {
		for j := len(mb) - 1; j >= 0; j-- {
			if ma[i] == mb[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for j < len(mb) {
		switch {
		case i < len(ma) && ma[i] == mb[j]:
			i, j = i+1, j+1
		case i < len(ma) && lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			i++
		default:
			out[pre+j+1] = true
			j++
		}
	}
	return out
}

// Texts of settings, as a reviewer reads them.

func quoted(s string) string { return fmt.Sprintf("%q", s) }

func registryText(r *Registry) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("%s group %s cluster %s", r.Provider, orDefault(r.Group, DefaultNacosGroup), orDefault(r.Cluster, DefaultNacosCluster))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func addressesText(as []Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func weightText(w *int) string {
	if w == nil {
		return "(the balancer's own)"
	}
	return fmt.Sprint(*w)
}

func balancerText(b *Balancer) string {
	return fmt.Sprintf("%s pool %q weight %s", b.Provider, b.Pool, weightText(b.Weight))
}

func strategyText(s *Strategy) string {
	if s == nil {
		return ""
	}
	switch s.Kind {
	case Rolling:
		switch {
		case s.Batch.Count > 0:
			return fmt.Sprintf("rolling, batch %d", s.Batch.Count)
		case s.Batch.Percent > 0:
			return fmt.Sprintf("rolling, batch %d%%", s.Batch.Percent)
		}
		return "rolling, batch by group"
	case BlueGreen:
		return fmt.Sprintf("blue_green, keep_standby %t", s.KeepStandby)
	case Canary:
		steps := make([]string, len(s.Steps))
		for i, st := range s.Steps {
			t := fmt.Sprintf("%d%%", st.Weight)
			switch {
			case st.PauseUntilResumed:
				t += " pause manual"
			case st.Pause > 0:
				t += " pause " + shortDuration(st.Pause)
			}
			if len(st.Analysis) > 0 {
				t += " analysis " + strings.Join(st.Analysis, "+")
			}
			steps[i] = t
		}
		return "canary " + strings.Join(steps, " → ")
	}
	return string(s.Kind)
}

func routeText(r *Route) string {
	return fmt.Sprintf("version %q match %s", r.Version, matchText(r.Match))
}

func matchText(m RouteMatch) string {
	var parts []string
	if len(m.ClientIP) > 0 {
		ips := slices.Clone(m.ClientIP)
		slices.Sort(ips)
		parts = append(parts, "client_ip=["+strings.Join(ips, ",")+"]")
	}
	if len(m.Header) > 0 {
		var hs []string
		for _, k := range slices.Sorted(maps.Keys(m.Header)) {
			hs = append(hs, k+"="+m.Header[k])
		}
		parts = append(parts, "header={"+strings.Join(hs, ",")+"}")
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, " ")
}

func drainText(d Drain) string {
	t := "timeout " + shortDuration(d.Timeout)
	if d.InFlight > 0 {
		t = "in_flight " + shortDuration(d.InFlight) + ", " + t
	}
	if d.Propagation != nil {
		t = "propagation " + shortDuration(*d.Propagation) + ", " + t
	}
	return t
}

// shortDuration renders "2m", not "2m0s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func analysisText(a *Analysis) string {
	return fmt.Sprintf("%s max %g no_data %s", a.HTTP, a.MaxValue, a.NoData)
}

// exprText is the source text of expr in cfg's files: deploy commands and
// health URLs are evaluated per instance, so their text is their meaning.
func exprText(cfg *Config, expr hcl.Expression) string {
	if cfg == nil || expr == nil {
		return ""
	}
	r := expr.Range()
	src := cfg.Sources[r.Filename]
	if r.Start.Byte < 0 || r.End.Byte > len(src) || r.Start.Byte > r.End.Byte {
		return ""
	}
	return strings.Join(strings.Fields(string(src[r.Start.Byte:r.End.Byte])), " ")
}

func (d *configDiff) deployText(cfg *Config, dp *Deploy) string {
	if dp == nil {
		return ""
	}
	t := "command " + exprText(cfg, dp.Command)
	if dp.Env != nil {
		t += ", env " + exprText(cfg, dp.Env)
	}
	return t + ", timeout " + shortDuration(dp.Timeout)
}

func (d *configDiff) healthText(cfg *Config, h *Health) string {
	if h == nil {
		return ""
	}
	return fmt.Sprintf("http %s expect %d interval %s timeout %s", exprText(cfg, h.HTTP), h.Expect, shortDuration(h.Interval), shortDuration(h.Timeout))
}

func (d *configDiff) verifyText(cfg *Config, v *Verify) string {
	if v == nil {
		return ""
	}
	t := "http " + exprText(cfg, v.HTTP)
	if v.Contains != nil {
		t += " contains " + exprText(cfg, v.Contains)
	}
	return fmt.Sprintf("%s expect %d timeout %s", t, v.Expect, shortDuration(v.Timeout))
}

// valueText renders a provider setting as JSON-like text.
func valueText(v cty.Value) string {
	if v == cty.NilVal {
		return ""
	}
	if !v.IsWhollyKnown() {
		return "(known at apply)"
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		return v.GoString()
	}
	return string(b)
}
