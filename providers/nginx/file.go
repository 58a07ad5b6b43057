package nginx

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

// parseUpstreams reads the upstreams file back into pools, members and routes. It
// reads the real directives; comments only carry what nginx cannot express. A route
// counts only when its pool's selector map really sends traffic to it.
func parseUpstreams(src string) (*upstreamsFile, error) {
	ds, err := parseConf(src)
	if err != nil {
		return nil, err
	}
	f := &upstreamsFile{}
	blocks := map[string]*directive{} // geo and map blocks by the variable they set
	type routeUpstream struct {
		meta routeMeta
		d    *directive
	}
	var routeUps []routeUpstream
	for _, d := range ds {
		switch d.Name {
		case "upstream":
			if len(d.Args) != 1 || !d.HasBlock {
				return nil, fmt.Errorf("line %d: upstream needs one name and a block", d.Line)
			}
			meta, isRoute, err := routeMetaOf(d.Leading)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", d.Line, err)
			}
			if isRoute {
				routeUps = append(routeUps, routeUpstream{meta, d})
				continue
			}
			if f.findPool(d.Args[0]) != nil {
				return nil, fmt.Errorf("line %d: upstream %q is defined twice", d.Line, d.Args[0])
			}
			p := f.addPool(d.Args[0])
			for _, s := range d.Block {
				if s.Name != "server" {
					p.extra = append(p.extra, s)
					continue
				}
				m, err := parseMember(s)
				if err != nil {
					return nil, err
				}
				if p.findMember(m.addr) != nil {
					return nil, fmt.Errorf("line %d: server %s appears twice in upstream %q", s.Line, m.addr, p.name)
				}
				p.members = append(p.members, m)
			}
		case "geo", "map":
			if len(d.Args) < 1 || len(d.Args) > 2 || !d.HasBlock || !strings.HasPrefix(d.Args[len(d.Args)-1], "$") {
				return nil, fmt.Errorf("line %d: malformed %s block", d.Line, d.Name)
			}
			blocks[strings.TrimPrefix(d.Args[len(d.Args)-1], "$")] = d
		default:
			return nil, fmt.Errorf("line %d: unexpected directive %q in a file nonstop owns", d.Line, d.Name)
		}
	}
	for _, ru := range routeUps {
		p := f.findPool(ru.meta.Pool)
		if p == nil {
			return nil, fmt.Errorf("line %d: route upstream %q belongs to pool %q, which is not in the file",
				ru.d.Line, ru.d.Args[0], ru.meta.Pool)
		}
		if !selects(blocks[poolVar(p.name)], ru.d.Args[0]) {
			continue // declared but not wired into the selector: no traffic goes there
		}
		r, err := parseRoute(ru.meta, ru.d, blocks)
		if err != nil {
			return nil, err
		}
		p.routes = append(p.routes, r)
	}
	for _, p := range f.pools {
		sort.Slice(p.routes, func(i, j int) bool { return p.routes[i].Name < p.routes[j].Name })
	}
	return f, nil
}

// selects reports whether a selector map sends some requests to upstream.
func selects(selector *directive, upstream string) bool {
	if selector == nil {
		return false
	}
	for _, e := range selector.Block {
		if e.Name != "default" && len(e.Args) == 1 && e.Args[0] == upstream {
			return true
		}
	}
	return false
}

func parseRoute(meta routeMeta, up *directive, blocks map[string]*directive) (providers.Route, error) {
	r := providers.Route{Pool: meta.Pool, Name: meta.Name, Version: meta.Version}
	for _, s := range up.Block {
		if s.Name == "server" && len(s.Args) > 0 {
			r.Members = append(r.Members, s.Args[0])
		}
	}
	if geo := blocks[routeVar(meta.Pool, meta.Name)+"__ip"]; geo != nil {
		for _, e := range geo.Block {
			if e.Name == "default" {
				continue
			}
			if len(e.Args) != 1 {
				return r, fmt.Errorf("line %d: geo entry %q is not \"CIDR value\"", e.Line, e.Name)
			}
			if e.Args[0] == "1" {
				r.Match.ClientIP = append(r.Match.ClientIP, e.Name)
			}
		}
	}
	for i := 0; ; i++ {
		m := blocks[headerVar(meta.Pool, meta.Name, i)]
		if m == nil {
			break
		}
		name, err := headerNameFrom(m.Args[0], m.Leading)
		if err != nil {
			return r, fmt.Errorf("line %d: %v", m.Line, err)
		}
		for _, e := range m.Block {
			if e.Name == "default" || len(e.Args) != 1 || e.Args[0] != "1" {
				continue
			}
			v, err := parseExactValue(e.Name)
			if err != nil {
				return r, fmt.Errorf("line %d: %v", e.Line, err)
			}
			if r.Match.Header == nil {
				r.Match.Header = map[string]string{}
			}
			if _, dup := r.Match.Header[name]; dup {
				return r, fmt.Errorf("line %d: header %s has more than one value", e.Line, name)
			}
			r.Match.Header[name] = v
		}
	}
	for i := 0; ; i++ {
		m := blocks[numberVar(meta.Pool, meta.Name, i)]
		if m == nil {
			break
		}
		n, err := parseNumber(m)
		if err != nil {
			return r, err
		}
		r.Match.Numbers = append(r.Match.Numbers, n)
	}
	return r, nil
}

