package nginx

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nonstop-release/nonstop/providers"
)

// upstreamsFile is the content of the file nonstop owns: pools with their members
// and the routes that choose between a pool and its per-route upstreams.
type upstreamsFile struct {
	pools []*pool // sorted by name
}

// pool is one `upstream` block with the `$nonstop_<pool>` variable that selects it.
type pool struct {
	name string
	// extra holds the block's other directives (keepalive, least_conn, zone...),
	// kept as written.
	extra   []*directive
	members []*member
	routes  []providers.Route // sorted by name
}

// member is one `server` line.
type member struct {
	addr   string
	weight int
	state  providers.MemberState
	// params are the server's other parameters (max_fails=3, backup...), kept as written.
	params []string
}

// findPool returns the pool called name, or nil.
func (f *upstreamsFile) findPool(name string) *pool {
	for _, p := range f.pools {
		if p.name == name {
			return p
		}
	}
	return nil
}

// addPool adds an empty pool, keeping pools sorted.
func (f *upstreamsFile) addPool(name string) *pool {
	p := &pool{name: name}
	f.pools = append(f.pools, p)
	sort.Slice(f.pools, func(i, j int) bool { return f.pools[i].name < f.pools[j].name })
	return p
}

// findMember returns the member with address addr, or nil.
func (p *pool) findMember(addr string) *member {
	for _, m := range p.members {
		if m.addr == addr {
			return m
		}
	}
	return nil
}

// live returns the pool's members in the live model.
func (p *pool) live() []providers.Member {
	out := make([]providers.Member, 0, len(p.members))
	for _, m := range p.members {
		out = append(out, providers.Member{Pool: p.name, Address: m.addr, Weight: m.weight, State: m.state})
	}
	return out
}

// clone returns a deep copy, so a write can be tried without touching f.
func (f *upstreamsFile) clone() *upstreamsFile {
	out := &upstreamsFile{}
	for _, p := range f.pools {
		c := &pool{name: p.name, extra: p.extra}
		for _, m := range p.members {
			cm := *m
			cm.params = append([]string(nil), m.params...)
			c.members = append(c.members, &cm)
		}
		for _, r := range p.routes {
			c.routes = append(c.routes, cloneRoute(r))
		}
		out.pools = append(out.pools, c)
	}
	return out
}

// memberHint is the machine-readable comment on a server line that records what
// nginx cannot express: a drain or maint state, or a weight of zero.
var memberHint = regexp.MustCompile(`^nonstop:((?:\s+(?:state|weight)=\S+)+)\s*$`)

// parseMember reads a `server` directive. The directive is the truth; the hint
// comment only refines a `down` member (its state) and a missing weight (zero).
func parseMember(d *directive) (*member, error) {
	if len(d.Args) == 0 {
		return nil, fmt.Errorf("line %d: server without an address", d.Line)
	}
	m := &member{addr: d.Args[0], weight: 1, state: providers.StateReady}
	down, hasWeight := false, false
	for _, a := range d.Args[1:] {
		switch {
		case a == "down":
			down = true
		case strings.HasPrefix(a, "weight="):
			w, err := strconv.Atoi(strings.TrimPrefix(a, "weight="))
			if err != nil || w < 1 {
				return nil, fmt.Errorf("line %d: invalid %q for server %s", d.Line, a, m.addr)
			}
			m.weight, hasWeight = w, true
		default:
			m.params = append(m.params, a)
		}
	}
	if !down {
		return m, nil
	}
	m.state = providers.StateDown
	hint := memberHint.FindStringSubmatch(d.Comment)
	if hint == nil {
		return m, nil
	}
	for _, kv := range strings.Fields(hint[1]) {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "state":
			switch s := providers.MemberState(v); s {
			case providers.StateReady, providers.StateDrain, providers.StateMaint, providers.StateDown:
				m.state = s
			}
		case "weight":
			if v == "0" && !hasWeight {
				m.weight = 0
			}
		}
	}
	if m.state == providers.StateReady && m.weight != 0 {
		// "ready" is only a hint for a zero weight; a hand-set down wins.
		m.state = providers.StateDown
	}
	return m, nil
}

// serverLine renders a member; hint adds the comment that keeps what nginx cannot
// express (route upstreams mirror the directive without it).
func (m *member) serverLine(hint bool) string {
	args := []string{"server", quoteArg(m.addr)}
	if m.weight > 0 {
		args = append(args, "weight="+strconv.Itoa(m.weight))
	}
	for _, p := range m.params {
		args = append(args, quoteArg(p))
	}
	serving := m.state == providers.StateReady && m.weight > 0
	if !serving {
		args = append(args, "down")
	}
	line := strings.Join(args, " ") + ";"
	if !hint || serving || (m.state == providers.StateDown && m.weight > 0) {
		return line
	}
	comment := "# nonstop:"
	if m.state != providers.StateDown {
		comment += " state=" + string(m.state)
	}
	if m.weight == 0 {
		comment += " weight=0"
	}
	return line + "  " + comment
}

// validAddress checks a member address enough to keep the file loadable.
func validAddress(addr string) error {
	if addr == "" || strings.ContainsAny(addr, " \t\r\n;{}#\"'\\$") {
		return fmt.Errorf("invalid member address %q", addr)
	}
	return nil
}