const fileHeader = `# Managed by nonstop (%s): it rewrites this file on every change.
# Weights and "down" flags edited here are read back as live state; comments
# starting with "nonstop:" record what nginx cannot express.
# Include this file in the http block and proxy with: proxy_pass http://$nonstop_<pool>;
`

// render writes the file. Names that would collide as nginx names are an error.
func (f *upstreamsFile) render(provider string) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, fileHeader, provider)
	seen := map[string]string{} // nginx name → what claimed it
	claim := func(name, what string) error {
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("%s and %s both become nginx name %q", prev, what, name)
		}
		seen[name] = what
		return nil
	}
	for _, p := range f.pools {
		if len(p.members) == 0 {
			return nil, fmt.Errorf("pool %q has no members; nginx refuses an empty upstream", p.name)
		}
		if err := claim(p.name, "pool "+p.name); err != nil {
			return nil, err
		}
		if err := claim(poolVar(p.name), "pool "+p.name); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\nupstream %s {\n", quoteArg(p.name))
		for _, d := range p.extra {
			renderDirective(&b, d, "    ")
		}
		for _, m := range p.members {
			fmt.Fprintf(&b, "    %s\n", m.serverLine(true))
		}
		b.WriteString("}\n")
		for _, r := range p.routes {
			what := fmt.Sprintf("route %s of pool %s", r.Name, p.name)
			if err := claim(routeUpstream(p.name, r.Name), what); err != nil {
				return nil, err
			}
			if err := claim(routeVar(p.name, r.Name), what); err != nil {
				return nil, err
			}
			renderRoute(&b, p, r)
		}
		renderSelector(&b, p)
	}
	return []byte(b.String()), nil
}

func renderRoute(b *strings.Builder, p *pool, r providers.Route) {
	meta, _ := json.Marshal(routeMeta{Pool: p.name, Name: r.Name, Version: r.Version})
	fmt.Fprintf(b, "\n# %s%s\nupstream %s {\n", routeMetaPrefix, meta, routeUpstream(p.name, r.Name))
	for _, addr := range r.Members {
		// A route member mirrors its pool state (drain, maint and down take it
		// out of the route too) but not a pool weight of 0, which only keeps it
		// out of the pool's own traffic, as a canary's members are.
		m := &member{addr: addr, weight: 1, state: providers.StateReady}
		if pm := p.findMember(addr); pm != nil {
			m.state, m.params = pm.state, pm.params
			m.weight = max(pm.weight, 1)
		}
		fmt.Fprintf(b, "    %s\n", m.serverLine(false))
	}
	b.WriteString("}\n")
	rv := routeVar(p.name, r.Name)
	var conds []string
	if len(r.Match.ClientIP) > 0 {
		fmt.Fprintf(b, "geo $%s__ip {\n    default 0;\n", rv)
		for _, c := range r.Match.ClientIP {
			fmt.Fprintf(b, "    %s 1;\n", quoteArg(c))
		}
		b.WriteString("}\n")
		conds = append(conds, "$"+rv+"__ip")
	}
	for i, h := range headerNames(r) {
		hv := headerVar(p.name, r.Name, i)
		fmt.Fprintf(b, "# nonstop: header=%s\nmap %s $%s {\n    default 0;\n    %s 1;\n}\n",
			h, headerSource(h), hv, quoteArg(exactValue(r.Match.Header[h])))
		conds = append(conds, "$"+hv)
	}
	for i, n := range r.Match.Numbers {
		conds = append(conds, renderNumber(b, p.name, r.Name, i, n))
	}
	fmt.Fprintf(b, "map %s $%s {\n    default 0;\n    %s 1;\n}\n",
		quoteArg(strings.Join(conds, "")), rv, strings.Repeat("1", len(conds)))
}

// renderSelector writes the map that sets $nonstop_<pool>: the first route (by
// name) whose conditions all hold wins, else the pool itself.
func renderSelector(b *strings.Builder, p *pool) {
	if len(p.routes) == 0 {
		fmt.Fprintf(b, "map $host $%s {\n    default %s;\n}\n", poolVar(p.name), quoteArg(p.name))
		return
	}
	var src []string
	for _, r := range p.routes {
		src = append(src, "$"+routeVar(p.name, r.Name))
	}
	fmt.Fprintf(b, "\nmap %s $%s {\n    default %s;\n", quoteArg(strings.Join(src, "")), poolVar(p.name), quoteArg(p.name))
	for i, r := range p.routes {
		fmt.Fprintf(b, "    %s %s;\n", quoteArg("~^"+strings.Repeat("0", i)+"1"), routeUpstream(p.name, r.Name))
	}
	b.WriteString("}\n")
}

// renderDirective writes a directive kept as the operator wrote it.
func renderDirective(b *strings.Builder, d *directive, indent string) {
	args := []string{d.Name}
	for _, a := range d.Args {
		args = append(args, quoteArg(a))
	}
	line := indent + strings.Join(args, " ")
	if !d.HasBlock {
		fmt.Fprintf(b, "%s;\n", line)
		return
	}
	fmt.Fprintf(b, "%s {\n", line)
	for _, c := range d.Block {
		renderDirective(b, c, indent+"    ")
	}
	fmt.Fprintf(b, "%s}\n", indent)
}

// sortedRoutes returns routes sorted by name.
func sortedRoutes(rs []providers.Route) []providers.Route {
	out := slices.Clone(rs)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
